import { pino, type DestinationStream, type Logger } from 'pino';
import type { AdminHttpCode, LogEventCode, PickupHttpCode, SmtpCode } from './codes/index.ts';

/**
 * Logging that cannot carry content. The only fields a log line may have are the ones named here, and
 * their values are scalars: no subject, body, attachment name, access code, key or password can be
 * passed without a type error. Free text is not accepted at all; events are identified by a code.
 * As a second line of defence, pino's redaction blanks any of the forbidden names should one slip in.
 */
export interface LogFields {
  id?: string; // a message, job or row id (UUID)
  msgId?: string;
  jobId?: string;
  user?: string; // login of a sender (an address)
  from?: string; // envelope sender
  rcpt?: string; // envelope recipient
  remote?: string; // remote IP
  session?: string; // smtp-server session id
  verdict?: string;
  reason?: string; // a Code or a policy rule id, never text from a message
  fingerprint?: string;
  bytes?: number;
  count?: number;
  ms?: number;
  attempt?: number;
  port?: number;
  smtpCode?: number; // reply code from a remote server (not its text)
  category?: string;
  errName?: string; // error class name only; messages of foreign errors may quote content
  service?: string;
  path?: string; // filesystem path of our own files (data dir, outbox), never of user content
  pid?: number; // a process id of our own (the local redis-server)
  mode?: string; // a file mode change of our own files, e.g. 0644->0600
  contact?: string; // a pickup contact's id (UUID), never its code or key
  source?: string; // where a recipient key came from or was looked for: admin, wkd-advanced, vks, …
  url?: string; // a key directory URL we fetched (WKD, VKS); never a pickup link
  status?: number; // an HTTP status a key directory answered
  problem?: string; // why a key is unusable (a KeyProblem) or a lookup failed ('timeout', …)
  decision?: string; // an admin's decision (approve, reject)
  outcome?: string; // what recording a key did (stored, known, held, replaced, rejected)
}

/** A code of the registry (core/codes/): a log line names no event that docs/codes.md does not list. */
export type EventCode = SmtpCode | LogEventCode | PickupHttpCode | AdminHttpCode;

export interface Log {
  info(code: EventCode, fields?: LogFields): void;
  warn(code: EventCode, fields?: LogFields): void;
  error(code: EventCode, fields?: LogFields): void;
  debug(code: EventCode, fields?: LogFields): void;
  child(fields: LogFields): Log;
}

const REDACT = [
  'subject',
  'body',
  'text',
  'html',
  'password',
  'pass',
  'code_plain',
  'accessCode',
  'key',
  'privateKey',
  'attachments',
  'filename',
  'err.message',
  'err.stack',
];

function wrap(logger: Logger): Log {
  return {
    info: (code, fields) => logger.info({ code, ...fields }),
    warn: (code, fields) => logger.warn({ code, ...fields }),
    error: (code, fields) => logger.error({ code, ...fields }),
    debug: (code, fields) => logger.debug({ code, ...fields }),
    child: (fields) => wrap(logger.child(fields)),
  };
}

export function createLog(options: { level?: string; destination?: DestinationStream } = {}): Log {
  const logger = pino(
    {
      level: options.level ?? 'info',
      base: { pid: process.pid },
      redact: { paths: REDACT, censor: '[redacted]' },
      formatters: { level: (label) => ({ level: label }) },
    },
    options.destination ?? pino.destination({ fd: 1, sync: false }),
  );
  return wrap(logger);
}

/** A log that drops everything; for CLI commands whose output is for a person. */
export const silentLog: Log = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
  child: () => silentLog,
};

/** The name of an error's class, safe to log (never its message: foreign messages may quote content). */
export function errName(err: unknown): string {
  if (err instanceof Error && 'code' in err && typeof err.code === 'string') {
    return `${err.name}:${err.code}`;
  }
  return err instanceof Error ? err.name : typeof err;
}
