import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';
import { AuditStore } from '../audit.ts';
import { PolicyRuleStore } from '../policy-rules.ts';
import { UserStore } from '../users.ts';
import type { AnySealedColumn } from '../reseal.ts';
import { ConsoleStore, SEALED_CONSOLE } from './console.ts';
import { ConsoleReplyStore, SEALED_CONSOLE_REPLIES } from './console-replies.ts';
import { ContactRecordStore } from './contacts.ts';
import { OutboundStore, SEALED_OUTBOUND } from './outbound.ts';
import { PickupStore, SEALED_PICKUPS } from './pickups.ts';
import { SentStore, SEALED_SENT } from './sent.ts';
import { SettingsStore } from './settings.ts';

/**
 * One store per table family: the only code that queries a table (test/unit/table-owners.test.ts checks
 * it). Route handlers, SMTP stages, workers and CLI commands call these; they hold no SQL. The key tables
 * (sender_keys, recipient_keys, key_changes) belong to the key store in keys/.
 *
 *   outbound                                  → OutboundStore       core/store/outbound.ts
 *   pickups, pickup_tombstones, pickup_sessions,
 *   pickup_replies                            → PickupStore         core/store/pickups.ts
 *   contacts (keys, secrets, failures)        → ContactRecordStore  core/store/contacts.ts
 *   users, user_addresses                     → UserStore           core/users.ts
 *   policy_rules                              → PolicyRuleStore     core/policy-rules.ts
 *   audit                                     → AuditStore, audit() core/audit.ts
 *   console_keys, console_codes,
 *   console_sessions, console_totp,
 *   password_links                            → ConsoleStore        core/store/console.ts
 *   sent_recipients, sent_subjects            → SentStore           core/store/sent.ts
 *   console_replies                           → ConsoleReplyStore   core/store/console-replies.ts
 *   setting_overrides                         → SettingsStore       core/store/settings.ts
 */
export interface Stores {
  readonly outbound: OutboundStore;
  readonly pickups: PickupStore;
  readonly contacts: ContactRecordStore;
  readonly users: UserStore;
  readonly rules: PolicyRuleStore;
  readonly audit: AuditStore;
  readonly console: ConsoleStore;
  readonly sent: SentStore;
  readonly consoleReplies: ConsoleReplyStore;
  readonly settings: SettingsStore;
  /** Run `fn` in one database transaction, with every store bound to it (not nestable). */
  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T>;
}

export function createStores(db: Kysely<Database>): Stores {
  return {
    outbound: new OutboundStore(db),
    pickups: new PickupStore(db),
    contacts: new ContactRecordStore(db),
    users: new UserStore(db),
    rules: new PolicyRuleStore(db),
    audit: new AuditStore(db),
    console: new ConsoleStore(db),
    sent: new SentStore(db),
    consoleReplies: new ConsoleReplyStore(db),
    settings: new SettingsStore(db),
    transaction: (fn) => db.transaction().execute((trx) => fn(createStores(trx))),
  };
}

/**
 * Every column of these stores that is sealed with the master key (the key store adds sender keys:
 * keys/store/sender-keys.ts). `sealpost master-key rotate` re-seals them all (core/reseal.ts).
 */
export const SEALED_COLUMNS: readonly AnySealedColumn[] = [
  ...SEALED_OUTBOUND,
  ...SEALED_PICKUPS,
  ...SEALED_CONSOLE,
  ...SEALED_SENT,
  ...SEALED_CONSOLE_REPLIES,
];

export { GroupCommit } from './group-commit.ts';
export { CONSOLE_SESSION_MAX_MS, ConsoleStore, type ConsoleCodeRow, type ConsoleKeyRow } from './console.ts';
export { ConsoleReplyStore, type ConsoleReplyListing, type ConsoleReplyRow } from './console-replies.ts';
export {
  ContactRecordStore,
  MAX_FAILURES,
  type ContactListing,
  type ContactRow,
  type ContactSecret,
} from './contacts.ts';
export {
  expiresAt,
  OutboundStore,
  outboundRow,
  type NewOutbound,
  type NewOutboundRow,
  type OutboundRow,
  type OutboundState,
} from './outbound.ts';
export { PickupStore, SESSION_MAX_MS, type PickupListing, type StalePickup } from './pickups.ts';
export { SentStore, type SentRecipientRow } from './sent.ts';
export { SETTINGS_CACHE_MS, SettingsStore } from './settings.ts';
