import { randomUUID } from 'node:crypto';
import path from 'node:path';
import pg from 'pg';
import { isPostgresUrl, openDb, type Db } from '../../core/db/index.ts';
import { tmpDir } from './tmp.ts';

export type TestDbKind = 'sqlite' | 'postgres';

/** SQLite always; PostgreSQL too when DATABASE_URL points at a server (as in CI on this machine). */
export function testDbKinds(): TestDbKind[] {
  return isPostgresUrl(process.env.DATABASE_URL) ? ['sqlite', 'postgres'] : ['sqlite'];
}

export interface TestDb {
  db: Db;
  kind: TestDbKind;
  /** The SQLite file (for at-rest scans); undefined for PostgreSQL. */
  file?: string;
  pgSchema?: string;
  cleanup(): Promise<void>;
}

/** A fresh, migrated database: a new SQLite file, or a new schema in the PostgreSQL database. */
export async function openTestDb(kind: TestDbKind): Promise<TestDb> {
  if (kind === 'sqlite') {
    const tmp = tmpDir('sealpost-db-');
    const file = path.join(tmp.dir, 'sealpost.db');
    const db = await openDb({ sqliteFile: file });
    return {
      db,
      kind,
      file,
      cleanup: async () => {
        await db.close();
        tmp.cleanup();
      },
    };
  }
  const url = process.env.DATABASE_URL;
  if (!isPostgresUrl(url)) throw new Error('DATABASE_URL is not a PostgreSQL URL');
  const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  await admin.end();
  const db = await openDb({ databaseUrl: url, pgSchema: schema, poolSize: 4 });
  return {
    db,
    kind,
    pgSchema: schema,
    cleanup: async () => {
      await db.close();
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    },
  };
}
