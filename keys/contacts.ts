import type { Insertable, Kysely } from 'kysely';
import { audit } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import type { ContactsTable, Database } from '../core/db/schema.ts';
import { newId, normaliseAddress } from '../core/ids.ts';
import type { CryptoPool } from './crypto-pool.ts';
import { parseEncryptionKey, type EncryptionKey } from './pgp.ts';

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

export interface StalePickup {
  id: string;
  senderAddress: string;
  messageId: string;
  createdAt: number;
}

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

export class ContactStore {
  readonly #db: Kysely<Database>;
  readonly #clock: Clock;
  readonly #crypto: CryptoPool | undefined;
  readonly #parsed = new Map<string, EncryptionKey>();

  /** `crypto` is needed only to issue new codes (reissue). */
  constructor(deps: { db: Kysely<Database>; clock: Clock; crypto?: CryptoPool }) {
    this.#db = deps.db;
    this.#clock = deps.clock;
    this.#crypto = deps.crypto;
  }

  async find(address: string): Promise<Contact | undefined> {
    const row = await this.#db
      .selectFrom('contacts')
      .select(['id', 'address', 'fingerprint', 'public_key'])
      .where('address', '=', normaliseAddress(address))
      .executeTakeFirst();
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
  ): Promise<{ code: string; contact: Contact; stale: StalePickup[] } | undefined> {
    const existing = await this.find(address);
    if (!existing) return undefined;
    const now = this.#clock.now();
    if (!this.#crypto) throw new Error('ContactStore: reissue needs the crypto pool');
    const material = await secretMaterial(this.#crypto, existing.address, existing.id, now);
    const stale = await this.#db.transaction().execute(async (trx) => {
      await trx
        .updateTable('contacts')
        .set({
          fingerprint: material.fingerprint,
          public_key: material.publicKey,
          locked_private_key: Buffer.from(material.locked),
          kdf: material.kdf,
          secret_kind: 'code',
          auth_hash: material.authHash,
          failed_attempts: 0,
          locked: 0,
          secret_set_at: now.getTime(),
        })
        .where('id', '=', existing.id)
        .execute();
      // Sessions opened with the old secret end: they hold the old key's messages only.
      await trx.deleteFrom('pickup_sessions').where('contact_id', '=', existing.id).execute();
      await audit(
        trx,
        { actor, action: 'contact.code', subject: existing.address, detail: material.fingerprint },
        now,
      );
      return trx
        .selectFrom('pickups')
        .select(['id', 'sender_address', 'message_id', 'created_at'])
        .where('contact_id', '=', existing.id)
        .where('key_fingerprint', '!=', material.fingerprint)
        .orderBy('created_at')
        .execute();
    });
    return {
      code: material.code,
      contact: {
        id: existing.id,
        address: existing.address,
        fingerprint: material.fingerprint,
        key: material.key,
      },
      stale: stale.map((r) => ({
        id: r.id,
        senderAddress: r.sender_address,
        messageId: r.message_id,
        createdAt: Number(r.created_at),
      })),
    };
  }

  /** Clear the failure counter and the lock (the recipient mistyped); the code stays the same. */
  async unlock(address: string, actor: string): Promise<boolean> {
    const now = this.#clock.now();
    return this.#db.transaction().execute(async (trx) => {
      const result = await trx
        .updateTable('contacts')
        .set({ failed_attempts: 0, locked: 0 })
        .where('address', '=', normaliseAddress(address))
        .executeTakeFirst();
      if (Number(result.numUpdatedRows) === 0) return false;
      await audit(trx, { actor, action: 'contact.unlock', subject: normaliseAddress(address) }, now);
      return true;
    });
  }

  async list(): Promise<
    { address: string; fingerprint: string; secretKind: string; locked: boolean; pickups: number }[]
  > {
    const rows = await this.#db
      .selectFrom('contacts')
      .leftJoin('pickups', 'pickups.contact_id', 'contacts.id')
      .select(({ fn }) => [
        'contacts.address',
        'contacts.fingerprint',
        'contacts.secret_kind',
        'contacts.locked',
        fn.count<number>('pickups.id').as('pickups'),
      ])
      .groupBy(['contacts.address', 'contacts.fingerprint', 'contacts.secret_kind', 'contacts.locked'])
      .orderBy('contacts.address')
      .execute();
    return rows.map((r) => ({
      address: r.address,
      fingerprint: r.fingerprint,
      secretKind: r.secret_kind,
      locked: Number(r.locked) === 1,
      pickups: Number(r.pickups),
    }));
  }
}
