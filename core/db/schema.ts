import type { Generated } from 'kysely';

/**
 * The database schema, shared by SQLite and PostgreSQL. Timestamps are epoch milliseconds (bigint);
 * booleans are 0/1 integers; blobs are Uint8Array (BLOB / BYTEA). No column ever holds a subject, a body
 * or an attachment name in clear: message blobs are OpenPGP ciphertext sealed again with the master key.
 */
export interface UsersTable {
  id: string;
  login: string; // the SMTP AUTH user name, an e-mail address, lower-cased
  password_hash: string; // scrypt, PHC-like string
  is_admin: number;
  disabled: number;
  created_at: number;
}

export interface UserAddressesTable {
  address: string; // lower-cased; unique: one address belongs to one user
  user_id: string;
  display_name: string | null;
  created_at: number;
}

export interface SenderKeysTable {
  id: string;
  address: string; // lower-cased; one active key per address
  fingerprint: string; // upper-case hex
  public_key: string; // armored
  sealed_private_key: Uint8Array; // armored private key, sealed with the master key ('sender-private-key')
  origin: string; // 'generated' | 'imported'
  active: number;
  created_at: number;
  revoked_at: number | null; // epoch ms of the admin's revocation; the public key then carries it
}

export interface RecipientKeysTable {
  id: string;
  address: string; // lower-cased
  fingerprint: string;
  public_key: string; // armored
  source: string; // 'admin' | 'pickup' | 'wkd-advanced' | 'wkd-direct' | 'vks' | 'autocrypt'
  source_url: string | null;
  first_seen_at: number;
  last_checked_at: number;
  created_at: number;
  status: Generated<RecipientKeyRowStatus>;
  problem: string | null; // why a dropped key was dropped (a KeyProblem)
  refreshed_at: number | null; // when the refresh job last asked the key's source
}

export type RecipientKeyRowStatus = 'active' | 'held' | 'rejected' | 'replaced' | 'dropped';

export interface KeyChangesTable {
  id: string;
  address: string;
  old_fingerprint: string;
  new_fingerprint: string;
  new_key_id: string; // the recipient_keys row of the new key
  source: string;
  source_url: string | null;
  status: 'held' | 'approved' | 'rejected' | 'accepted';
  created_at: number;
  decided_at: number | null;
  decided_by: string | null;
}

export interface PolicyRulesTable {
  id: string;
  match: string; // 'user@domain', 'domain' (and its subdomains with a leading '.'), or '*'
  action: string; // 'plain' | 'reject'
  note: string | null; // shown in the SMTP refusal of a reject rule
  reason: string | null; // why the rule exists (e.g. documented written consent); audited with the rule
  created_at: number;
}

/** The outbound spool: one row per (message, recipient). The database is the spool and the truth. */
export interface OutboundTable {
  id: string; // UUID: also the job id and the outbox file name
  batch_id: string; // all copies accepted in one SMTP transaction
  kind: string; // 'pgp' | 'plain' | 'dsn' | 'notification' | 'receipt' | 'reply'
  user_id: string | null;
  envelope_from: string; // '' for a DSN (null sender)
  recipient: string;
  message_id: string; // the Message-ID header of the outgoing copy
  body: Uint8Array; // the outgoing RFC 5322 bytes, sealed with the master key ('spool')
  size: number;
  status: string; // 'queued' | 'delivered' | 'bounced'
  attempts: number;
  next_attempt_at: number;
  expires_at: number;
  last_code: string | null; // our code of the last attempt (never remote text)
  last_smtp_code: number | null;
  created_at: number;
  updated_at: number;
  done_at: number | null;
  contact_id: string | null; // for a pickup reply: the contact who wrote it (reply limits)
  remote_reply: string | null; // the receiving server's last reply line (shortened; its own words)
  remote_tls: string | null; // the TLS protocol that carried the delivered copy ('TLSv1.3'; 'none': clear)
  chunks: Generated<number>; // 0: the body is `body`; n > 0: `body` is empty, the body is n outbound_chunks
}

/**
 * A large spool body (above 1 MiB) in order: chunk `idx` of row `outbound_id`, at most 1 MiB of the outgoing
 * bytes each, sealed ('spool') with `${outbound_id}:${idx}` as associated data, and the last one with
 * `${outbound_id}:${idx}:last` — a chunk moved to another row or place, or a body cut short, does not open.
 */
export interface OutboundChunksTable {
  outbound_id: string;
  idx: number;
  place: string; // the associated data it is sealed with (`${outbound_id}:${idx}`, `…:last`): unique
  body: Uint8Array; // the sealed chunk
  created_at: number; // an orphan (its row never committed) is swept after an hour
}

/**
 * A pickup contact (DESIGN.md "Pickup crypto"): an external address without an OpenPGP key. The server keeps
 * the private key only locked with a key derived from the recipient's secret, and SHA-256 of the other half
 * of that derivation: never the code, the passphrase, authKey or lockKey.
 */
export interface ContactsTable {
  id: string;
  address: string; // lower-cased, unique
  fingerprint: string; // of the current pickup key pair
  public_key: string; // armored
  locked_private_key: Uint8Array; // iv ‖ AES-256-GCM(lockKey, binary private key) ‖ tag
  kdf: string; // JSON {alg, salt (base64), memoryKiB, iterations, parallelism}
  secret_kind: string; // 'code' (issued by Sealpost) | 'passphrase' (chosen by the recipient)
  auth_hash: string; // hex SHA-256(authKey)
  failed_attempts: number;
  locked: number; // 1 after too many failures, until unlocked or a new code is issued
  created_at: number;
  secret_set_at: number;
  last_unlock_at: number | null;
}

/** One message waiting for a contact: OpenPGP ciphertext to the contact's key, sealed once more at rest. */
export interface PickupsTable {
  id: string; // 128-bit random, base64url: the link
  contact_id: string;
  key_fingerprint: string; // the contact key it is encrypted to (a new code means a new key)
  sender_address: string;
  sender_name: string; // display name shown before unlock (practice or sender name; never the subject)
  sender_fingerprint: string; // the signing key
  user_id: string | null;
  message_id: string;
  ciphertext: Uint8Array; // binary OpenPGP message sealed with the master key ('pickup', aad = id)
  size: number;
  created_at: number;
  expires_at: number;
}

/** An expired pickup leaves only its id, so that an old link says "expired" rather than "not found". */
export interface PickupTombstonesTable {
  id: string;
  expired_at: number;
  reason: Generated<string>; // 'expired' | 'withdrawn'
}

/** One recipient of a sent message: the path chosen and why, never content (docs/console.md). */
export interface SentRecipientsTable {
  id: string;
  batch_id: string;
  user_id: string;
  recipient: string;
  path: string; // 'pgp' | 'pickup' | 'plain'
  reason: string; // the policy verdict's reason ('key:<fpr>', 'rule:<id>', 'no-key', …)
  key_fingerprint: string | null;
  key_source: string | null; // recipient_keys.source, or 'pickup' for a pickup contact's key
  outbound_id: string | null; // the copy (pgp, plain) or the notification (pickup)
  pickup_id: string | null;
  created_at: number;
  first_opened_at: number | null;
  withdrawn_at: number | null;
}

/** A sent message's subject: OpenPGP to her console key, sealed with the master key ('sent', aad = batch id). */
export interface SentSubjectsTable {
  batch_id: string;
  user_id: string;
  key_fingerprint: string;
  ciphertext: Uint8Array;
}

/** A contact's own reply, readable only with the contact's key (the armored message, sealed at rest). */
export interface PickupRepliesTable {
  id: string; // the outbound row's id
  contact_id: string;
  pickup_id: string; // the message it answers
  key_fingerprint: string; // the contact key it is encrypted to (a new code means a new key: unreadable)
  ciphertext: Uint8Array; // armored OpenPGP message sealed with the master key ('pickup', aad = reply:<id>)
  created_at: number;
}

export interface PickupSessionsTable {
  token_hash: string; // hex SHA-256 of the cookie value
  contact_id: string;
  created_at: number;
  last_seen_at: number;
}

export interface AuditTable {
  id: Generated<number>;
  at: number;
  actor: string; // 'cli', 'gateway', 'worker', or a user login
  action: string; // e.g. 'user.add', 'key.import', 'message.bounced'
  subject: string | null; // an address or an id — never content
  detail: string | null; // a code or a fingerprint — never content
  ip: string | null; // where the action came from (console actions), else null
}

/** A practitioner's console key (docs/console.md): the private half locked by her browser's Argon2id key. */
export interface ConsoleKeysTable {
  user_id: string;
  fingerprint: string;
  public_key: string; // armored
  locked_private_key: Uint8Array; // iv ‖ AES-256-GCM(lockKey, binary private key) ‖ tag, aad console:<user id>
  kdf: string; // JSON {alg, salt (base64), memoryKiB, iterations, parallelism}
  created_at: number;
}

/** An access code waiting to be handed over: encrypted to her console key, sealed once more at rest. */
export interface ConsoleCodesTable {
  id: string;
  user_id: string;
  contact_address: string;
  key_fingerprint: string; // the console key it is encrypted to
  ciphertext: Uint8Array; // binary OpenPGP message sealed with the master key ('console', aad = id)
  created_at: number;
}

/** Her optional TOTP second factor (docs/console.md). */
export interface ConsoleTotpTable {
  user_id: string;
  sealed_secret: Uint8Array; // the base32 secret sealed with the master key ('console', aad = totp:<user id>)
  enabled_at: number | null; // null while enrolment waits for her first code
  last_step: number; // the last accepted time step (a code is never accepted twice)
  created_at: number;
}

export interface ConsoleSessionsTable {
  token_hash: string; // hex SHA-256 of cookie token and header key
  user_id: string;
  created_at: number;
  last_seen_at: number;
  /** 1 when the sign-in passed TOTP (admin rows need it). */
  second_factor: Generated<number>;
}

/** A one-time link by which a user sets her password (an admin added her without one). */
export interface PasswordLinksTable {
  token_hash: string; // hex SHA-256 of the link's token
  user_id: string;
  expires_at: number;
  created_at: number;
}

/** A pickup reply kept for her console (no inbound relay): OpenPGP to her sender key, sealed at rest. */
export interface ConsoleRepliesTable {
  id: string; // the outbound row's id
  user_id: string;
  contact_id: string;
  contact_address: string;
  sender_address: string; // her address the reply went to (whose sender key opens it)
  signature: string; // the verdict when it was accepted: valid, invalid, unknown-key, none, unreadable
  ciphertext: Uint8Array; // armored OpenPGP message sealed with the master key ('console', aad = reply:<id>)
  created_at: number;
}

/** An admin's override of one setting (core/settings.ts); no row: the configuration's value. */
export interface SettingOverridesTable {
  key: string; // practiceName, language, retentionDays, discovery, keyChange
  value: string; // validated text (core/settings.ts)
  updated_at: number;
}

export interface Database {
  users: UsersTable;
  user_addresses: UserAddressesTable;
  sender_keys: SenderKeysTable;
  recipient_keys: RecipientKeysTable;
  policy_rules: PolicyRulesTable;
  outbound: OutboundTable;
  outbound_chunks: OutboundChunksTable;
  audit: AuditTable;
  contacts: ContactsTable;
  pickups: PickupsTable;
  pickup_tombstones: PickupTombstonesTable;
  pickup_sessions: PickupSessionsTable;
  pickup_replies: PickupRepliesTable;
  key_changes: KeyChangesTable;
  console_keys: ConsoleKeysTable;
  sent_recipients: SentRecipientsTable;
  sent_subjects: SentSubjectsTable;
  console_codes: ConsoleCodesTable;
  console_sessions: ConsoleSessionsTable;
  console_totp: ConsoleTotpTable;
  password_links: PasswordLinksTable;
  console_replies: ConsoleRepliesTable;
  setting_overrides: SettingOverridesTable;
}
