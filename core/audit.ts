import type { Kysely, Transaction } from 'kysely';
import type { Database } from './db/schema.ts';

/** Append an audit row. Subject and detail are addresses, ids, codes or fingerprints — never content. */
export async function audit(
  db: Kysely<Database> | Transaction<Database>,
  entry: { actor: string; action: string; subject?: string; detail?: string },
  now: Date,
): Promise<void> {
  await db
    .insertInto('audit')
    .values({
      at: now.getTime(),
      actor: entry.actor,
      action: entry.action,
      subject: entry.subject ?? null,
      detail: entry.detail ?? null,
    })
    .execute();
}
