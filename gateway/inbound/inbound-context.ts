import type { SMTPServerSession } from 'smtp-server';
import type { CoreDeps } from '../../core/deps.ts';
import {
  ContactStore,
  pooledOpenInbound,
  type CryptoPool,
  type KeyStore,
  type OpenInbound,
} from '../../keys/index.ts';
import type { SmtpListener } from '../smtp-reply.ts';
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
  /** The process's crypto pool: decryption and verification off the event loop; none: in this thread. */
  readonly crypto?: CryptoPool;
}

export interface InboundContext {
  readonly deps: InboundDeps;
  /** The log and codes the shared SMTP plumbing answers with. */
  readonly listener: SmtpListener;
  readonly relay: Relay;
  readonly resolver: DnsResolver;
  /** Pickup contacts: a key learned for one is a key change, never a silent switch away from pickup. */
  readonly contacts: ContactStore;
  /** Decrypt and verify one message (keys/open-inbound.ts): in the crypto pool when there is one. */
  readonly openInbound: OpenInbound;
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
    listener: { log: deps.log, codes: INBOUND_CODES },
    relay: deps.relay ?? createRelay(deps.config, relayUrl!),
    resolver: deps.dns ?? systemResolver(),
    contacts: new ContactStore({ db: deps.db.kysely, clock: deps.clock }),
    openInbound: pooledOpenInbound(deps.crypto),
    sessions: new WeakMap(),
  };
}

/**
 * The inbound listener's codes for the shared SMTP plumbing (gateway/edge.ts, gateway/smtp-reply.ts); an
 * unexpected failure is 451, the sending MTA keeps the message.
 */
export const INBOUND_CODES: SmtpListener['codes'] = {
  edge: {
    invalid: 'IN_MESSAGE_INVALID',
    ambiguous: 'IN_MESSAGE_AMBIGUOUS',
    headerTooBig: 'IN_HEADER_TOO_BIG',
    sizeExceeded: 'IN_SIZE_EXCEEDED',
  },
  reply: { internal: 'IN_INTERNAL_ERROR', temporary: 'IN_TEMP_FAILURE' },
};
