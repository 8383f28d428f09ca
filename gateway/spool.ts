import type { Insertable } from 'kysely';
import type { OutboundTable } from '../core/db/schema.ts';
import { newId } from '../core/ids.ts';
import type { GatewayContext } from './context.ts';
import type { Copy } from './output.ts';

/**
 * The outbound spool (DESIGN.md invariant 3): every copy of one accepted message in ONE transaction, each
 * body sealed with the master key. Either all rows are committed or none: a 250 follows only a commit.
 */
/** Rows per INSERT statement: 50 × 16 columns stays under SQLite's historic 999-parameter limit. */
const ROWS_PER_INSERT = 50;

export async function spool(
  ctx: GatewayContext,
  input: {
    copies: readonly Copy[];
    userId: string;
    envelopeFrom: string;
    messageId: string;
    now: Date;
  },
): Promise<{ batchId: string; ids: string[] }> {
  const { db, sealer, config } = ctx.deps;
  const batchId = newId();
  const ts = input.now.getTime();
  const rows: Insertable<OutboundTable>[] = input.copies.map((copy) => {
    const id = newId();
    return {
      id,
      batch_id: batchId,
      kind: copy.kind,
      user_id: input.userId,
      envelope_from: input.envelopeFrom,
      recipient: copy.recipient,
      message_id: input.messageId,
      // The row id is the associated data: a body moved to another row (another recipient) fails to open.
      body: sealer.seal('spool', copy.parts, id),
      size: copy.parts.reduce((n, p) => n + p.length, 0),
      status: 'queued',
      attempts: 0,
      next_attempt_at: ts,
      expires_at: ts + config.delivery.giveUpAfterSeconds * 1000,
      last_code: null,
      last_smtp_code: null,
      created_at: ts,
      updated_at: ts,
      done_at: null,
    };
  });
  await db.kysely.transaction().execute(async (trx) => {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      await trx
        .insertInto('outbound')
        .values(rows.slice(i, i + ROWS_PER_INSERT))
        .execute();
    }
  });
  return { batchId, ids: rows.map((r) => r.id) };
}
