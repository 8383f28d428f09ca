import type { Insertable, Kysely } from 'kysely';
import type { Database, PickupRepliesTable, PickupsTable } from '../db/schema.ts';
import { audit } from '../audit.ts';
import type { AnySealedColumn } from '../reseal.ts';

/**
 * Pickups, their tombstones, the contacts' own replies and the pickup sessions: the only code that reads or
 * writes the `pickups`, `pickup_tombstones`, `pickup_replies` and `pickup_sessions` tables. Its invariants live here: an expired pickup is deleted
 * with its ciphertext and leaves a tombstone with its id only (an old link shows "expired", not "not
 * found"); a session ends after the idle time or SESSION_MAX_MS, whichever comes first; tombstones go after
 * a year.
 */
/** A pickup session never lasts longer than this, however active (the cookie's lifetime too). */
export const SESSION_MAX_MS = 12 * 3600 * 1000;
const TOMBSTONE_DAYS = 365;

export interface PickupListing {
  id: string;
  sender_address: string;
  sender_name: string;
  sender_fingerprint: string;
  created_at: number;
  expires_at: number;
  size: number;
  /** The contact key the pickup is encrypted to: readable while it is the contact's current one. */
  key_fingerprint: string;
}

export interface StalePickup {
  id: string;
  senderAddress: string;
  messageId: string;
  createdAt: number;
}

export class PickupStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** A new pickup (in the gateway's spool transaction when the store is bound to one). */
  async add(row: Insertable<PickupsTable>): Promise<void> {
    await this.db.insertInto('pickups').values(row).execute();
  }

  /** The pickup behind a link, expired or not, or whether it left a tombstone. */
  async lookup(id: string): Promise<
    | {
        found: true;
        id: string;
        contact_id: string;
        key_fingerprint: string;
        sender_name: string;
        created_at: number;
        expires_at: number;
      }
    | { found: false; tombstone: boolean; reason?: string }
  > {
    const row = await this.db
      .selectFrom('pickups')
      .select(['id', 'contact_id', 'key_fingerprint', 'sender_name', 'created_at', 'expires_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    if (row) return { found: true, ...row };
    const tomb = await this.db
      .selectFrom('pickup_tombstones')
      .select(['id', 'reason'])
      .where('id', '=', id)
      .executeTakeFirst();
    return tomb ? { found: false, tombstone: true, reason: tomb.reason } : { found: false, tombstone: false };
  }

  /** A contact's pickups that have not expired, newest first. */
  async listFor(contactId: string, now: number): Promise<PickupListing[]> {
    return this.db
      .selectFrom('pickups')
      .select([
        'id',
        'sender_address',
        'sender_name',
        'sender_fingerprint',
        'created_at',
        'expires_at',
        'size',
        'key_fingerprint',
      ])
      .where('contact_id', '=', contactId)
      .where('expires_at', '>', now)
      .orderBy('created_at', 'desc')
      .execute();
  }

  /** The sealed ciphertext of one of a contact's pickups, while it has not expired. */
  async sealedCiphertext(
    id: string,
    contactId: string,
    now: number,
  ): Promise<{ id: string; ciphertext: Uint8Array } | undefined> {
    return this.db
      .selectFrom('pickups')
      .select(['id', 'ciphertext'])
      .where('id', '=', id)
      .where('contact_id', '=', contactId)
      .where('expires_at', '>', now)
      .executeTakeFirst();
  }

  /** The thread a contact replies to: the pickup's sender and Message-ID. */
  async thread(
    id: string,
    contactId: string,
  ): Promise<{ id: string; sender_address: string; message_id: string; user_id: string | null } | undefined> {
    return this.db
      .selectFrom('pickups')
      .select(['id', 'sender_address', 'message_id', 'user_id'])
      .where('id', '=', id)
      .where('contact_id', '=', contactId)
      .executeTakeFirst();
  }

  /** Every (sender, name, signing key) of a contact's pickups. */
  async sendersOf(
    contactId: string,
  ): Promise<{ sender_address: string; sender_name: string; sender_fingerprint: string }[]> {
    return this.db
      .selectFrom('pickups')
      .select(['sender_address', 'sender_name', 'sender_fingerprint'])
      .distinct()
      .where('contact_id', '=', contactId)
      .execute();
  }

  /** The addresses that wrote to a contact. */
  async senderAddresses(contactId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('pickups')
      .select('sender_address')
      .distinct()
      .where('contact_id', '=', contactId)
      .execute();
    return rows.map((r) => r.sender_address);
  }

  /** How many pickups each contact has (contacts without any are absent). */
  async countPerContact(): Promise<Map<string, number>> {
    const rows = await this.db
      .selectFrom('pickups')
      .select(({ fn }) => ['contact_id', fn.count<number>('id').as('n')])
      .groupBy('contact_id')
      .execute();
    return new Map(rows.map((r) => [r.contact_id, Number(r.n)]));
  }

  /** A contact's pickups encrypted to another key than `fingerprint` (unreadable after a new code). */
  async encryptedToOtherKey(contactId: string, fingerprint: string): Promise<StalePickup[]> {
    const rows = await this.db
      .selectFrom('pickups')
      .select(['id', 'sender_address', 'message_id', 'created_at'])
      .where('contact_id', '=', contactId)
      .where('key_fingerprint', '!=', fingerprint)
      .orderBy('created_at')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      senderAddress: r.sender_address,
      messageId: r.message_id,
      createdAt: Number(r.created_at),
    }));
  }

  /**
   * Delete up to `limit` expired pickups with their ciphertext, each leaving a tombstone, audited, in one
   * transaction; returns how many went (0: none left).
   */
  async expirePage(now: Date, limit: number): Promise<number> {
    const ts = now.getTime();
    const ids = (
      await this.db.selectFrom('pickups').select('id').where('expires_at', '<=', ts).limit(limit).execute()
    ).map((r) => r.id);
    if (ids.length === 0) return 0;
    await this.db.transaction().execute(async (trx) => {
      await trx.deleteFrom('pickup_replies').where('pickup_id', 'in', ids).execute(); // the contact's own copies
      await trx.deleteFrom('pickups').where('id', 'in', ids).execute();
      await trx
        .insertInto('pickup_tombstones')
        .values(ids.map((id) => ({ id, expired_at: ts })))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await audit(trx, { actor: 'worker', action: 'pickup.expired', detail: String(ids.length) }, now);
    });
    return ids.length;
  }

  /**
   * The sender withdrew a pickup (her console): the ciphertext and the contact's own replies to it go, a
   * tombstone says 'withdrawn' (the link shows "withdrawn by the sender"). False when it was already gone.
   */
  async withdraw(id: string, now: number): Promise<boolean> {
    const gone = await this.db.deleteFrom('pickups').where('id', '=', id).executeTakeFirst();
    await this.db.deleteFrom('pickup_replies').where('pickup_id', '=', id).execute();
    await this.db
      .insertInto('pickup_tombstones')
      .values({ id, expired_at: now, reason: 'withdrawn' })
      .onConflict((oc) => oc.column('id').doUpdateSet({ reason: 'withdrawn' }))
      .execute();
    return Number(gone.numDeletedRows) > 0;
  }

  /** Why a pickup is gone ('expired', 'withdrawn'), or undefined while it is there (or never was). */
  async tombstone(id: string): Promise<{ reason: string; at: number } | undefined> {
    const row = await this.db
      .selectFrom('pickup_tombstones')
      .select(['reason', 'expired_at'])
      .where('id', '=', id)
      .executeTakeFirst();
    return row && { reason: row.reason, at: Number(row.expired_at) };
  }

  /** How many replies the contact wrote to each of these pickups (still kept). */
  async replyCounts(pickupIds: readonly string[]): Promise<Map<string, number>> {
    if (pickupIds.length === 0) return new Map();
    const rows = await this.db
      .selectFrom('pickup_replies')
      .select(['pickup_id', (eb) => eb.fn.countAll<number>().as('n')])
      .where('pickup_id', 'in', [...pickupIds])
      .groupBy('pickup_id')
      .execute();
    return new Map(rows.map((r) => [r.pickup_id, Number(r.n)]));
  }

  /** The contact's own copy of a reply (sealed, encrypted to the contact's and the sender's key). */
  async addOwnReply(row: Insertable<PickupRepliesTable>): Promise<void> {
    await this.db.insertInto('pickup_replies').values(row).execute();
  }

  /** The contact's own replies still encrypted to `fingerprint` (their current key), oldest first. */
  async ownReplies(
    contactId: string,
    fingerprint: string,
  ): Promise<{ id: string; pickup_id: string; created_at: number }[]> {
    return this.db
      .selectFrom('pickup_replies')
      .select(['id', 'pickup_id', 'created_at'])
      .where('contact_id', '=', contactId)
      .where('key_fingerprint', '=', fingerprint)
      .orderBy('created_at', 'asc')
      .execute();
  }

  /** One own reply of this contact, sealed; undefined when it is not theirs. */
  async ownReply(id: string, contactId: string): Promise<{ id: string; ciphertext: Uint8Array } | undefined> {
    return this.db
      .selectFrom('pickup_replies')
      .select(['id', 'ciphertext'])
      .where('id', '=', id)
      .where('contact_id', '=', contactId)
      .executeTakeFirst();
  }

  /** Tombstones past a year go. */
  async purgeTombstones(now: number): Promise<void> {
    await this.db
      .deleteFrom('pickup_tombstones')
      .where('expired_at', '<', now - TOMBSTONE_DAYS * 86_400_000)
      .execute();
  }

  // ---- sessions -------------------------------------------------------------------------------------

  async openSession(tokenHash: string, contactId: string, now: number): Promise<void> {
    await this.db
      .insertInto('pickup_sessions')
      .values({ token_hash: tokenHash, contact_id: contactId, created_at: now, last_seen_at: now })
      .execute();
  }

  /**
   * The contact of the live session behind a token hash; an ended one (idle longer than `idleMs`, or older
   * than SESSION_MAX_MS) is deleted and undefined. A live one is touched (the idle clock).
   */
  async session(tokenHash: string, idleMs: number, now: number): Promise<{ contactId: string } | undefined> {
    const row = await this.db
      .selectFrom('pickup_sessions')
      .select(['contact_id', 'created_at', 'last_seen_at'])
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    if (Number(row.last_seen_at) + idleMs < now || Number(row.created_at) + SESSION_MAX_MS < now) {
      await this.endSession(tokenHash);
      return undefined;
    }
    await this.db
      .updateTable('pickup_sessions')
      .set({ last_seen_at: now })
      .where('token_hash', '=', tokenHash)
      .execute();
    return { contactId: row.contact_id };
  }

  async endSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('pickup_sessions').where('token_hash', '=', tokenHash).execute();
  }

  /** End a contact's sessions (a new secret), except `keep` (the one that set it). */
  async endSessionsOf(contactId: string, keep?: string): Promise<void> {
    let q = this.db.deleteFrom('pickup_sessions').where('contact_id', '=', contactId);
    if (keep !== undefined) q = q.where('token_hash', '!=', keep);
    await q.execute();
  }

  /** Delete ended sessions; returns how many. */
  async expireSessions(idleMs: number, now: number): Promise<number> {
    const result = await this.db
      .deleteFrom('pickup_sessions')
      .where((eb) =>
        eb.or([eb('last_seen_at', '<', now - idleMs), eb('created_at', '<', now - SESSION_MAX_MS)]),
      )
      .executeTakeFirst();
    return Number(result.numDeletedRows);
  }

  /**
   * GDPR erasure of a contact: her pickups, her replies, her sessions, and the tombstones of her pickups
   * (`formerIds`: the pickup ids the sent list knows, for those already expired or withdrawn).
   */
  async eraseContact(
    contactId: string,
    formerIds: readonly string[],
  ): Promise<{ pickups: number; replies: number; sessions: number; tombstones: number }> {
    const own = await this.db
      .selectFrom('pickups')
      .select('id')
      .where('contact_id', '=', contactId)
      .execute();
    const ids = [...new Set([...own.map((r) => r.id), ...formerIds])];
    const replies = await this.db
      .deleteFrom('pickup_replies')
      .where('contact_id', '=', contactId)
      .executeTakeFirst();
    const sessions = await this.db
      .deleteFrom('pickup_sessions')
      .where('contact_id', '=', contactId)
      .executeTakeFirst();
    const pickups = await this.db
      .deleteFrom('pickups')
      .where('contact_id', '=', contactId)
      .executeTakeFirst();
    let tombstones = 0;
    for (let i = 0; i < ids.length; i += 500) {
      const res = await this.db
        .deleteFrom('pickup_tombstones')
        .where('id', 'in', ids.slice(i, i + 500))
        .executeTakeFirst();
      tombstones += Number(res.numDeletedRows);
    }
    return {
      pickups: Number(pickups.numDeletedRows),
      replies: Number(replies.numDeletedRows),
      sessions: Number(sessions.numDeletedRows),
      tombstones,
    };
  }
}

/** The sealed columns of pickups and their replies: a master-key rotation re-seals them (core/reseal.ts). */
export const SEALED_PICKUPS: readonly AnySealedColumn[] = [
  { table: 'pickups', column: 'ciphertext', key: 'id', purpose: 'pickup' },
  { table: 'pickup_replies', column: 'ciphertext', key: 'id', purpose: 'pickup', aadPrefix: 'reply:' },
];
