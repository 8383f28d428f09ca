import { LOG_EVENT_SECTIONS } from './events.ts';
import { ADMIN_HTTP_CODES, CONSOLE_HTTP_CODES, PICKUP_HTTP_CODES } from './http.ts';
import { SMTP_CODES } from './smtp.ts';

/**
 * The code registry: every stable code Sealpost answers or logs, in one place (core/codes/). SMTP replies
 * (smtp.ts), the HTTP answers of the pickup and admin APIs (http.ts) and the log events (events.ts).
 * docs/codes.md is generated from it (`npm run codes`, core/codes/doc.ts) and a test fails when it differs.
 * Call sites never write a status, a reply text or a message of their own: core/errors.ts,
 * webmail/api/http.ts and webmail/admin-http.ts build the answers from these tables.
 */
export { SMTP_CODES, type SmtpCodeRow } from './smtp.ts';
export { ADMIN_HTTP_CODES, CONSOLE_HTTP_CODES, PICKUP_HTTP_CODES, type HttpCodeRow } from './http.ts';
export { LOG_EVENT_SECTIONS, type LogEventRow, type LogEventSection } from './events.ts';

export type SmtpCode = keyof typeof SMTP_CODES;
export type PickupHttpCode = keyof typeof PICKUP_HTTP_CODES;
export type AdminHttpCode = keyof typeof ADMIN_HTTP_CODES;
export type ConsoleHttpCode = keyof typeof CONSOLE_HTTP_CODES;
/** A code logged as an event (some are also an SMTP reply or an HTTP answer). */
export type LogEventCode = (typeof LOG_EVENT_SECTIONS)[number]['events'][number]['codes'][number];

/** Every code of the registry (replies, answers and events), for checks. */
export function allCodes(): Set<string> {
  return new Set<string>([
    ...Object.keys(SMTP_CODES),
    ...Object.keys(PICKUP_HTTP_CODES),
    ...Object.keys(ADMIN_HTTP_CODES),
    ...Object.keys(CONSOLE_HTTP_CODES),
    ...LOG_EVENT_SECTIONS.flatMap((s) => s.events.flatMap((e) => e.codes)),
  ]);
}
