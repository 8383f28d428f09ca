import type { Insertable, Kysely } from 'kysely';
import type { Clock } from '../core/clock.ts';
import type { ContactsTable, Database } from '../core/db/schema.ts';
import { newId, normaliseAddress } from '../core/ids.ts';
import { createStores, type StalePickup, type Stores } from '../core/store/index.ts';
import type { CryptoPool } from './crypto-pool.ts';
import { parseEncryptionKey, type EncryptionKey } from './openpgp/index.ts';

/**
 * Pickup contacts (DESIGN.md "Pickup crypto"). A new contact's code exists only in memory here and in the
 * sender's receipt; the row keeps the locked private key and SHA-256(authKey).
 */
export interface Contact {
  id: string;
  address: string;
  fingerprint: string;
  key: EncryptionKey;
}

export interface NewContact {
  contact: Contact;
  row: Insertable<ContactsTable>;
  /** The access code, formatted (`7F3K-Q9XD-2M`): for the sender's receipt only, never stored. */
  code: string;
}

export type { StalePickup } from '../core/store/index.ts';

/**
 * Key pair, salt and code for `address`, ready to insert (in the caller's transaction). The key generation
 * and Argon2id run in the crypto pool, off the event loop.
 */
export async function newContactRecord(
  address: string,
  now: Date,
  crypto: CryptoPool,
  id = newId(),
): Promise<NewContact> {
  const addr = normaliseAddress(address);
  const material = await secretMaterial(crypto, addr, id, now);
  const ts = now.getTime();
  return {
    contact: { id, address: addr, fingerprint: material.fingerprint, key: material.key },
    code: material.code,
    row: {
      id,
      address: addr,
      fingerprint: material.fingerprint,
      public_key: material.publicKey,
      locked_private_key: Buffer.from(material.locked),
      kdf: material.kdf,
      secret_kind: 'code',
      auth_hash: material.authHash,
      failed_attempts: 0,
      locked: 0,
      created_at: ts,
      secret_set_at: ts,
      last_unlock_at: null,
    },
  };
}

async function secretMaterial(crypto: CryptoPool, address: string, contactId: string, now: Date) {
  const secret = await crypto.run('contactSecret', { address, contactId, nowMs: now.getTime() });
  // Parsing the public key back is cheap (no secret, no KDF); the EncryptionKey cannot cross threads.
  return { ...secret, key: await parseEncryptionKey(secret.publicKey) };
}

/**
 * Pickup contacts with their keys parsed (a small cache by fingerprint) and their codes issued: the crypto
 * around the contacts store (core/store/contacts.ts), which alone holds the rows.
 */
export class ContactStore {
  readonly #stores: Stores;
  readonly #clock: Clock;
  readonly #crypto: CryptoPool | undefined;
  readonly #parsed = new Map<string, EncryptionKey>();

  /** `crypto` is needed only to issue new codes (reissue). */
  constructor(deps: { db: Kysely<Database>; clock: Clock; crypto?: CryptoPool }) {
    this.#stores = createStores(deps.db);
    this.#clock = deps.clock;
    this.#crypto = deps.crypto;
  }

  async find(address: string): Promise<Contact | undefined> {
    const row = await this.#stores.contacts.byAddress(address);
    if (!row) return undefined;
    let key = this.#parsed.get(row.fingerprint);
    if (!key) {
      key = await parseEncryptionKey(row.public_key);
      if (this.#parsed.size > 1000) this.#parsed.clear();
      this.#parsed.set(row.fingerprint, key);
    }
    return { id: row.id, address: row.address, fingerprint: row.fingerprint, key };
  }

  /**
   * A new code (and so a new key pair) for a contact who forgot theirs or is locked out. Messages stored
   * under the old key stay unreadable by design; they are returned so that the sender can resend them.
   */
  async reissue(
    address: string,
    actor: string,
    ip?: string,
  ): Promise<{ code: string; contact: Contact; stale: StalePickup[] } | undefined> {
    const existing = await this.find(address);
    if (!existing) return undefined;
    const now = this.#clock.now();
    if (!this.#crypto) throw new Error('ContactStore: reissue needs the crypto pool');
    const material = await secretMaterial(this.#crypto, existing.address, existing.id, now);
    const stale = await this.#stores.transaction(async (stores) => {
      await stores.contacts.setSecret(
        existing.id,
        {
          fingerprint: material.fingerprint,
          publicKey: material.publicKey,
          lockedPrivateKey: Buffer.from(material.locked),
          kdf: material.kdf,
          secretKind: 'code',
          authHash: material.authHash,
        },
        now.getTime(),
      );
      // Sessions opened with the old secret end: they hold the old key's messages only.
      await stores.pickups.endSessionsOf(existing.id);
      await stores.audit.record(
        {
          actor,
          action: 'contact.code',
          subject: existing.address,
          detail: material.fingerprint,
          ...(ip ? { ip } : {}),
        },
        now,
      );
      return stores.pickups.encryptedToOtherKey(existing.id, material.fingerprint);
    });
    return {
      code: material.code,
      contact: {
        id: existing.id,
        address: existing.address,
        fingerprint: material.fingerprint,
        key: material.key,
      },
      stale,
    };
  }

  /** Clear the failure counter and the lock (the recipient mistyped); the code stays the same. */
  async unlock(address: string, actor: string, ip?: string): Promise<boolean> {
    const now = this.#clock.now();
    return this.#stores.transaction(async (stores) => {
      if (!(await stores.contacts.clearFailures(address))) return false;
      const entry = {
        actor,
        action: 'contact.unlock',
        subject: normaliseAddress(address),
        ...(ip ? { ip } : {}),
      };
      await stores.audit.record(entry, now);
      return true;
    });
  }

  async list(): Promise<
    { address: string; fingerprint: string; secretKind: string; locked: boolean; pickups: number }[]
  > {
    const [contacts, counts] = await Promise.all([
      this.#stores.contacts.list(),
      this.#stores.pickups.countPerContact(),
    ]);
    return contacts.map((c) => ({
      address: c.address,
      fingerprint: c.fingerprint,
      secretKind: c.secretKind,
      locked: c.locked,
      pickups: counts.get(c.id) ?? 0,
    }));
  }

  /** The addresses that wrote to the contact at `address` (none when there is no such contact). */
  async senders(address: string): Promise<{ contactId: string; senders: string[] } | undefined> {
    const contact = await this.#stores.contacts.byAddress(address);
    return (
      contact && { contactId: contact.id, senders: await this.#stores.pickups.senderAddresses(contact.id) }
    );
  }
}
