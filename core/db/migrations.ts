import { type Kysely, type Migration, type MigrationProvider } from 'kysely';
import type { Dialect } from './index.ts';

/**
 * Migrations in code, the same for both dialects; only the blob and serial column types differ.
 * Never edit a migration that has shipped: add a new one.
 */
function migrations(dialect: Dialect): Record<string, Migration> {
  const blob = dialect === 'postgres' ? 'bytea' : 'blob';
  return {
    '0001_initial': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('users')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('login', 'text', (c) => c.notNull().unique())
          .addColumn('password_hash', 'text', (c) => c.notNull())
          .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('disabled', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('user_addresses')
          .addColumn('address', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('display_name', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('sender_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('public_key', 'text', (c) => c.notNull())
          .addColumn('sealed_private_key', blob, (c) => c.notNull())
          .addColumn('origin', 'text', (c) => c.notNull())
          .addColumn('active', 'integer', (c) => c.notNull().defaultTo(1))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('sender_keys_address').on('sender_keys').column('address').execute();
        await db.schema
          .createTable('recipient_keys')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('public_key', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('source_url', 'text')
          .addColumn('first_seen_at', 'bigint', (c) => c.notNull())
          .addColumn('last_checked_at', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addUniqueConstraint('recipient_keys_address_fpr', ['address', 'fingerprint'])
          .execute();
        await db.schema
          .createTable('policy_rules')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('match', 'text', (c) => c.notNull().unique())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('note', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('outbound')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('batch_id', 'text', (c) => c.notNull())
          .addColumn('kind', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('envelope_from', 'text', (c) => c.notNull())
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('message_id', 'text', (c) => c.notNull())
          .addColumn('body', blob, (c) => c.notNull())
          .addColumn('size', 'integer', (c) => c.notNull())
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('next_attempt_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('last_code', 'text')
          .addColumn('last_smtp_code', 'integer')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .addColumn('done_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('outbound_due')
          .on('outbound')
          .columns(['status', 'next_attempt_at'])
          .execute();
        await db.schema
          .createTable('audit')
          .addColumn('id', dialect === 'postgres' ? 'bigserial' : 'integer', (c) =>
            dialect === 'postgres' ? c.primaryKey() : c.primaryKey().autoIncrement(),
          )
          .addColumn('at', 'bigint', (c) => c.notNull())
          .addColumn('actor', 'text', (c) => c.notNull())
          .addColumn('action', 'text', (c) => c.notNull())
          .addColumn('subject', 'text')
          .addColumn('detail', 'text')
          .execute();
      },
    },
    '0002_pickup': {
      async up(db: Kysely<unknown>) {
        await db.schema
          .createTable('contacts')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('address', 'text', (c) => c.notNull().unique())
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('public_key', 'text', (c) => c.notNull())
          .addColumn('locked_private_key', blob, (c) => c.notNull())
          .addColumn('kdf', 'text', (c) => c.notNull())
          .addColumn('secret_kind', 'text', (c) => c.notNull())
          .addColumn('auth_hash', 'text', (c) => c.notNull())
          .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('locked', 'integer', (c) => c.notNull().defaultTo(0))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('secret_set_at', 'bigint', (c) => c.notNull())
          .addColumn('last_unlock_at', 'bigint')
          .execute();
        await db.schema
          .createTable('pickups')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
          .addColumn('key_fingerprint', 'text', (c) => c.notNull())
          .addColumn('sender_address', 'text', (c) => c.notNull())
          .addColumn('sender_name', 'text', (c) => c.notNull())
          .addColumn('sender_fingerprint', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text')
          .addColumn('message_id', 'text', (c) => c.notNull())
          .addColumn('ciphertext', blob, (c) => c.notNull())
          .addColumn('size', 'integer', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('pickups_contact').on('pickups').column('contact_id').execute();
        await db.schema.createIndex('pickups_expires').on('pickups').column('expires_at').execute();
        await db.schema
          .createTable('pickup_tombstones')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('expired_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createTable('pickup_sessions')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.alterTable('outbound').addColumn('contact_id', 'text').execute();
      },
    },
    '0003_discovery': {
      async up(db: Kysely<unknown>) {
        // 'active' (may be used), 'held' (a changed key waiting for the admin), 'rejected' (the admin said
        // no), 'replaced' (superseded by an accepted change), 'dropped' (the refresh found it unusable).
        await db.schema
          .alterTable('recipient_keys')
          .addColumn('status', 'text', (c) => c.notNull().defaultTo('active'))
          .execute();
        await db.schema.alterTable('recipient_keys').addColumn('problem', 'text').execute();
        // When the refresh job last asked the key's source (answered or not); last_checked_at is when the
        // source last confirmed the key.
        await db.schema.alterTable('recipient_keys').addColumn('refreshed_at', 'bigint').execute();
        await db.schema
          .createIndex('recipient_keys_address')
          .on('recipient_keys')
          .column('address')
          .execute();
        // The fingerprint history of an address: every change of its key, and what became of it.
        await db.schema
          .createTable('key_changes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('address', 'text', (c) => c.notNull())
          .addColumn('old_fingerprint', 'text', (c) => c.notNull())
          .addColumn('new_fingerprint', 'text', (c) => c.notNull())
          .addColumn('new_key_id', 'text', (c) => c.notNull())
          .addColumn('source', 'text', (c) => c.notNull())
          .addColumn('source_url', 'text')
          // 'held' | 'approved' | 'rejected' | 'accepted' (policy accept-and-log)
          .addColumn('status', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('decided_at', 'bigint')
          .addColumn('decided_by', 'text')
          .execute();
        await db.schema.createIndex('key_changes_address').on('key_changes').column('address').execute();
      },
    },
    '0004_pickup_replies': {
      async up(db: Kysely<unknown>) {
        // A reply a contact wrote, kept so that only they can read it back in the thread: the armored OpenPGP
        // message the browser encrypted to the sender's key and the contact's own, sealed once more at rest.
        // It goes with its pickup (expiry deletes both) and with its contact.
        await db.schema
          .createTable('pickup_replies')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('contact_id', 'text', (c) => c.notNull().references('contacts.id').onDelete('cascade'))
          .addColumn('pickup_id', 'text', (c) => c.notNull().references('pickups.id').onDelete('cascade'))
          .addColumn('key_fingerprint', 'text', (c) => c.notNull())
          .addColumn('ciphertext', blob, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema
          .createIndex('pickup_replies_pickup')
          .on('pickup_replies')
          .column('pickup_id')
          .execute();
        await db.schema
          .createIndex('pickup_replies_contact')
          .on('pickup_replies')
          .column('contact_id')
          .execute();
      },
    },
    '0005_console': {
      async up(db: Kysely<unknown>) {
        // The practitioner's console (docs/console.md). Her console key: the public half in clear, the
        // private half locked by a key only her browser derives from her password (Argon2id).
        await db.schema
          .createTable('console_keys')
          .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
          .addColumn('fingerprint', 'text', (c) => c.notNull())
          .addColumn('public_key', 'text', (c) => c.notNull())
          .addColumn('locked_private_key', blob, (c) => c.notNull())
          .addColumn('kdf', 'text', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        // Access codes waiting to be handed over: OpenPGP-encrypted to her console key, sealed at rest.
        await db.schema
          .createTable('console_codes')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('contact_address', 'text', (c) => c.notNull())
          .addColumn('key_fingerprint', 'text', (c) => c.notNull())
          .addColumn('ciphertext', blob, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('console_codes_user').on('console_codes').column('user_id').execute();
        await db.schema
          .createTable('console_sessions')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('last_seen_at', 'bigint', (c) => c.notNull())
          .execute();
        // Her optional second factor: a TOTP secret (sealed with the master key: the server must check codes),
        // enabled once she confirmed one code; the last time step used, so that a code is never accepted twice.
        await db.schema
          .createTable('console_totp')
          .addColumn('user_id', 'text', (c) => c.primaryKey().references('users.id').onDelete('cascade'))
          .addColumn('sealed_secret', blob, (c) => c.notNull())
          .addColumn('enabled_at', 'bigint')
          .addColumn('last_step', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        // Where an action came from (the console's audit entries): an IP address, never content.
        await db.schema.alterTable('audit').addColumn('ip', 'text').execute();
      },
    },
    '0006_sent': {
      async up(db: Kysely<unknown>) {
        // Her sent messages (docs/console.md "Sent messages"): one row per (message, recipient) with the
        // path the policy chose and why — never content. The subject is kept only as OpenPGP to her console
        // key, sealed with the master key: her browser alone reads it.
        await db.schema
          .createTable('sent_recipients')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('batch_id', 'text', (c) => c.notNull())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('recipient', 'text', (c) => c.notNull())
          .addColumn('path', 'text', (c) => c.notNull())
          .addColumn('reason', 'text', (c) => c.notNull())
          .addColumn('key_fingerprint', 'text')
          .addColumn('key_source', 'text')
          .addColumn('outbound_id', 'text')
          .addColumn('pickup_id', 'text')
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addColumn('first_opened_at', 'bigint')
          .addColumn('withdrawn_at', 'bigint')
          .execute();
        await db.schema
          .createIndex('sent_recipients_user')
          .on('sent_recipients')
          .columns(['user_id', 'created_at'])
          .execute();
        await db.schema
          .createIndex('sent_recipients_pickup')
          .on('sent_recipients')
          .column('pickup_id')
          .execute();
        await db.schema
          .createTable('sent_subjects')
          .addColumn('batch_id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('key_fingerprint', 'text', (c) => c.notNull())
          .addColumn('ciphertext', blob, (c) => c.notNull())
          .execute();
        // What the receiving server said to the last attempt (its reply line, shortened).
        await db.schema.alterTable('outbound').addColumn('remote_reply', 'text').execute();
        // Why a pickup is gone: 'expired' or 'withdrawn' (by the sender).
        await db.schema
          .alterTable('pickup_tombstones')
          .addColumn('reason', 'text', (c) => c.notNull().defaultTo('expired'))
          .execute();
      },
    },
    '0008_admin': {
      async up(db: Kysely<unknown>) {
        // The admin console (docs/console.md): a session says whether its sign-in passed TOTP (admin rows
        // need it), and a user added without a password sets one through a one-time link (SHA-256 kept).
        await db.schema
          .alterTable('console_sessions')
          .addColumn('second_factor', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createTable('password_links')
          .addColumn('token_hash', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('expires_at', 'bigint', (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0009_admin_ops': {
      async up(db: Kysely<unknown>) {
        // A rule's reason (docs/admin-console.md "Policy"): why the admin made the exception, e.g. a client's
        // documented written consent to clear mail. The note is what the sender's SMTP refusal shows.
        await db.schema.alterTable('policy_rules').addColumn('reason', 'text').execute();
        await db.schema.createIndex('audit_at').on('audit').column('at').execute();
      },
    },
    '0010_console_replies': {
      async up(db: Kysely<unknown>) {
        // Pickup replies kept for her console where no inbound relay is set (docs/console.md "Replies"):
        // the armored OpenPGP message to her sender key as the client's browser made it, sealed at rest;
        // only the signature verdict beside it, never a decrypted byte.
        await db.schema
          .createTable('console_replies')
          .addColumn('id', 'text', (c) => c.primaryKey())
          .addColumn('user_id', 'text', (c) => c.notNull().references('users.id').onDelete('cascade'))
          .addColumn('contact_id', 'text', (c) => c.notNull())
          .addColumn('contact_address', 'text', (c) => c.notNull())
          .addColumn('sender_address', 'text', (c) => c.notNull())
          .addColumn('signature', 'text', (c) => c.notNull())
          .addColumn('ciphertext', blob, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .execute();
        await db.schema.createIndex('console_replies_user').on('console_replies').column('user_id').execute();
      },
    },
    '0011_settings': {
      async up(db: Kysely<unknown>) {
        // The settings an admin overrides in the console (docs/admin-console.md "Settings"): one row per
        // overridden key; a key without a row takes the configuration's value (core/settings.ts).
        await db.schema
          .createTable('setting_overrides')
          .addColumn('key', 'text', (c) => c.primaryKey())
          .addColumn('value', 'text', (c) => c.notNull())
          .addColumn('updated_at', 'bigint', (c) => c.notNull())
          .execute();
      },
    },
    '0012_sender_key_revoked': {
      async up(db: Kysely<unknown>) {
        // A sender key the admin revoked (docs/admin-console.md "Sender keys"): never used for signing again;
        // its public key (with the revocation signature) stays published by WKD and export. Null: not revoked.
        await db.schema.alterTable('sender_keys').addColumn('revoked_at', 'bigint').execute();
      },
    },
    '0013_delivery_tls': {
      async up(db: Kysely<unknown>) {
        // The TLS protocol of the connection that carried a delivered copy (`TLSv1.3`; `none` in clear), for
        // her sent list and the evidence record (docs/console.md "Sent messages"). Null: not recorded (older
        // rows, or the outbox folder).
        await db.schema.alterTable('outbound').addColumn('remote_tls', 'text').execute();
      },
    },
    '0014_outbound_chunks': {
      async up(db: Kysely<unknown>) {
        // A large spool body in sealed chunks of at most 1 MiB (docs/performance.md "Memory of one large
        // message"), written while the copy is encrypted and streamed to the relay a chunk at a time.
        // `outbound.chunks` counts them; 0: the body is the one sealed blob in `outbound.body` (small copies).
        await db.schema
          .alterTable('outbound')
          .addColumn('chunks', 'integer', (c) => c.notNull().defaultTo(0))
          .execute();
        await db.schema
          .createTable('outbound_chunks')
          .addColumn('outbound_id', 'text', (c) => c.notNull())
          .addColumn('idx', 'integer', (c) => c.notNull())
          // The associated data the chunk is sealed with: the key of the re-seal walk (core/reseal.ts).
          .addColumn('place', 'text', (c) => c.notNull().unique())
          .addColumn('body', blob, (c) => c.notNull())
          .addColumn('created_at', 'bigint', (c) => c.notNull())
          .addPrimaryKeyConstraint('outbound_chunks_pk', ['outbound_id', 'idx'])
          .execute();
      },
    },
  };
}

export function migrationProvider(dialect: Dialect): MigrationProvider {
  return { getMigrations: async () => migrations(dialect) };
}
