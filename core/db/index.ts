import { chmodSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import {
  CompiledQuery,
  Kysely,
  Migrator,
  PostgresDialect,
  sql,
  SqliteDialect,
  SqliteDriver,
  type DatabaseConnection,
  type Driver,
  type SqliteDatabase,
  type SqliteDialectConfig,
} from 'kysely';
import pg from 'pg';
import type { Database } from './schema.ts';
import { errName, type Log } from '../log.ts';
import { migrationProvider } from './migrations.ts';
import { createStores, type Stores } from '../store/index.ts';

export type { Database } from './schema.ts';
export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  readonly kysely: Kysely<Database>;
  /** One store per table family (core/store/index.ts): the only code that queries a table. */
  readonly stores: Stores;
  readonly dialect: Dialect;
  /** The PostgreSQL schema in use when not the default (tests). */
  readonly schema?: string;
  close(): Promise<void>;
}

export interface OpenDbOptions {
  /** postgres://… selects PostgreSQL; anything else (or nothing) is SQLite. */
  databaseUrl?: string | undefined;
  /** SQLite file; default `<dataDir>/sealpost.db`. */
  sqliteFile?: string;
  dataDir?: string;
  /** PostgreSQL schema to use (tests isolate themselves with one schema each). */
  pgSchema?: string;
  /** PostgreSQL pool size. */
  poolSize?: number;
  /** Where a lost PostgreSQL connection is reported (SYS_DB_CONNECTION_LOST). */
  log?: Log;
}

const INT8_OID = 20;

export function isPostgresUrl(url: string | undefined): url is string {
  return !!url && /^postgres(ql)?:\/\//.test(url);
}

/** Open the database and bring its schema up to date. */
/**
 * Write transactions take SQLite's write lock when they begin (`BEGIN IMMEDIATE`), not at their first write:
 * with the gateway and the worker in two processes on one file (`npm start`), a deferred transaction that
 * read first and then writes fails at once with SQLITE_BUSY when the other process committed meanwhile (the
 * busy timeout does not apply to that upgrade). Taking the lock up front makes it wait its turn instead.
 */
class ImmediateSqliteDriver extends SqliteDriver {
  override async beginTransaction(connection: DatabaseConnection): Promise<void> {
    await connection.executeQuery(CompiledQuery.raw('begin immediate'));
  }
}

class ImmediateSqliteDialect extends SqliteDialect {
  readonly #config: SqliteDialectConfig;
  constructor(config: SqliteDialectConfig) {
    super(config);
    this.#config = config;
  }
  override createDriver(): Driver {
    return new ImmediateSqliteDriver(this.#config);
  }
}

/** More distinct statements than this (SQL texts, not calls) and the cache starts over. */
const STATEMENT_CACHE_LIMIT = 500;

/**
 * better-sqlite3 keeping its prepared statements: Kysely's SQLite driver prepares every query anew, so
 * SQLite parsed and planned the same few dozen SQL texts on every call, on the event loop (a tenth of the
 * SQL time per message in the issue 17 profile, docs/performance.md). A statement is reused by its SQL
 * text; one still busy (an iterator not finished) is never handed out twice: the caller gets a fresh one.
 * A prepared statement re-prepares itself after a schema change (sqlite3_prepare_v3), so migrations need
 * nothing here.
 */
export function cachingStatements(sqlite: BetterSqlite3.Database): SqliteDatabase {
  const statements = new Map<string, BetterSqlite3.Statement>();
  return {
    prepare(text: string) {
      const kept = statements.get(text);
      if (kept && !kept.busy) return kept;
      const fresh = sqlite.prepare(text);
      if (!kept) {
        if (statements.size >= STATEMENT_CACHE_LIMIT) statements.clear();
        statements.set(text, fresh);
      }
      return fresh;
    },
    close() {
      statements.clear();
      sqlite.close();
    },
  };
}

export async function openDb(options: OpenDbOptions): Promise<Db> {
  const db = isPostgresUrl(options.databaseUrl) ? openPostgres(options) : openSqlite(options);
  await migrate(db);
  return db;
}

function openSqlite(options: OpenDbOptions): Db {
  const file = options.sqliteFile ?? path.join(options.dataDir ?? './data', 'sealpost.db');
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  const sqlite = new BetterSqlite3(file);
  // The file holds ciphertext and metadata: for this user alone. SQLite gives its -wal and -shm files the
  // mode of the database file, so they follow (core/data-dir.ts).
  if ((statSync(file).mode & 0o077) !== 0) chmodSync(file, 0o600);
  // WAL: readers do not block the writer; synchronous=FULL: a 250 means the commit reached the disk.
  sqlite.pragma('journal_mode = WAL');
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma('busy_timeout = 10000');
  // Deleted rows are overwritten, so that no ciphertext lingers in free pages after expiry.
  sqlite.pragma('secure_delete = ON');
  const kysely = new Kysely<Database>({
    dialect: new ImmediateSqliteDialect({ database: cachingStatements(sqlite) }),
  });
  return { kysely, stores: createStores(kysely), dialect: 'sqlite', close: () => kysely.destroy() };
}

function openPostgres(options: OpenDbOptions): Db {
  const pool = new pg.Pool({
    connectionString: options.databaseUrl,
    max: options.poolSize ?? 10,
    // A database host that does not answer must not hold a query (or /readyz, or shutdown) forever.
    connectionTimeoutMillis: 10_000,
    ...(options.pgSchema ? { options: `-c search_path=${options.pgSchema}` } : {}),
    types: {
      getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
        oid === INT8_OID
          ? (v: string) => Number(v)
          : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
    },
  });
  // An idle connection the server closed (a PostgreSQL restart, a failover) is reported on the pool: without a
  // listener that is an uncaught error and the process dies. The pool opens a new one at the next query.
  pool.on('error', (err) => options.log?.warn('SYS_DB_CONNECTION_LOST', { errName: errName(err) }));
  const kysely = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
  return {
    kysely,
    stores: createStores(kysely),
    dialect: 'postgres',
    ...(options.pgSchema ? { schema: options.pgSchema } : {}),
    close: () => kysely.destroy(),
  };
}

/**
 * The migrations this code knows that the database has not run (readiness: "migrations current"). A
 * database restored from an older backup under a running process shows here until the process restarts.
 */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const known = Object.keys(await migrationProvider(db.dialect).getMigrations());
  const table = sql.table(db.schema ? `${db.schema}.sealpost_migrations` : 'sealpost_migrations');
  const { rows } = await sql<{ name: string }>`select name from ${table}`.execute(db.kysely);
  const done = new Set(rows.map((r) => r.name));
  return known.filter((name) => !done.has(name));
}

export async function migrate(db: Db): Promise<void> {
  const migrator = new Migrator({
    db: db.kysely,
    provider: migrationProvider(db.dialect),
    migrationTableName: 'sealpost_migrations',
    migrationLockTableName: 'sealpost_migrations_lock',
    // Kysely looks the migration tables up across all schemas; name ours, or another schema's tables count.
    ...(db.schema ? { migrationTableSchema: db.schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`database migration ${failed} failed: ${(error as Error).message}`);
  }
}
