import type { Insertable, Kysely, Selectable } from 'kysely';
import type { ContactsTable, Database } from '../db/schema.ts';
import { normaliseAddress } from '../ids.ts';
import { audit } from '../audit.ts';

/**
 * Pickup contacts: the only code that reads or writes the `contacts` table — their keys, their secrets
 * (the locked private key, the KDF parameters, SHA-256(authKey)) and their failure counts. Its invariants
 * live here: the MAX_FAILURES-th wrong code locks the contact (audited) until the sender or admin acts; a
 * new secret clears the count and the lock.
 */
export const MAX_FAILURES = 5;

export type ContactRow = Selectable<ContactsTable>;

/** A new secret: a new code (with a new key pair) or the recipient's own passphrase (same key pair). */
export interface ContactSecret {
  fingerprint?: string;
  publicKey?: string;
  lockedPrivateKey: Uint8Array;
  kdf: string;
  secretKind: 'code' | 'passphrase';
  authHash: string;
}

export interface ContactListing {
  id: string;
  address: string;
  createdAt: number;
  locked: boolean;
  failedAttempts: number;
  lastUnlockAt: number | null;
}

export class ContactRecordStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** A new contact (in the gateway's spool transaction when the store is bound to one). */
  async add(row: Insertable<ContactsTable>): Promise<void> {
    await this.db.insertInto('contacts').values(row).execute();
  }

  async byId(id: string): Promise<ContactRow | undefined> {
    return this.db.selectFrom('contacts').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async byAddress(
    address: string,
  ): Promise<{ id: string; address: string; fingerprint: string; public_key: string } | undefined> {
    return this.db
      .selectFrom('contacts')
      .select(['id', 'address', 'fingerprint', 'public_key'])
      .where('address', '=', normaliseAddress(address))
      .executeTakeFirst();
  }

  /** The right code: the failures reset, the time of this unlock recorded. */
  async recordUnlock(id: string, now: number): Promise<void> {
    await this.db
      .updateTable('contacts')
      .set({ failed_attempts: 0, last_unlock_at: now })
      .where('id', '=', id)
      .execute();
  }

  /** Count a wrong code atomically; the MAX_FAILURES-th locks the contact. Returns the count. */
  async recordFailure(contact: { id: string; address: string }, now: Date): Promise<number> {
    return this.db.transaction().execute(async (trx) => {
      await trx
        .updateTable('contacts')
        .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
        .where('id', '=', contact.id)
        .execute();
      const row = await trx
        .selectFrom('contacts')
        .select('failed_attempts')
        .where('id', '=', contact.id)
        .executeTakeFirstOrThrow();
      const n = Number(row.failed_attempts);
      if (n >= MAX_FAILURES) {
        await trx.updateTable('contacts').set({ locked: 1 }).where('id', '=', contact.id).execute();
        await audit(trx, { actor: 'webmail', action: 'contact.locked', subject: contact.address }, now);
      }
      return n;
    });
  }

  /** A new secret for a contact: failures and lock cleared. */
  async setSecret(id: string, secret: ContactSecret, now: number): Promise<void> {
    await this.db
      .updateTable('contacts')
      .set({
        ...(secret.fingerprint !== undefined ? { fingerprint: secret.fingerprint } : {}),
        ...(secret.publicKey !== undefined ? { public_key: secret.publicKey } : {}),
        locked_private_key: secret.lockedPrivateKey,
        kdf: secret.kdf,
        secret_kind: secret.secretKind,
        auth_hash: secret.authHash,
        failed_attempts: 0,
        ...(secret.secretKind === 'code' ? { locked: 0 } : {}),
        secret_set_at: now,
      })
      .where('id', '=', id)
      .execute();
  }

  /** Clear the failure count and the lock; false when there is no such contact. */
  async clearFailures(address: string): Promise<boolean> {
    const result = await this.db
      .updateTable('contacts')
      .set({ failed_attempts: 0, locked: 0 })
      .where('address', '=', normaliseAddress(address))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async list(): Promise<
    { id: string; address: string; fingerprint: string; secretKind: string; locked: boolean }[]
  > {
    const rows = await this.db
      .selectFrom('contacts')
      .select(['id', 'address', 'fingerprint', 'secret_kind', 'locked'])
      .orderBy('address')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      address: r.address,
      fingerprint: r.fingerprint,
      secretKind: r.secret_kind,
      locked: Number(r.locked) === 1,
    }));
  }

  /** The admin's contacts screen: one page by address, `limit + 1` rows (the caller sees a next page). */
  async adminPage(offset: number, limit: number): Promise<ContactListing[]> {
    const rows = await this.db
      .selectFrom('contacts')
      .select(['id', 'address', 'created_at', 'locked', 'failed_attempts', 'last_unlock_at'])
      .orderBy('address')
      .offset(offset)
      .limit(limit + 1)
      .execute();
    return rows.map((r) => ({
      id: r.id,
      address: r.address,
      createdAt: Number(r.created_at),
      locked: Number(r.locked) === 1,
      failedAttempts: Number(r.failed_attempts),
      lastUnlockAt: r.last_unlock_at === null ? null : Number(r.last_unlock_at),
    }));
  }

  /** GDPR erasure: the contact's row (its keys and secrets). */
  async remove(id: string): Promise<boolean> {
    const res = await this.db.deleteFrom('contacts').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}
