import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, statSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';
import { z } from 'zod';
import { loadConfig, type Config } from '../core/config.ts';
import { isPostgresUrl } from '../core/db/index.ts';
import type { ParsedArgs } from './admin.ts';
import { CommandError, UsageError } from './io.ts';

/**
 * `sealpost backup FILE` and `sealpost restore FILE` (docs/backup.md). SQLite: a consistent copy of the
 * live database (SQLite's online backup, while the services run), restored into a data folder without a
 * database. PostgreSQL: pg_dump's custom format, restored with pg_restore into an empty database. The
 * backup holds ciphertext and metadata only: without the master key it cannot be opened, so the key is
 * kept apart from it (and with the same care).
 */
const file = z
  .string()
  .min(1, 'a file name')
  .transform((f) => path.resolve(f));

function fileArg(args: ParsedArgs): string {
  const result = file.safeParse(args.positionals[0]);
  if (!result.success || args.positionals.length !== 1) throw new UsageError('FILE: one file name');
  return result.data;
}

const sqliteFile = (config: Config) => path.join(config.dataDir, 'sealpost.db');

const MASTER_KEY_NOTE =
  'The backup holds ciphertext only. Keep the master key (SEALPOST_MASTER_KEY, or master.key in the data ' +
  'folder) apart from it: without the key the backup cannot be opened, and whoever has both can read it.';

export async function backup(args: ParsedArgs): Promise<void> {
  const target = fileArg(args);
  if (existsSync(target)) throw new CommandError('CLI_BACKUP_EXISTS', `${target} exists already`);
  const config = loadConfig();
  if (isPostgresUrl(config.databaseUrl)) {
    await pgTool('pg_dump', ['--format=custom', '--no-owner', '--file', target], config.databaseUrl);
  } else {
    const source = sqliteFile(config);
    if (!existsSync(source)) throw new CommandError('CLI_BACKUP_NO_DATABASE', `no database at ${source}`);
    // SQLite's online backup: a consistent snapshot while the services go on writing (WAL).
    const db = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
    try {
      await db.backup(target);
    } finally {
      db.close();
    }
  }
  console.log(`backup written to ${target} (${statSync(target).size} bytes)`);
  console.log(MASTER_KEY_NOTE);
}

export async function restore(args: ParsedArgs): Promise<void> {
  const source = fileArg(args);
  if (!existsSync(source)) throw new UsageError(`FILE: ${source} does not exist`);
  const config = loadConfig();
  if (isPostgresUrl(config.databaseUrl)) {
    await assertEmptyPostgres(config.databaseUrl);
    await pgTool(
      'pg_restore',
      ['--no-owner', '--exit-on-error', '--single-transaction', source],
      config.databaseUrl,
    );
  } else {
    const target = sqliteFile(config);
    if (existsSync(target)) {
      throw new CommandError(
        'CLI_RESTORE_NOT_EMPTY',
        `${target} exists: restore goes into an empty data folder`,
      );
    }
    const db = new BetterSqlite3(source, { readonly: true, fileMustExist: true });
    try {
      const migrations = db
        .prepare(
          "SELECT count(*) AS n FROM sqlite_master WHERE type = 'table' AND name = 'sealpost_migrations'",
        )
        .get() as { n: number };
      if (migrations.n !== 1) throw new UsageError(`FILE: ${source} is not a Sealpost database`);
      mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
      await db.backup(target);
    } finally {
      db.close();
    }
  }
  console.log(`restored ${source}`);
  console.log(
    'Start Sealpost with the master key of the backup. The worker finds the queued mail in the database and ' +
      'delivers it; pickups open with their codes as before.',
  );
}

async function assertEmptyPostgres(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 10_000 });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = current_schema()',
    );
    if (Number(rows[0]?.n ?? 0) > 0) {
      throw new CommandError(
        'CLI_RESTORE_NOT_EMPTY',
        'the database has tables: restore goes into an empty one',
      );
    }
  } finally {
    await client.end();
  }
}

/** pg_dump / pg_restore with the database URL; its password travels in the environment, not argv. */
async function pgTool(tool: 'pg_dump' | 'pg_restore', args: string[], databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const env: NodeJS.ProcessEnv = { ...process.env };
  if (url.password) env.PGPASSWORD = decodeURIComponent(url.password);
  url.password = '';
  const child = spawn(tool, [...args, '--dbname', url.toString()], {
    env,
    stdio: ['ignore', 'inherit', 'pipe'],
  });
  let errors = '';
  child.stderr.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', resolve);
  }).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') {
      throw new CommandError(
        'CLI_PG_TOOL_MISSING',
        `${tool} not found: install the PostgreSQL client (apt-get install postgresql-client), or see docs/backup.md`,
      );
    }
    throw err;
  });
  if (code !== 0)
    throw new CommandError('CLI_PG_TOOL_FAILED', `${tool} failed (exit ${code}): ${errors.trim()}`);
}
