import type { SMTPServerSession } from 'smtp-server';
import type { CoreDeps } from '../../core/deps.ts';
import { ContactStore, type KeyStore } from '../../keys/index.ts';
import type { EdgeCodes } from '../edge.ts';
import { answerWith, type ReplyCodes } from '../reply.ts';
import { systemResolver, type DnsResolver } from './dkim.ts';
import { createRelay, type Relay } from './relay.ts';

/** What the inbound listener is built from; only main (or a test) binds its port. */
export interface InboundDeps extends CoreDeps {
  readonly keys: KeyStore;
  readonly tls: { key: string | Buffer; cert: string | Buffer };
  /** The client to the practice's mail server; default: nodemailer to config.inboundRelay. */
  readonly relay?: Relay;
  /** DNS for DKIM keys (TXT); default: the system's resolvers. Tests serve their own keys. */
  readonly dns?: DnsResolver;
}

export interface InboundContext {
  readonly deps: InboundDeps;
  readonly relay: Relay;
  readonly resolver: DnsResolver;
  /** Pickup contacts: a key learned for one is a key change, never a silent switch away from pickup. */
  readonly contacts: ContactStore;
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
    resolver: deps.dns ?? systemResolver(),
    contacts: new ContactStore({ db: deps.db.kysely, clock: deps.clock }),
    sessions: new WeakMap(),
  };
}

/** The inbound listener's refusals at the edge (gateway/edge.ts). */
export const INBOUND_EDGE_CODES: EdgeCodes = {
  invalid: 'IN_MESSAGE_INVALID',
  ambiguous: 'IN_MESSAGE_AMBIGUOUS',
  headerTooBig: 'IN_HEADER_TOO_BIG',
};

/** The codes of the inbound listener's unexpected failures: 451, the sending MTA keeps the message. */
export const INBOUND_REPLY_CODES: ReplyCodes = {
  internal: 'IN_INTERNAL_ERROR',
  temporary: 'IN_TEMP_FAILURE',
};

export function answer(
  ctx: InboundContext,
  session: SMTPServerSession,
  run: () => Promise<void>,
  callback: (err?: Error | null) => void,
): void {
  answerWith(ctx.deps.log, INBOUND_REPLY_CODES, session, run, callback);
}
