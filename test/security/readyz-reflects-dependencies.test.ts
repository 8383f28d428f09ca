import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { sql } from 'kysely';
import { startLocalRedis } from '../../core/redis.ts';
import { createApp } from '../../webmail/app.ts';
import { testDbKinds } from '../helpers/db.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { alive, getJson } from '../helpers/lifecycle.ts';
import { startPrivateRedis } from '../helpers/redis.ts';

/**
 * A load balancer or orchestrator must not send work to a Sealpost that cannot do it: `/readyz` answers
 * 200 only while the database and Redis answer and the database has every migration the code knows, 503 otherwise with the check that failed (and nothing else:
 * no address, no path, no error text). A Redis paused with SIGSTOP accepts connections and never answers;
 * the probe still answers, within its short per-check deadline. `/healthz` stays "the process is alive".
 */
for (const kind of testDbKinds()) {
  describe(`security: /readyz reflects the database and Redis (${kind})`, function () {
    this.timeout(60_000);
    let cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const fn of cleanups.reverse())
        await Promise.resolve()
          .then(fn)
          .catch(() => undefined);
      cleanups = [];
    });

    async function webmail(): Promise<{
      port: number;
      gw: TestGateway;
      redisPid: number;
      dir: string;
      stopRedis: () => Promise<void>;
    }> {
      const priv = await startPrivateRedis(false);
      cleanups.push(priv.cleanup);
      const redisPid = priv.redis.process.pid!;
      cleanups.push(() => {
        if (alive(redisPid)) process.kill(redisPid, 'SIGCONT');
      });
      // (The login limits count on the shared test Redis here: `limits` stays ok while this one is paused.)
      const gw = await startTestGateway({ kind, redis: { socketPath: priv.redis.socketPath } });
      cleanups.push(() => gw.close());
      const app = createApp({ ...gw.deps, keys: gw.keys, enqueue: async () => undefined });
      const server = http.createServer(app).listen(0, '127.0.0.1');
      await once(server, 'listening');
      cleanups.push(() => new Promise<void>((resolve) => server.close(() => resolve())));
      return {
        port: (server.address() as AddressInfo).port,
        gw,
        redisPid,
        dir: priv.dir,
        stopRedis: () => priv.redis.stop(),
      };
    }

    it('is ready while both answer; names Redis while it is paused (SIGSTOP), and recovers', async () => {
      const { port, redisPid } = await webmail();
      assert.deepEqual(await getJson(port, '/readyz'), {
        status: 200,
        body: { ok: true, checks: { database: 'ok', migrations: 'ok', redis: 'ok', limits: 'ok' } },
      });
      process.kill(redisPid, 'SIGSTOP');
      const paused = await getJson(port, '/readyz');
      assert.deepEqual(paused, {
        status: 503,
        body: {
          ok: false,
          code: 'WEB_NOT_READY',
          checks: { database: 'ok', migrations: 'ok', redis: 'timeout', limits: 'ok' },
        },
      });
      assert.deepEqual(await getJson(port, '/healthz'), { status: 200, body: { ok: true } });
      process.kill(redisPid, 'SIGCONT');
      assert.equal((await getJson(port, '/readyz')).status, 200);
    });

    it('names Redis when it is gone, and is ready again once it is back', async () => {
      const { port, dir, stopRedis } = await webmail();
      assert.equal((await getJson(port, '/readyz')).status, 200);
      await stopRedis(); // nothing answers on the socket now
      const gone = await getJson(port, '/readyz');
      assert.equal(gone.status, 503);
      assert.deepEqual((gone.body as { checks: unknown }).checks, {
        database: 'ok',
        migrations: 'ok',
        redis: 'error',
        limits: 'ok',
      });
      assert.doesNotMatch(JSON.stringify(gone.body), /sock|\/tmp|ECONN|ENOENT/);
      const again = await startLocalRedis({ dir, persistence: false });
      cleanups.push(() => again.stop());
      assert.equal((await getJson(port, '/readyz')).status, 200);
    });

    it('names the database when it cannot be reached', async () => {
      const { port, gw } = await webmail();
      await gw.deps.db.close(); // every query fails from now on
      const down = await getJson(port, '/readyz');
      assert.equal(down.status, 503);
      assert.deepEqual((down.body as { checks: unknown }).checks, {
        database: 'error',
        migrations: 'error',
        redis: 'ok',
        limits: 'ok',
      });
      assert.deepEqual(await getJson(port, '/healthz'), { status: 200, body: { ok: true } });
    });

    it('names the migrations when the database is older than the code (a restore under a running process)', async () => {
      const { port, gw } = await webmail();
      const db = gw.deps.db;
      const table = sql.table(db.schema ? `${db.schema}.sealpost_migrations` : 'sealpost_migrations');
      const { rows } = await sql<{ name: string; timestamp: string }>`
        select name, timestamp from ${table} order by name desc limit 1`.execute(db.kysely);
      const { name: last, timestamp } = rows[0]!;
      await sql`delete from ${table} where name = ${last}`.execute(db.kysely);
      const older = await getJson(port, '/readyz');
      assert.equal(older.status, 503);
      assert.deepEqual((older.body as { checks: unknown }).checks, {
        database: 'ok',
        migrations: 'error',
        redis: 'ok',
        limits: 'ok',
      });
      assert.doesNotMatch(JSON.stringify(older.body), new RegExp(last));
      await sql`insert into ${table} (name, timestamp) values (${last}, ${timestamp})`.execute(db.kysely);
      assert.equal((await getJson(port, '/readyz')).status, 200);
    });
  });
}
