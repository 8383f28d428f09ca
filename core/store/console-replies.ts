import type { Insertable, Kysely } from 'kysely';
import type { ConsoleRepliesTable, Database } from '../db/schema.ts';
import type { AnySealedColumn } from '../reseal.ts';

/**
 * Pickup replies kept for the practitioner's console (docs/console.md "Replies"): the only code that reads
 * or writes `console_replies`. Every query is bound to a user id: another practitioner's reply is never
 * listed, opened or deleted.
 */
export type ConsoleReplyRow = ConsoleRepliesTable;

export type ConsoleReplyListing = Omit<ConsoleRepliesTable, 'ciphertext' | 'user_id'>;

export class ConsoleReplyStore {
  constructor(private readonly db: Kysely<Database>) {}

  async add(row: Insertable<ConsoleRepliesTable>): Promise<void> {
    await this.db.insertInto('console_replies').values(row).execute();
  }

  /** Her replies, newest first, one page; `total` for the pager. */
  async listOf(
    userId: string,
    page: { offset: number; limit: number },
  ): Promise<{ rows: ConsoleReplyListing[]; total: number }> {
    const rows = await this.db
      .selectFrom('console_replies')
      .select(['id', 'contact_id', 'contact_address', 'sender_address', 'signature', 'created_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at', 'desc')
      .orderBy('id', 'desc')
      .offset(page.offset)
      .limit(page.limit)
      .execute();
    const count = await this.db
      .selectFrom('console_replies')
      .select((eb) => eb.fn.countAll<number | string | bigint>().as('n'))
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return {
      rows: rows.map((r) => ({ ...r, created_at: Number(r.created_at) })),
      total: Number(count?.n ?? 0),
    };
  }

  async byId(userId: string, id: string): Promise<ConsoleReplyRow | undefined> {
    const row = await this.db
      .selectFrom('console_replies')
      .selectAll()
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && { ...row, created_at: Number(row.created_at) };
  }

  /** True when her reply `id` was there and is gone now. */
  async delete(userId: string, id: string): Promise<boolean> {
    const res = await this.db
      .deleteFrom('console_replies')
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  /** GDPR erasure of a contact: every practitioner's kept replies from her. */
  async eraseContact(contactId: string): Promise<number> {
    const res = await this.db
      .deleteFrom('console_replies')
      .where('contact_id', '=', contactId)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

/** The sealed replies kept for her console: a master-key rotation re-seals them (core/reseal.ts). */
export const SEALED_CONSOLE_REPLIES: readonly AnySealedColumn[] = [
  { table: 'console_replies', column: 'ciphertext', key: 'id', purpose: 'console', aadPrefix: 'reply:' },
];
