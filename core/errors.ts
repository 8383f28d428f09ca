import { SMTP_CODES } from './codes/index.ts';

/**
 * SMTP replies from the code registry (core/codes/smtp.ts). Tests assert on codes, never on text. Replies
 * are built only from the registry (never at call sites): `smtpError(code)` gives an Error that
 * smtp-server answers with `responseCode` and the message.
 */
export const CODES = SMTP_CODES;
export type Code = keyof typeof CODES;

/** An error with a stable code that smtp-server can answer as an SMTP reply. */
export class SealpostError extends Error {
  readonly code: Code;
  readonly responseCode: number;
  constructor(code: Code, detail?: string) {
    const row = CODES[code];
    super(`${row.enhanced} ${row.text}${detail ? ` (${detail})` : ''} [${code}]`);
    this.name = 'SealpostError';
    this.code = code;
    this.responseCode = row.smtp;
  }
}

export function smtpError(code: Code, detail?: string): SealpostError {
  return new SealpostError(code, detail);
}

/** A whole reply line (`421 4.7.0 … [CODE]`), for a socket that never reaches smtp-server's session. */
export function smtpReplyLine(code: Code): string {
  return `${CODES[code].smtp} ${new SealpostError(code).message}\r\n`;
}

export function isSealpostError(err: unknown): err is SealpostError {
  return err instanceof SealpostError;
}

/** What happens to the copies of one verdict group, for the 250 to DATA (finding 6c of issue 11). */
export const ACCEPTED_GROUPS = {
  pgp: 'encrypted with OpenPGP',
  pickup: 'encrypted for secure pickup (the recipient gets a link)',
  plain: 'in clear over TLS under a policy rule',
} as const;

/**
 * The 250 to DATA: GW_ACCEPTED when every copy is encrypted, GW_ACCEPTED_PLAIN when a rule lets some go in
 * clear, with how many copies go which way, e.g. `(1 encrypted with OpenPGP, 1 in clear over TLS under a
 * policy rule, batch …)`.
 */
export function acceptedReply(
  counts: Readonly<Record<keyof typeof ACCEPTED_GROUPS, number>>,
  batchId: string,
): SealpostError {
  const groups = (Object.keys(ACCEPTED_GROUPS) as (keyof typeof ACCEPTED_GROUPS)[])
    .filter((g) => counts[g] > 0)
    .map((g) => `${counts[g]} ${ACCEPTED_GROUPS[g]}`);
  const code = counts.plain > 0 ? 'GW_ACCEPTED_PLAIN' : 'GW_ACCEPTED';
  return smtpError(code, [...groups, `batch ${batchId}`].join(', '));
}

export function isTemporary(code: Code): boolean {
  return CODES[code].smtp >= 400 && CODES[code].smtp < 500;
}
