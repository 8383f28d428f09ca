import { SERVICE_EVENTS } from './events/services.ts';
import { ADMIN_API_EVENTS, CONSOLE_EVENTS } from './events/web.ts';
import { DISCOVERY_EVENTS, INBOUND_EVENTS, KEY_STORE_EVENTS } from './events/inbound-keys.ts';

/**
 * Log events (core/log.ts): one row per event, or per group of events logged at the same point. A log line
 * carries only the fields of `LogFields`; `meaning` says which, for docs/codes.md.
 */
export interface LogEventRow {
  readonly codes: readonly string[];
  /** info, warn, error, debug; `a/b` when it depends; `—` for a code that is only a body code. */
  readonly level: string;
  readonly meaning: string;
}

export interface LogEventSection {
  readonly title: string;
  /** Markdown printed above the section's table (may be empty). */
  readonly intro: string;
  readonly events: readonly LogEventRow[];
}

/** The sections in the order docs/codes.md shows them; each lives in events/ by the part that logs it. */
export const LOG_EVENT_SECTIONS = [
  SERVICE_EVENTS,
  ADMIN_API_EVENTS,
  CONSOLE_EVENTS,
  INBOUND_EVENTS,
  KEY_STORE_EVENTS,
  DISCOVERY_EVENTS,
] as const satisfies readonly LogEventSection[];
