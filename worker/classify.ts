import type { Code } from '../core/errors.ts';

/**
 * Classification of a delivery failure by data, not branches (as zone-mta does): one table of rows, the
 * first row whose every given test matches wins. The facts are only the numeric reply code, the enhanced
 * status code (RFC 3463) and the error code of the client library or the OS — never the remote text
 * beyond its leading status code, which we neither log nor store.
 */
export type Action = 'defer' | 'reject';

export interface Classification {
  action: Action;
  code: Code;
  /** The remote reply code, when the failure was a reply. */
  smtpCode: number | null;
  /** The remote enhanced status code (e.g. '5.1.1'), when the reply carried one. */
  enhanced: string | null;
}

interface Facts {
  reply: string; // three digits, or '' when there was no reply
  enhanced: string; // 'x.y.z', or ''
  errors: string[]; // error codes of the error and its causes, e.g. 'EENVELOPE', 'ECONNREFUSED'
}

interface Row {
  reply?: RegExp;
  enhanced?: RegExp;
  error?: RegExp;
  action: Action;
  code: Code;
}

const TLS_ERRORS =
  /^(ETLS|EREQUIRETLS|EPROTO|ERR_TLS_.*|ERR_SSL_.*|CERT_.*|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_.*|HOSTNAME_MISMATCH)$/;
const NETWORK_ERRORS =
  /^(ECONNREFUSED|ECONNRESET|ECONNABORTED|ECONNECTION|EHOSTUNREACH|EHOSTDOWN|ENETUNREACH|ENETDOWN|ETIMEDOUT|ETIMEOUT|ESOCKET|EDNS|ENOTFOUND|EAI_AGAIN|EAI_FAIL|ENODATA|ESERVFAIL|EPIPE|EPROXY)$/;

/** The table. Order matters: the first match wins. */
export const RULES: readonly Row[] = [
  // Our side of TLS failed (handshake, certificate, STARTTLS refused or missing): never fall back.
  { error: TLS_ERRORS, action: 'defer', code: 'DLV_DEFER_TLS' },
  // The relay refused our credentials: a configuration problem the admin can fix before expiry.
  { error: /^(EAUTH|ENOAUTH)$/, action: 'defer', code: 'DLV_DEFER_AUTH' },
  // 503 is a bad command sequence, not a verdict on the message; a new session may succeed.
  { reply: /^503$/, action: 'defer', code: 'DLV_DEFER_TEMPORARY' },
  // Permanent replies, by enhanced status (RFC 3463 subject.detail).
  { reply: /^5/, enhanced: /^5\.1\.\d+$/, action: 'reject', code: 'DLV_REJECT_RECIPIENT' },
  { reply: /^5/, enhanced: /^5\.2\.[12]$/, action: 'reject', code: 'DLV_REJECT_RECIPIENT' },
  { reply: /^5/, enhanced: /^5\.(2\.3|3\.4)$/, action: 'reject', code: 'DLV_REJECT_SIZE' },
  { reply: /^552$/, enhanced: /^$/, action: 'reject', code: 'DLV_REJECT_SIZE' },
  { reply: /^5/, enhanced: /^5\.7\.\d+$/, action: 'reject', code: 'DLV_REJECT_POLICY' },
  { reply: /^55[03]$/, enhanced: /^$/, action: 'reject', code: 'DLV_REJECT_RECIPIENT' },
  // Any other 5xx is permanent; any 4xx temporary (greylisting, quota, rate limits, 421 shutdown).
  { reply: /^5\d\d$/, action: 'reject', code: 'DLV_REJECT_PERMANENT' },
  { reply: /^4\d\d$/, action: 'defer', code: 'DLV_DEFER_TEMPORARY' },
  // No usable reply: the network or DNS failed.
  { error: NETWORK_ERRORS, action: 'defer', code: 'DLV_DEFER_NETWORK' },
  // Anything else (a 2xx/3xx where another was expected, a protocol error, an unknown error): retry.
  { action: 'defer', code: 'DLV_DEFER_TEMPORARY' },
];

const ENHANCED = /^[245]\d\d[ -]([245]\.\d{1,3}\.\d{1,3})(?:\s|$)/;

function errorCodes(err: unknown): string[] {
  const codes: string[] = [];
  let current: unknown = err;
  // Causes nest at most a few levels; the bound keeps a cyclic `cause` chain from looping forever.
  for (let depth = 0; depth < 4 && current && typeof current === 'object'; depth++) {
    // nodemailer keeps the OS/TLS code of a socket error in `originalCode` (code is then 'ESOCKET').
    const { code, originalCode } = current as { code?: unknown; originalCode?: unknown };
    if (typeof code === 'string') codes.push(code);
    if (typeof originalCode === 'string') codes.push(originalCode);
    current = (current as { cause?: unknown }).cause;
  }
  return codes;
}

/** Extract the facts the table looks at; tolerant of anything thrown (strings, null, plain objects). */
export function factsOf(err: unknown): Facts {
  const obj = err && typeof err === 'object' ? (err as { responseCode?: unknown; response?: unknown }) : {};
  const n = typeof obj.responseCode === 'number' ? obj.responseCode : NaN;
  const reply = Number.isInteger(n) && n >= 200 && n <= 599 ? String(n) : '';
  const response = typeof obj.response === 'string' ? obj.response.slice(0, 64) : '';
  const match = reply && response.startsWith(reply) ? ENHANCED.exec(response) : null;
  // RFC 3463: the enhanced class must agree with the reply class; if it does not, ignore it.
  const enhanced = match?.[1] && match[1][0] === reply[0] ? match[1] : '';
  return { reply, enhanced, errors: errorCodes(err) };
}

function matches(row: Row, facts: Facts): boolean {
  if (row.reply && !row.reply.test(facts.reply)) return false;
  if (row.enhanced && !row.enhanced.test(facts.enhanced)) return false;
  if (row.error && !facts.errors.some((c) => row.error?.test(c))) return false;
  return true;
}

/** Classify a failed delivery attempt. Never throws. */
export function classify(err: unknown): Classification {
  const facts = factsOf(err);
  const row = RULES.find((r) => matches(r, facts)) ?? (RULES[RULES.length - 1] as Row);
  return {
    action: row.action,
    code: row.code,
    smtpCode: facts.reply ? Number(facts.reply) : null,
    enhanced: facts.enhanced || null,
  };
}
