import type { Kysely, Transaction } from 'kysely';
import type { Database } from './db/schema.ts';

export interface AuditEntry {
  actor: string;
  action: string;
  subject?: string;
  detail?: string;
  /** Where the action came from (console actions). */
  ip?: string;
}

/** Append an audit row. Subject and detail are addresses, ids, codes or fingerprints — never content. */
export async function audit(
  db: Kysely<Database> | Transaction<Database>,
  entry: AuditEntry,
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
      ip: entry.ip ?? null,
    })
    .execute();
}

/** The audit trail as a store (core/store/index.ts): append only. */
export class AuditStore {
  constructor(private readonly db: Kysely<Database> | Transaction<Database>) {}

  record(entry: AuditEntry, now: Date): Promise<void> {
    return audit(this.db, entry, now);
  }
}
