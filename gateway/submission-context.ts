import type { SMTPServerSession } from 'smtp-server';
import type { CoreDeps } from '../core/deps.ts';
import type { PolicyRule } from '../core/policy-rules.ts';
import type { PolicyRuleStore } from '../core/policy-rules.ts';
import type { UserStore } from '../core/users.ts';
import type { Contact, CryptoPool, EncryptionKey, KeyStore, SenderKey } from '../keys/index.ts';
import {
  buildPgpMime,
  ContactStore,
  pooledSignEncrypt,
  RecipientKeys,
  type Discoverer,
  type SignEncrypt,
} from '../keys/index.ts';
import { AuthLimiter, authLimitSettings } from '../core/auth-limit.ts';
import type { LimitStore } from '../core/limit-store.ts';
import { effectiveSettings } from '../core/settings.ts';
import { GroupCommit } from '../core/store/index.ts';
import type { SmtpListener } from './smtp-reply.ts';
import type { Verdict } from '../keys/index.ts';

/** What the gateway is built from (DESIGN/STYLE: build from deps, never reach for globals). */
export interface GatewayDeps extends CoreDeps {
  readonly keys: KeyStore;
  /**
   * The process's crypto pool (keys/crypto-pool.ts): new contacts' key generation and Argon2id, and the
   * OpenPGP sign + encrypt of every copy up to 1 MiB.
   */
  readonly crypto: CryptoPool;
  readonly tls: { key: string | Buffer; cert: string | Buffer };
  /** Where the failed-login limits count (Redis; one per process, shared with the webmail's admin API). */
  readonly limitStore: LimitStore;
  /** Schedule delivery of committed outbound rows (BullMQ in production). May throw: the rows are
   * committed and the worker's reconcile job finds them. */
  readonly enqueue: (outboundIds: string[]) => Promise<void>;
  /** Fault injection for tests; the real builder from keys/ otherwise. */
  readonly buildPgpMime?: typeof buildPgpMime;
  /** Key discovery (WKD, VKS); undefined: stored keys only (as with `discovery.enabled: false`). */
  readonly discovery?: Discoverer;
}

/** Everything the pipeline stages share; one per gateway (both ports). */
export interface GatewayContext {
  readonly deps: GatewayDeps;
  /** The log and codes the shared SMTP plumbing answers with. */
  readonly listener: SmtpListener;
  readonly users: UserStore;
  readonly rules: PolicyRuleStore;
  readonly limiter: AuthLimiter;
  readonly contacts: ContactStore;
  readonly recipients: RecipientKeys;
  readonly buildPgpMime: typeof buildPgpMime;
  /** OpenPGP sign + encrypt of a copy, in the crypto pool's threads (the second core). */
  readonly signEncrypt: SignEncrypt;
  /** The spool's group commit: the messages of one event-loop turn in one transaction (gateway/spool.ts). */
  readonly commits: GroupCommit;
  readonly sessions: WeakMap<SMTPServerSession, SessionState>;
}

export function createContext(deps: GatewayDeps): GatewayContext {
  const { limits } = deps.config;
  return {
    deps,
    listener: { log: deps.log, codes: SUBMISSION_CODES },
    users: deps.db.stores.users,
    rules: deps.db.stores.rules,
    limiter: new AuthLimiter(deps.limitStore, authLimitSettings(limits)),
    contacts: new ContactStore({ db: deps.db.kysely, clock: deps.clock, crypto: deps.crypto }),
    recipients: new RecipientKeys({
      keys: deps.keys,
      discovery: deps.discovery,
      // The admin's setting in force, asked at every lookup (core/settings.ts).
      enabled: async () => (await effectiveSettings(deps)).discovery,
      log: deps.log,
      clock: deps.clock,
      recheckAfterMs: deps.config.discovery.positiveTtlSeconds * 1000,
    }),
    buildPgpMime: deps.buildPgpMime ?? buildPgpMime,
    signEncrypt: pooledSignEncrypt(deps.crypto),
    commits: new GroupCommit(deps.db.stores),
    sessions: new WeakMap(),
  };
}

/** One recipient accepted at RCPT TO, with the verdict that DATA acts on. */
export type AcceptedRecipient =
  | { address: string; verdict: Verdict & { verdict: 'pgp' }; key: EncryptionKey; keySource: string }
  | { address: string; verdict: Verdict & { verdict: 'pickup' }; contact: Contact | undefined }
  | { address: string; verdict: Verdict & { verdict: 'plain' } };

/** One mail transaction (MAIL FROM … DATA); replaced at every MAIL FROM. */
export interface Transaction {
  mailFrom: string; // normalised
  recipients: AcceptedRecipient[];
  rules?: PolicyRule[]; // loaded once per transaction
  sender?: SenderKey; // the signing key, looked up at the first pgp recipient
}

/** What the gateway keeps on an smtp-server session (the session object lives as long as the connection). */
export interface SessionState {
  user?: { id: string; login: string };
  tx?: Transaction;
}

export function sessionState(ctx: GatewayContext, session: SMTPServerSession): SessionState {
  let state = ctx.sessions.get(session);
  if (!state) {
    state = {};
    ctx.sessions.set(session, state);
  }
  return state;
}

/** The submission listener's codes for the shared SMTP plumbing (gateway/edge.ts, gateway/smtp-reply.ts). */
export const SUBMISSION_CODES: SmtpListener['codes'] = {
  edge: {
    invalid: 'GW_MESSAGE_INVALID',
    ambiguous: 'GW_MESSAGE_AMBIGUOUS',
    headerTooBig: 'GW_HEADER_TOO_BIG',
    sizeExceeded: 'GW_SIZE_EXCEEDED',
  },
  reply: { internal: 'GW_INTERNAL_ERROR', temporary: 'GW_TEMP_FAILURE' },
};
