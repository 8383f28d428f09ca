import type { SMTPServerSession } from 'smtp-server';
import { isSealpostError, smtpError, type Code, type SealpostError } from '../core/errors.ts';
import { errName, type EventCode, type Log } from '../core/log.ts';

/**
 * The SMTP plumbing both listeners (submission and inbound) share: how an error becomes an SMTP reply and
 * how a stage answers smtp-server's callback. ("Reply" here is the SMTP server's answer; an e-mail reply
 * is worker/reply.ts and webmail/api/replies.ts.) Each listener is one SmtpListener: its log and its codes.
 */
export interface ReplyCodes {
  /** Logged (by class name only) for an unexpected failure. */
  internal: EventCode;
  /** Answered for it: 451, the client keeps the message and retries. */
  temporary: Code;
}

/** The refusals at the edge (gateway/edge.ts), per listener. */
export interface EdgeCodes {
  /** 550 5.6.0: no header section at all. */
  invalid: Code;
  /** 550 5.6.0: a header that two readers could read differently. */
  ambiguous: Code;
  /** 552 5.3.4: more header than MAX_HEADER_BYTES / MAX_HEADER_FIELDS. */
  headerTooBig: Code;
  /** 552 5.3.4: more message than `limits.maxMessageBytes`. */
  sizeExceeded: Code;
}

/** One SMTP listener as the shared plumbing sees it. */
export interface SmtpListener {
  readonly log: Log;
  readonly codes: { reply: ReplyCodes; edge: EdgeCodes };
}

/**
 * Our own SealpostError as it is; anything else (a database or library failure) logged by class name only
 * under `internal` and answered with `temporary` (451) — never a 5xx that would make the client give up,
 * never the foreign message (it may quote content).
 */
export function toSmtpReply(listener: SmtpListener, session: SMTPServerSession, err: unknown): SealpostError {
  if (isSealpostError(err)) return err;
  listener.log.error(listener.codes.reply.internal, { session: session.id, errName: errName(err) });
  return smtpError(listener.codes.reply.temporary);
}

/** Run an async stage and answer smtp-server's callback exactly once. */
export function answer(
  listener: SmtpListener,
  session: SMTPServerSession,
  run: () => Promise<void>,
  callback: (err?: Error | null) => void,
): void {
  run().then(
    () => callback(),
    (err: unknown) => callback(toSmtpReply(listener, session, err)),
  );
}

/** Run DATA and answer with its reply text, or the error's reply. */
export function answerData(
  listener: SmtpListener,
  session: SMTPServerSession,
  run: () => Promise<string>,
  callback: (err?: Error | null, message?: string) => void,
): void {
  run().then(
    (reply) => callback(null, reply),
    (err: unknown) => callback(toSmtpReply(listener, session, err)),
  );
}
