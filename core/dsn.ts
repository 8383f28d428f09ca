import { randomBytes } from 'node:crypto';
import { CODES, type Code } from './errors.ts';
import { rfc5322Date } from './rfc5322-date.ts';
import type { Config } from './config.ts';
import { newMessageId } from './ids.ts';
import type { Sealer } from './seal.ts';
import { outboundRow, type NewOutboundRow, type OutboundRow } from './store/outbound.ts';

/**
 * RFC 3464 delivery status notifications. Invariant (DESIGN.md 2): a bounce never holds content. The
 * returned headers are limited to Message-ID, Date, From and To (no Subject, no body), and the
 * Diagnostic-Code holds only the numeric reply code and our code, never the remote text, which may quote
 * the message.
 */
export interface DsnInput {
  hostname: string; // Reporting-MTA and the From domain
  messageId: string; // the DSN's own Message-ID, with angle brackets
  date: Date;
  sender: string; // the original envelope sender: the DSN's recipient
  recipient: string; // the original recipient that failed
  code: Code; // our code for the failure
  smtpCode: number | null; // the remote reply code, when there was one
  enhanced: string | null; // the remote enhanced status code, when it was a permanent one
  original: Buffer | null; // the original outgoing bytes: only the harmless headers are copied
}

const HARMLESS_HEADERS = ['message-id', 'date', 'from', 'to'] as const;
// RFC 5322 limits a line to 998 octets; a header we copy is cut there so a hostile one cannot grow the DSN.
const MAX_HEADER = 998;
// Only the header section is read; 256 KiB is far beyond any real one and bounds the work on odd input.
const MAX_HEADER_SECTION = 256 * 1024;

/** The harmless headers of a message, unfolded, in their original order, at most one of each. */
export function harmlessHeaders(raw: Buffer): string[] {
  const head = raw.subarray(0, MAX_HEADER_SECTION).toString('latin1');
  const end = head.search(/\r?\n\r?\n/);
  const section = end < 0 ? head : head.slice(0, end);
  const lines = section.split(/\r?\n(?![ \t])/).map((l) => l.replace(/\r?\n[ \t]+/g, ' '));
  const seen = new Set<string>();
  const out: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    if (!(HARMLESS_HEADERS as readonly string[]).includes(name) || seen.has(name)) continue;
    // A CR or NUL left after unfolding is a field hidden inside this one (`From: a\rSubject: …`, which a
    // relay splits into two): drop the line rather than glue the hidden field's text into the bounce.
    // eslint-disable-next-line no-control-regex
    if (/[\r\n\x00]/.test(line)) continue;
    seen.add(name);
    out.push(line.slice(0, MAX_HEADER));
  }
  return out;
}

function status(input: DsnInput): string {
  // Action: failed needs a 5.x.x status; a remote 4.x.x that ran into expiry reports ours (5.4.7).
  if (input.enhanced && input.enhanced.startsWith('5.')) return input.enhanced;
  return CODES[input.code].enhanced.startsWith('5.') ? CODES[input.code].enhanced : '5.0.0';
}

function humanPart(input: DsnInput, statusCode: string): string {
  const reply = input.smtpCode ? String(input.smtpCode) : '-';
  return [
    'Diese Nachricht konnte nicht zugestellt werden.',
    '',
    `  Empfänger:  ${input.recipient}`,
    `  Status:     ${statusCode} (SMTP ${reply}, ${input.code})`,
    '',
    'Der Inhalt der Nachricht ist in dieser Benachrichtigung nicht enthalten.',
    'Bitte prüfen Sie die Adresse und senden Sie die Nachricht aus Ihrem',
    'Ordner "Gesendet" erneut.',
    '',
    '----',
    '',
    'This message could not be delivered.',
    '',
    `  Recipient:  ${input.recipient}`,
    `  Status:     ${statusCode} (SMTP ${reply}, ${input.code})`,
    '',
    'The content of the message is not included in this notification.',
    'Please check the address and resend the message from your Sent folder.',
  ].join('\r\n');
}

/** The bytes of a UTF-8 string as a latin1 string, so the whole DSN can be assembled byte-exact. */
function octets(text: string): string {
  return Buffer.from(text.replace(/[\r\n]/g, ''), 'utf8').toString('latin1');
}

function qp(text: string): string {
  // Quoted-printable for the German text: encode every non-ASCII byte and '='; lines stay short.
  return Buffer.from(text, 'utf8')
    .toString('latin1')
    .split('\r\n')
    .map((line) => line.replace(/[=\x80-\xff]/g, (c) => `=${c.charCodeAt(0).toString(16).toUpperCase()}`))
    .join('\r\n');
}

/** Build the DSN bytes (CRLF line ends, 7-bit). */
export function buildDsn(input: DsnInput): Buffer {
  const boundary = `=_sealpost_dsn_${randomBytes(12).toString('hex')}`;
  const statusCode = status(input);
  const diagnostic = `smtp; ${input.smtpCode ?? CODES[input.code].smtp} (${input.code})`;
  const headers = input.original ? harmlessHeaders(input.original) : [];
  const lines = [
    `From: Mail Delivery System <MAILER-DAEMON@${input.hostname}>`,
    `To: <${octets(input.sender)}>`,
    'Subject: =?utf-8?Q?Unzustellbar_/_Undeliverable?=',
    `Date: ${rfc5322Date(input.date)}`,
    `Message-ID: ${input.messageId}`,
    'Auto-Submitted: auto-replied',
    'MIME-Version: 1.0',
    `Content-Type: multipart/report; report-type=delivery-status; boundary="${boundary}"`,
    '',
    'This is a delivery status notification (RFC 3464).',
    '',
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: quoted-printable',
    '',
    qp(humanPart(input, statusCode)),
    '',
    `--${boundary}`,
    'Content-Type: message/delivery-status',
    '',
    `Reporting-MTA: dns; ${input.hostname}`,
    '',
    `Final-Recipient: rfc822; ${octets(input.recipient)}`,
    'Action: failed',
    `Status: ${statusCode}`,
    `Diagnostic-Code: ${diagnostic}`,
    '',
    `--${boundary}`,
    'Content-Type: text/rfc822-headers',
    '',
    ...headers,
    '',
    `--${boundary}--`,
    '',
  ];
  return Buffer.from(lines.join('\r\n'), 'latin1');
}

/**
 * The outbound row of the DSN for a failed (or cancelled) row: to the original envelope sender, from the
 * null sender, in the original's batch. The worker builds it at a bounce, the console at a cancel.
 */
export function dsnOutboundRow(
  deps: { sealer: Sealer; config: Pick<Config, 'delivery' | 'hostname'> },
  row: Pick<OutboundRow, 'batch_id' | 'user_id' | 'envelope_from' | 'recipient'>,
  raw: Buffer | null,
  failure: { code: Code; smtpCode: number | null; enhanced: string | null },
  date: Date,
): NewOutboundRow {
  const messageId = newMessageId(deps.config.hostname);
  const bytes = buildDsn({
    hostname: deps.config.hostname,
    messageId,
    date,
    sender: row.envelope_from,
    recipient: row.recipient,
    code: failure.code,
    smtpCode: failure.smtpCode,
    enhanced: failure.enhanced,
    original: raw,
  });
  return outboundRow(
    deps,
    {
      batchId: row.batch_id,
      kind: 'dsn',
      userId: row.user_id,
      envelopeFrom: '',
      recipient: row.envelope_from,
      messageId,
      parts: bytes,
    },
    date.getTime(),
  );
}

/** Never bounce a bounce: a DSN that fails, or mail with the null sender, gets no DSN of its own. */
export function wantsDsn(row: Pick<OutboundRow, 'kind' | 'envelope_from'>): boolean {
  return row.kind !== 'dsn' && row.envelope_from !== '';
}
