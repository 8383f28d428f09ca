import type { Kysely } from 'kysely';
import type { Database } from './db/schema.ts';
import type { SealPurpose, Sealer } from './seal.ts';

/**
 * Re-sealing at-rest data with the current master key (`sealpost master-key rotate`, docs/backup.md
 * "Rotating the master key"). Each sealed column is described by its owner store (core/store/*, and the
 * key store for sender keys), so that table names stay with their owners; this module walks any of them.
 *
 * A row is read, opened (with the current or a previous key), sealed again with the current key and written
 * back with a compare-and-swap on the old blob: a row a running service changed meanwhile is read again,
 * never overwritten. Rows already sealed with the current key (and empty blobs: a delivered spool row keeps
 * no body) are skipped, so the walk can be run again and resumed after an interruption. A row that opens
 * with no configured key is counted as failed and named by its key — never by its content.
 */
export interface SealedColumn<T extends keyof Database> {
  readonly table: T;
  /** The sealed column. */
  readonly column: keyof Database[T] & string;
  /** The row's primary key (text). */
  readonly key: keyof Database[T] & string;
  readonly purpose: SealPurpose;
  /** The associated data is `aadPrefix + row[aadColumn]` (default: the key column, no prefix). */
  readonly aadColumn?: keyof Database[T] & string;
  readonly aadPrefix?: string;
}

/** A sealed column of any table. */
export type AnySealedColumn = { [T in keyof Database]: SealedColumn<T> }[keyof Database];

export interface ResealProgress {
  readonly table: string;
  readonly column: string;
  /** Rows handled so far in this column (resealed, skipped or failed). */
  readonly done: number;
  /** Rows in the column when the walk began. */
  readonly total: number;
}

export interface ResealResult {
  resealed: number;
  skipped: number;
  /** `table.column key`, for rows no configured key opens (and rows that kept changing under us). */
  failed: string[];
}

/** A text primary key, a blob and the associated data column: what the walk reads of any sealed table. */
type AnyTable = Record<string, string | Uint8Array>;
type AnyDb = Record<string, AnyTable>;

const BATCH = 200;
/** A row a running service rewrote this many times during one walk is left for the next run. */
const ATTEMPTS = 5;

export async function resealColumns(input: {
  db: Kysely<Database>;
  sealer: Sealer;
  columns: readonly AnySealedColumn[];
  onProgress?: (p: ResealProgress) => void;
  batch?: number;
}): Promise<ResealResult> {
  const result: ResealResult = { resealed: 0, skipped: 0, failed: [] };
  for (const col of input.columns) {
    const one = await resealColumn(input.db, input.sealer, col, input.onProgress, input.batch ?? BATCH);
    result.resealed += one.resealed;
    result.skipped += one.skipped;
    result.failed.push(...one.failed);
  }
  return result;
}

async function resealColumn(
  kysely: Kysely<Database>,
  sealer: Sealer,
  col: AnySealedColumn,
  onProgress: ((p: ResealProgress) => void) | undefined,
  batch: number,
): Promise<ResealResult> {
  // The column names come from the owner's descriptor (typed against the schema), not from input.
  const db = kysely as unknown as Kysely<AnyDb>;
  const { table, column, key }: { table: string; column: string; key: string } = col;
  const counted = await db
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string | number | bigint>().as('n'))
    .executeTakeFirst();
  const total = Number(counted?.n ?? 0);
  const result: ResealResult = { resealed: 0, skipped: 0, failed: [] };
  let after: string | undefined;
  for (;;) {
    // Keys only, a batch at a time (keyset order): a large spool body is read one row at a time below.
    let page = db.selectFrom(table).select(key).orderBy(key).limit(batch);
    if (after !== undefined) page = page.where(key, '>', after);
    const keys = (await page.execute()).map((r) => String(r[key]));
    if (keys.length === 0) break;
    for (const id of keys) {
      const outcome = await resealRow(db, sealer, col, id);
      if (outcome === 'resealed') result.resealed++;
      else if (outcome === 'skipped') result.skipped++;
      else if (outcome === 'failed') result.failed.push(`${table}.${column} ${id}`);
    }
    after = keys[keys.length - 1];
    onProgress?.({
      table,
      column,
      done: result.resealed + result.skipped + result.failed.length,
      total,
    });
    if (keys.length < batch) break;
  }
  if (total === 0) onProgress?.({ table, column, done: 0, total });
  return result;
}

async function resealRow(
  db: Kysely<AnyDb>,
  sealer: Sealer,
  col: AnySealedColumn,
  id: string,
): Promise<'resealed' | 'skipped' | 'failed' | 'gone'> {
  const { table, column, key }: { table: string; column: string; key: string } = col;
  const aadColumn: string = col.aadColumn ?? key;
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const row = await db.selectFrom(table).select([column, aadColumn]).where(key, '=', id).executeTakeFirst();
    if (!row) return 'gone'; // deleted meanwhile (delivered, expired, erased)
    const blob = row[column];
    if (!(blob instanceof Uint8Array)) return 'failed';
    if (blob.length === 0 || sealer.isCurrent(blob)) return 'skipped';
    const aad = `${col.aadPrefix ?? ''}${String(row[aadColumn])}`;
    let plain: Buffer;
    try {
      plain = sealer.open(col.purpose, blob, aad);
    } catch {
      return 'failed';
    }
    const fresh = sealer.seal(col.purpose, plain, aad);
    plain.fill(0);
    const updated = await db
      .updateTable(table)
      .set({ [column]: fresh })
      .where(key, '=', id)
      .where(column, '=', blob)
      .executeTakeFirst();
    if (Number(updated.numUpdatedRows) === 1) return 'resealed';
    // A running service wrote the row meanwhile: read it again (it may be sealed with the current key now).
  }
  return 'failed';
}
