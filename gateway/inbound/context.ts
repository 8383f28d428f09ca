import type { SMTPServerSession } from 'smtp-server';
import type { CoreDeps } from '../../core/deps.ts';
import { isSealpostError, smtpError, type SealpostError } from '../../core/errors.ts';
import { errName } from '../../core/log.ts';
import type { KeyStore } from '../../keys/index.ts';
import { createRelay, type Relay } from './relay.ts';

/** What the inbound listener is built from; only main (or a test) binds its port. */
export interface InboundDeps extends CoreDeps {
  readonly keys: KeyStore;
  readonly tls: { key: string | Buffer; cert: string | Buffer };
  /** The client to the practice's mail server; default: nodemailer to config.inboundRelay. */
  readonly relay?: Relay;
}

export interface InboundContext {
  readonly deps: InboundDeps;
  readonly relay: Relay;
  readonly sessions: WeakMap<SMTPServerSession, InboundTransaction>;
}

/** One mail transaction (MAIL FROM … DATA): the envelope as accepted. */
export interface InboundTransaction {
  mailFrom: string; // normalised; '' is the null sender
  recipients: string[]; // normalised local addresses
}

export function createInboundContext(deps: InboundDeps): InboundContext {
  const relayUrl = deps.config.inboundRelay;
  if (!deps.relay && !relayUrl) throw new Error('the inbound listener needs SEALPOST_INBOUND_RELAY');
  return {
    deps,
    relay: deps.relay ?? createRelay(deps.config, relayUrl!),
    sessions: new WeakMap(),
  };
}

/**
 * The reply for an error thrown while handling a command: our own SealpostError as it is; anything else
 * is logged by class name only and answered 451 (the sending MTA keeps the message and retries).
 */
export function toReply(ctx: InboundContext, session: SMTPServerSession, err: unknown): SealpostError {
  if (isSealpostError(err)) return err;
  ctx.deps.log.error('IN_INTERNAL_ERROR', { session: session.id, errName: errName(err) });
  return smtpError('IN_TEMP_FAILURE');
}

export function answer(
  ctx: InboundContext,
  session: SMTPServerSession,
  run: () => Promise<void>,
  callback: (err?: Error | null) => void,
): void {
  run().then(
    () => callback(),
    (err: unknown) => callback(toReply(ctx, session, err)),
  );
}
