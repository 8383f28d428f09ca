import type { ExpressionBuilder, Kysely, Selectable } from 'kysely';
import type { Database, OutboundTable } from '../db/schema.ts';
import { audit } from '../audit.ts';
import type { AnySealedColumn } from '../reseal.ts';
import { ChunkRows, dropChunksOf } from './outbound-chunk-rows.ts';
import type { NewOutboundRow } from './outbound-row.ts';

/**
 * The outbound spool (DESIGN.md invariant 3): the only code that reads or writes the `outbound` table.
 * Its invariants live here: a new row is queued now with its body sealed under its own id; a done row
 * (delivered or bounced) keeps its metadata and drops its body (a receipt's body holds an access code,
 * which the server must not keep); only a queued row changes state.
 */
export type OutboundRow = Selectable<OutboundTable>;
export {
  expiresAt,
  outboundRow,
  type NewOutbound,
  type NewOutboundRow,
  type SpooledChunks,
} from './outbound-row.ts';

/** A done row keeps no body. */
const EMPTY = new Uint8Array(0);

/** Rows per INSERT statement: 40 × 20 columns stays under SQLite's historic 999-parameter limit. */
const ROWS_PER_INSERT = 40;

export type QueueView = 'waiting' | 'deferred' | 'bounced' | 'delivered';

/** A row of the console's queue screen: metadata, never the body. */
export type QueueLine = Omit<
  OutboundRow,
  'body' | 'batch_id' | 'user_id' | 'message_id' | 'updated_at' | 'contact_id' | 'chunks'
>;

export interface RelayHealth {
  lastSuccess: number | null;
  lastFailure: { at: number; code: string; smtpCode: number | null } | null;
}

export interface AttemptResult {
  /** Our code of the attempt (never remote text). */
  code: string;
  smtpCode: number | null;
  /** The receiving server's reply line, when it gave one (shortened to REPLY_MAX, one line). */
  reply?: string | null;
}

/** A remote reply is kept to one line of at most this many characters (the sent list shows it). */
export const REPLY_MAX = 200;

export function shortReply(reply: string | null | undefined): string | null {
  if (!reply) return null;
  return (
    reply
      .replace(/[\r\n\t]+/g, ' ')
      .replace(/[^\x20-\x7e]/g, '?')
      .trim()
      .slice(0, REPLY_MAX) || null
  );
}

export type OutboundState = Pick<
  OutboundRow,
  | 'id'
  | 'status'
  | 'attempts'
  | 'next_attempt_at'
  | 'last_code'
  | 'last_smtp_code'
  | 'remote_reply'
  | 'remote_tls'
  | 'done_at'
  | 'updated_at'
>;

/** What the receiving server said to a delivered copy, and the TLS protocol of the connection. */
export interface DeliveryReceipt {
  reply?: string | undefined;
  tls?: string | undefined;
}

/** A TLS protocol name as Node reports it (`TLSv1.3`), or `none`; anything else is not recorded. */
function tlsName(tls: string | undefined): string | null {
  return tls && /^(none|TLSv1(\.[0-3])?|SSLv3)$/.test(tls) ? tls : null;
}

async function markOneDelivered(
  db: Kysely<Database>,
  row: MarkedRow,
  now: number,
  receipt: DeliveryReceipt,
): Promise<void> {
  // In the same transaction as the state change: a done row keeps no body, chunked or not.
  if (row.chunks !== 0) await dropChunksOf(db, row.id);
  await db
    .updateTable('outbound')
    .set({
      status: 'delivered',
      body: EMPTY,
      attempts: row.attempts + 1,
      last_code: 'DLV_DELIVERED',
      last_smtp_code: null,
      remote_reply: shortReply(receipt.reply),
      remote_tls: tlsName(receipt.tls),
      done_at: now,
      updated_at: now,
    })
    .where('id', '=', row.id)
    .execute();
}

/** A row to mark done; `chunks` (when known to be 0) spares the delete of its chunks. */
type MarkedRow = Pick<OutboundRow, 'id' | 'attempts'> & { chunks?: number };

export class OutboundStore {
  /** The chunks of large bodies (core/store/outbound-chunk-rows.ts). */
  readonly chunks: ChunkRows;

  constructor(private readonly db: Kysely<Database>) {
    this.chunks = new ChunkRows(db);
  }

  /** Insert rows built by `outboundRow` (in the caller's transaction when the store is bound to one). */
  async add(rows: readonly NewOutboundRow[]): Promise<void> {
    for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) {
      await this.db
        .insertInto('outbound')
        .values(rows.slice(i, i + ROWS_PER_INSERT))
        .execute();
    }
  }

  async find(id: string): Promise<OutboundRow | undefined> {
    return this.db.selectFrom('outbound').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** One page of queued rows after `after` (by id), for reconcile. */
  async queuedPage(after: string, limit: number): Promise<{ id: string; next_attempt_at: number }[]> {
    return this.db
      .selectFrom('outbound')
      .select(['id', 'next_attempt_at'])
      .where('status', '=', 'queued')
      .where('id', '>', after)
      .orderBy('id')
      .limit(limit)
      .execute();
  }

  /**
   * Delivered: the attempt counted, the body dropped. Marks that arrive in the same turn of the event loop
   * share one transaction (one commit, one fsync: with `synchronous = FULL` a commit of its own cost each
   * delivery 2–10 ms of the event loop on this machine; issue 17). Each caller's promise settles with
   * the commit that holds its row, so a delivery is never reported marked before it is; a failed commit
   * fails every mark in it (the worker retries each, worker/deliver.ts). In a transaction: at once.
   */
  markDelivered(row: MarkedRow, now: number, receipt: DeliveryReceipt = {}): Promise<void> {
    if (this.db.isTransaction) return markOneDelivered(this.db, row, now, receipt);
    return new Promise<void>((resolve, reject) => {
      this.#marks.push({ row, now, receipt, resolve, reject });
      if (this.#marks.length === 1) setImmediate(() => void this.#commitMarks());
    });
  }

  readonly #marks: {
    row: MarkedRow;
    now: number;
    receipt: DeliveryReceipt;
    resolve: () => void;
    reject: (err: unknown) => void;
  }[] = [];

  async #commitMarks(): Promise<void> {
    const batch = this.#marks.splice(0);
    try {
      await this.db.transaction().execute(async (trx) => {
        for (const m of batch) await markOneDelivered(trx, m.row, m.now, m.receipt);
      });
      for (const m of batch) m.resolve();
    } catch (err) {
      for (const m of batch) m.reject(err);
    }
  }

  /** A temporary failure of a queued row: the next attempt at `nextAt`. */
  async defer(
    row: Pick<OutboundRow, 'id' | 'attempts'>,
    result: AttemptResult & { nextAt: number },
    now: number,
  ): Promise<void> {
    await this.db
      .updateTable('outbound')
      .set({
        attempts: row.attempts + 1,
        next_attempt_at: result.nextAt,
        last_code: result.code,
        last_smtp_code: result.smtpCode,
        remote_reply: shortReply(result.reply),
        updated_at: now,
      })
      .where('id', '=', row.id)
      .where('status', '=', 'queued')
      .execute();
  }

  /**
   * Bounced: the row (if still queued) is done and drops its body, the DSN row (if any) is queued and the
   * bounce audited, all in one transaction. False when the row was no longer queued (nothing written).
   */
  async bounce(
    row: Pick<OutboundRow, 'id' | 'attempts'>,
    result: AttemptResult,
    dsn: NewOutboundRow | null,
    now: Date,
    by: { actor: string; action: string; ip?: string } = { actor: 'worker', action: 'message.bounced' },
  ): Promise<boolean> {
    const ts = now.getTime();
    return this.db.transaction().execute(async (trx) => {
      const updated = await trx
        .updateTable('outbound')
        .set({
          status: 'bounced',
          body: EMPTY,
          attempts: row.attempts + 1,
          last_code: result.code,
          last_smtp_code: result.smtpCode,
          remote_reply: shortReply(result.reply),
          done_at: ts,
          updated_at: ts,
        })
        .where('id', '=', row.id)
        .where('status', '=', 'queued')
        .executeTakeFirst();
      if (Number(updated.numUpdatedRows) === 0) return false;
      await dropChunksOf(trx, row.id);
      if (dsn) await trx.insertInto('outbound').values(dsn).execute();
      await audit(trx, { ...by, subject: row.id, detail: result.code }, now);
      return true;
    });
  }

  /** The delivery state of these rows (her sent list, docs/console.md): no body, no envelope. */
  async states(ids: readonly string[]): Promise<OutboundState[]> {
    if (ids.length === 0) return [];
    return this.db
      .selectFrom('outbound')
      .select(['id', 'status', 'attempts', 'next_attempt_at', 'last_code', 'last_smtp_code', 'remote_reply'])
      .select(['remote_tls', 'done_at', 'updated_at'])
      .where('id', 'in', [...ids])
      .execute();
  }

  /** How many replies a pickup contact wrote since `since` (ms), for the daily limit. */
  async repliesSince(contactId: string, since: number): Promise<number> {
    const row = await this.db
      .selectFrom('outbound')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('contact_id', '=', contactId)
      .where('kind', '=', 'reply')
      .where('created_at', '>', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** The copies waiting for delivery and when the oldest was spooled (the metrics' spool gauges). */
  async waiting(): Promise<{ count: number; oldestCreatedAt: number | null }> {
    const row = await this.db
      .selectFrom('outbound')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.min('created_at').as('oldest')])
      .where('status', '=', 'queued')
      .executeTakeFirstOrThrow();
    return { count: Number(row.n), oldestCreatedAt: row.oldest === null ? null : Number(row.oldest) };
  }

  /** Rows per status and kind (`sealpost queue status`). */
  async statusCounts(): Promise<{ status: string; kind: string; n: number }[]> {
    const rows = await this.db
      .selectFrom('outbound')
      .select(['status', 'kind', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy(['status', 'kind'])
      .orderBy('status')
      .execute();
    return rows.map((r) => ({ status: r.status, kind: r.kind, n: Number(r.n) }));
  }

  /**
   * One page of the console's queue screen (docs/admin-console.md): metadata only, never a body. 'waiting':
   * queued, not tried yet; 'deferred': queued after a failed attempt; 'bounced' / 'delivered': done since
   * `since` (ms). Newest first; one row more than `limit` tells the caller there is a next page.
   */
  async adminPage(q: {
    view: QueueView;
    since: number;
    offset: number;
    limit: number;
  }): Promise<QueueLine[]> {
    let query = this.db
      .selectFrom('outbound')
      .select([
        'id',
        'kind',
        'envelope_from',
        'recipient',
        'size',
        'status',
        'attempts',
        'next_attempt_at',
        'expires_at',
        'last_code',
        'last_smtp_code',
        'remote_reply',
        'remote_tls',
        'created_at',
        'done_at',
      ]);
    if (q.view === 'waiting') query = query.where('status', '=', 'queued').where('attempts', '=', 0);
    else if (q.view === 'deferred') query = query.where('status', '=', 'queued').where('attempts', '>', 0);
    else query = query.where('status', '=', q.view).where('done_at', '>=', q.since);
    return query
      .orderBy(q.view === 'waiting' || q.view === 'deferred' ? 'created_at' : 'done_at', 'desc')
      .orderBy('id')
      .offset(q.offset)
      .limit(q.limit + 1)
      .execute();
  }

  /** Queued rows that failed at least once (the health card's deferred count). */
  async deferredCount(): Promise<number> {
    const row = await this.db
      .selectFrom('outbound')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('status', '=', 'queued')
      .where('attempts', '>', 0)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** "Retry now": a queued row's next attempt is now. False when the row is not queued. */
  async retryNow(id: string, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('outbound')
      .set({ next_attempt_at: now, updated_at: now })
      .where('id', '=', id)
      .where('status', '=', 'queued')
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /**
   * The relay as the spool saw it: the last delivery, and the last failed attempt with our code and the
   * remote reply code (the console's health card). Derived from the rows the worker writes at every attempt.
   */
  async relayHealth(): Promise<RelayHealth> {
    const ok = await this.db
      .selectFrom('outbound')
      .select((eb) => eb.fn.max('done_at').as('at'))
      .where('status', '=', 'delivered')
      .executeTakeFirst();
    const failed = await this.db
      .selectFrom('outbound')
      .select(['updated_at', 'last_code', 'last_smtp_code'])
      .where('attempts', '>', 0)
      .where('last_code', 'is not', null)
      .where('last_code', '!=', 'DLV_DELIVERED')
      .where('last_code', '!=', 'DLV_CANCELLED')
      .orderBy('updated_at', 'desc')
      .limit(1)
      .executeTakeFirst();
    return {
      lastSuccess: ok?.at == null ? null : Number(ok.at),
      lastFailure: failed
        ? { at: Number(failed.updated_at), code: failed.last_code ?? '', smtpCode: failed.last_smtp_code }
        : null,
    };
  }

  /** GDPR erasure of a contact: every spool row to or from her (notifications, her replies). */
  async eraseContact(address: string, contactId: string): Promise<number> {
    const hers = (eb: ExpressionBuilder<Database, 'outbound'>) =>
      eb.or([
        eb('recipient', '=', address),
        eb('envelope_from', '=', address),
        eb('contact_id', '=', contactId),
      ]);
    await this.db
      .deleteFrom('outbound_chunks')
      .where('outbound_id', 'in', (eb) => eb.selectFrom('outbound').select('id').where(hers))
      .execute();
    const res = await this.db.deleteFrom('outbound').where(hers).executeTakeFirst();
    return Number(res.numDeletedRows);
  }
}

/** The spool's sealed columns: a master-key rotation re-seals it (core/reseal.ts). */
export const SEALED_OUTBOUND: readonly AnySealedColumn[] = [
  { table: 'outbound', column: 'body', key: 'id', purpose: 'spool' },
  // A chunk is re-sealed under the associated data it was sealed with (its place): never mended.
  { table: 'outbound_chunks', column: 'body', key: 'place', purpose: 'spool' },
];
