import type { Insertable, Kysely } from 'kysely';
import type { Database, SentRecipientsTable, SentSubjectsTable } from '../db/schema.ts';
import type { AnySealedColumn } from '../reseal.ts';

/**
 * Her sent messages (docs/console.md "Sent messages"): the only code that reads or writes `sent_recipients`
 * and `sent_subjects`. One row per (message, recipient): the path and the policy's reason, the key and its
 * source, the outbound row whose state is the delivery state, the pickup and when it was first opened or
 * withdrawn. Never content; the subject only as OpenPGP to her console key, sealed. Every read is bound to
 * the user id.
 */
export type SentRecipientRow = SentRecipientsTable;

export class SentStore {
  constructor(private readonly db: Kysely<Database>) {}

  async add(rows: readonly Insertable<SentRecipientsTable>[], subject?: Insertable<SentSubjectsTable>) {
    if (rows.length > 0)
      await this.db
        .insertInto('sent_recipients')
        .values([...rows])
        .execute();
    if (subject) await this.db.insertInto('sent_subjects').values(subject).execute();
  }

  /** Her messages (batch ids), newest first: `limit` from `offset`, and how many there are. */
  async page(userId: string, offset: number, limit: number): Promise<{ batches: string[]; total: number }> {
    const rows = await this.db
      .selectFrom('sent_recipients')
      .select(['batch_id', (eb) => eb.fn.max('created_at').as('at')])
      .where('user_id', '=', userId)
      .groupBy('batch_id')
      .orderBy('at', 'desc')
      .orderBy('batch_id', 'desc')
      .limit(limit)
      .offset(offset)
      .execute();
    const total = await this.db
      .selectFrom('sent_recipients')
      .select((eb) => eb.fn.count<number>('batch_id').distinct().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirstOrThrow();
    return { batches: rows.map((r) => r.batch_id), total: Number(total.n) };
  }

  /** The recipients of her messages `batchIds`. */
  async recipients(userId: string, batchIds: readonly string[]): Promise<SentRecipientRow[]> {
    if (batchIds.length === 0) return [];
    return this.db
      .selectFrom('sent_recipients')
      .selectAll()
      .where('user_id', '=', userId)
      .where('batch_id', 'in', [...batchIds])
      .orderBy('created_at', 'desc')
      .orderBy('recipient', 'asc')
      .execute();
  }

  async subjects(userId: string, batchIds: readonly string[]) {
    if (batchIds.length === 0) return [];
    return this.db
      .selectFrom('sent_subjects')
      .selectAll()
      .where('user_id', '=', userId)
      .where('batch_id', 'in', [...batchIds])
      .execute();
  }

  /** One recipient row of hers; undefined when it is not hers. */
  async recipient(userId: string, id: string): Promise<SentRecipientRow | undefined> {
    return this.db
      .selectFrom('sent_recipients')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
  }

  /** Whether `address` is one of her pickup recipients (the console acts only on her own contacts). */
  async isHerPickupRecipient(userId: string, address: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('sent_recipients')
      .select('id')
      .where('user_id', '=', userId)
      .where('recipient', '=', address)
      .where('path', '=', 'pickup')
      .executeTakeFirst();
    return !!row;
  }

  /** The pickup was opened (its ciphertext fetched): the first time only is kept. */
  async markOpened(pickupId: string, now: number): Promise<void> {
    await this.db
      .updateTable('sent_recipients')
      .set({ first_opened_at: now })
      .where('pickup_id', '=', pickupId)
      .where('first_opened_at', 'is', null)
      .execute();
  }

  async markWithdrawn(userId: string, id: string, now: number): Promise<void> {
    await this.db
      .updateTable('sent_recipients')
      .set({ withdrawn_at: now })
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .execute();
  }

  /** GDPR erasure of a contact: the pickup ids sent to her, then every sent-list row naming her. */
  async pickupIdsTo(recipient: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('sent_recipients')
      .select('pickup_id')
      .where('recipient', '=', recipient)
      .where('pickup_id', 'is not', null)
      .execute();
    return rows.flatMap((r) => (r.pickup_id ? [r.pickup_id] : []));
  }

  async eraseRecipient(recipient: string): Promise<number> {
    const res = await this.db
      .deleteFrom('sent_recipients')
      .where('recipient', '=', recipient)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

/** The sealed subjects of her sent list: a master-key rotation re-seals them (core/reseal.ts). */
export const SEALED_SENT: readonly AnySealedColumn[] = [
  {
    table: 'sent_subjects',
    column: 'ciphertext',
    key: 'batch_id',
    purpose: 'console',
    aadPrefix: 'subject:',
  },
];
