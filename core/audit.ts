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

export interface AuditQuery {
  from?: number;
  to?: number;
  actor?: string;
  action?: string;
  offset: number;
  limit: number;
}

export interface AuditRow {
  id: number;
  at: number;
  actor: string;
  action: string;
  subject: string | null;
  detail: string | null;
  ip: string | null;
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

  /**
   * The console's audit screen and its CSV export: entries between `from` and `to` (ms, inclusive), of one
   * actor and one action (or an action prefix ending in '.'), newest first; `limit + 1` rows are read so the
   * caller knows whether a next page exists.
   */
  async page(q: AuditQuery): Promise<AuditRow[]> {
    let query = this.db.selectFrom('audit').selectAll();
    if (q.from !== undefined) query = query.where('at', '>=', q.from);
    if (q.to !== undefined) query = query.where('at', '<=', q.to);
    if (q.actor) query = query.where('actor', '=', q.actor);
    if (q.action?.endsWith('.')) query = query.where('action', 'like', `${q.action.replace(/[%_\\]/g, '')}%`);
    else if (q.action) query = query.where('action', '=', q.action);
    const rows = await query
      .orderBy('at', 'desc')
      .orderBy('id', 'desc')
      .offset(q.offset)
      .limit(q.limit + 1)
      .execute();
    return rows.map((r) => ({ ...r, id: Number(r.id), at: Number(r.at) }));
  }

  /** Every action name recorded so far (the filter's choices). */
  async actions(): Promise<string[]> {
    const rows = await this.db.selectFrom('audit').select('action').distinct().orderBy('action').execute();
    return rows.map((r) => r.action);
  }

  /** GDPR erasure of a contact: entries that named the address keep who, what and when, not whom. */
  async eraseSubject(subject: string): Promise<number> {
    const res = await this.db
      .updateTable('audit')
      .set({ subject: 'erased' })
      .where('subject', '=', subject)
      .executeTakeFirst();
    return Number(res.numUpdatedRows);
  }
}
