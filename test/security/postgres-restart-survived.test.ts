import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import pg from 'pg';
import { openDb, type Db } from '../../core/db/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { until } from '../helpers/lifecycle.ts';
import { captureLog } from '../helpers/log.ts';

/**
 * PostgreSQL restarts (an update, a failover) or an admin ends Sealpost's sessions: the server closes
 * every connection, also the idle ones in Sealpost's pool. node-postgres reports that as an 'error' event
 * on the pool; with no listener that was an uncaught exception and the whole Sealpost process died. Now it
 * is logged (SYS_DB_CONNECTION_LOST) and the next query opens a new connection.
 */
const URL_ = process.env.DATABASE_URL;

for (const kind of testDbKinds().filter((k) => k === 'postgres')) {
  describe(`security: a PostgreSQL restart does not kill the process (${kind})`, function () {
    this.timeout(60_000);
    let db: Db | undefined;
    const schema = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
    const admin = () => new pg.Client({ connectionString: URL_ });

    before(async () => {
      const c = admin();
      await c.connect();
      await c.query(`CREATE SCHEMA ${schema}`);
      await c.end();
    });
    after(async () => {
      await db?.close();
      const c = admin();
      await c.connect();
      await c.query(`DROP SCHEMA ${schema} CASCADE`);
      await c.end();
    });

    it('logs the lost connection and answers the next query on a new one', async () => {
      const capture = captureLog('debug');
      db = await openDb({ databaseUrl: URL_, pgSchema: schema, poolSize: 1, log: capture.log });
      const pidOf = async (d: Db) =>
        (await sql<{ pid: number }>`select pg_backend_pid() as pid`.execute(d.kysely)).rows[0]!.pid;
      const before = await pidOf(db);
      // The connection is idle in the pool now; the server ends it, as a restart does.
      const c = admin();
      await c.connect();
      await c.query('select pg_terminate_backend($1)', [before]);
      await c.end();
      await until('the pool reported the lost connection', () =>
        capture.text().includes('"code":"SYS_DB_CONNECTION_LOST"'),
      );
      const after = await pidOf(db);
      assert.notEqual(after, before, 'a new connection');
    });
  });
}
