import type { Insertable, Kysely } from 'kysely';
import type { Database, OutboundChunksTable } from '../db/schema.ts';

/**
 * The rows of `outbound_chunks`: a large spool body in sealed chunks (core/store/outbound-chunks.ts writes
 * and reads them; docs/performance.md "Memory of one large message"). Part of the outbound store
 * (`stores.outbound.chunks`), which also drops a done row's chunks in the transaction of its state change.
 */
/** Every chunk of row `id`: a done row keeps no body (in the transaction of its state change). */
export async function dropChunksOf(db: Kysely<Database>, id: string): Promise<void> {
  await db.deleteFrom('outbound_chunks').where('outbound_id', '=', id).execute();
}

export class ChunkRows {
  constructor(private readonly db: Kysely<Database>) {}

  /** Insert one sealed chunk (its own statement: chunks are written before their row commits). */
  async add(chunk: Insertable<OutboundChunksTable>): Promise<void> {
    await this.db.insertInto('outbound_chunks').values(chunk).execute();
  }

  /** One sealed chunk, or undefined when it is missing. */
  async get(outboundId: string, idx: number): Promise<Uint8Array | undefined> {
    const row = await this.db
      .selectFrom('outbound_chunks')
      .select('body')
      .where('outbound_id', '=', outboundId)
      .where('idx', '=', idx)
      .executeTakeFirst();
    return row?.body;
  }

  /**
   * Drop a copy's chunks unless its row exists: after a commit whose outcome is unknown (PostgreSQL: the
   * connection dropped after COMMIT was sent) the row may be in the spool, and then it needs its body.
   */
  async dropUncommitted(outboundId: string): Promise<void> {
    await this.db
      .deleteFrom('outbound_chunks')
      .where('outbound_id', '=', outboundId)
      .where((eb) =>
        eb.not(
          eb.exists(eb.selectFrom('outbound').select('outbound.id').where('outbound.id', '=', outboundId)),
        ),
      )
      .execute();
  }

  /**
   * In the transaction that commits the copy's row: every one of its `chunks` is there (else throw, so that
   * nothing commits and the client gets no 250), and each is made young again, so the orphan sweep
   * (`sweep`, another process and clock) never takes the body of a row being committed. On PostgreSQL
   * the UPDATE's row locks make a concurrent sweep wait and re-check `created_at` after this commits.
   */
  async claim(outboundId: string, chunks: number, now: number): Promise<void> {
    const res = await this.db
      .updateTable('outbound_chunks')
      .set({ created_at: now })
      .where('outbound_id', '=', outboundId)
      .where('idx', '<', chunks)
      .executeTakeFirst();
    if (Number(res.numUpdatedRows) !== chunks) throw new Error('spool chunks missing at commit');
  }

  /**
   * Chunks older than `before` (ms) whose row is not queued: a message whose process died between its
   * chunks and its commit, or a done row's chunks should a delete ever have been missed. A row still being
   * written is younger than `before` (its chunks are written within one DATA phase).
   */
  async sweep(before: number): Promise<number> {
    const res = await this.db
      .deleteFrom('outbound_chunks')
      .where('created_at', '<', before)
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('outbound')
              .select('outbound.id')
              .whereRef('outbound.id', '=', 'outbound_chunks.outbound_id')
              .where('outbound.status', '=', 'queued'),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}
