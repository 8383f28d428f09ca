import type { SMTPServerSession } from 'smtp-server';
import { isSealpostError, smtpError, type Code, type SealpostError } from '../core/errors.ts';
import { errName, type EventCode, type Log } from '../core/log.ts';

/**
 * How both SMTP listeners (submission and inbound) answer smtp-server's callbacks: our own SealpostError
 * as it is; anything else (a database or library failure) logged by class name only under `internal` and
 * answered with `temporary` (451) — never a 5xx that would make the client give up, never the foreign
 * message (it may quote content). Each listener passes its own pair of codes.
 */
export interface ReplyCodes {
  internal: EventCode;
  temporary: Code;
}

export function toSmtpReply(
  log: Log,
  session: SMTPServerSession,
  err: unknown,
  codes: ReplyCodes,
): SealpostError {
  if (isSealpostError(err)) return err;
  log.error(codes.internal, { session: session.id, errName: errName(err) });
  return smtpError(codes.temporary);
}

/** Run an async stage and answer smtp-server's callback exactly once. */
export function answerWith(
  log: Log,
  codes: ReplyCodes,
  session: SMTPServerSession,
  run: () => Promise<void>,
  callback: (err?: Error | null) => void,
): void {
  run().then(
    () => callback(),
    (err: unknown) => callback(toSmtpReply(log, session, err, codes)),
  );
}

/** Run DATA and answer with its reply text, or the error's reply. */
export function answerData(
  log: Log,
  codes: ReplyCodes,
  session: SMTPServerSession,
  run: () => Promise<string>,
  callback: (err?: Error | null, message?: string) => void,
): void {
  run().then(
    (reply) => callback(null, reply),
    (err: unknown) => callback(toSmtpReply(log, session, err, codes)),
  );
}
