import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { openDb } from '../../core/db/index.ts';
import { readPidFile } from '../../core/local-redis.ts';
import { PolicyRuleStore } from '../../core/policy-rules.ts';
import { UserStore } from '../../core/users.ts';
import { alive, getJson, redisDir, until } from '../helpers/lifecycle.ts';
import { startSealpostProcess, type SealpostProcess } from '../helpers/sealpost-process.ts';
import { startSink } from '../helpers/sink.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * The redis-server that `sealpost start` runs (no REDIS_URL) dies (OOM killer, a crash, an admin's kill):
 * Sealpost notices, logs it, starts it again with backoff on the same socket and AOF, and the gateway and
 * the worker carry on — a message submitted afterwards is delivered. Before, nothing restarted it and every
 * delivery waited until someone restarted Sealpost.
 */
const USER = 'anna@praxis.example';
const PASSWORD = 'a-long-password-for-anna';

describe('security: the local Redis is supervised', function () {
  this.timeout(180_000);
  let cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.reverse())
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    cleanups = [];
  });

  async function submit(sp: SealpostProcess, to: string): Promise<void> {
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: sp.port('SYS_GATEWAY_LISTENING', 'gateway'),
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: USER, pass: PASSWORD },
    });
    await transport.sendMail({
      envelope: { from: USER, to: [to] },
      raw: `From: <${USER}>\r\nTo: <${to}>\r\nSubject: Befund\r\n\r\nNotes\r\n`,
    });
    transport.close();
  }

  it('restarts a redis-server that was killed, and delivers what is submitted afterwards', async () => {
    const tmp = tmpDir('sealpost-redis-death-');
    cleanups.push(tmp.cleanup);
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const sp = await startSealpostProcess({
      dataDir: tmp.dir,
      env: { SEALPOST_RELAY: sink.relayUrl, SEALPOST_MASTER_KEY: randomBytes(32).toString('hex') },
    });
    cleanups.push(() => sp.kill());
    // A sender and a clear-text rule, written straight into the process's database file.
    const db = await openDb({ sqliteFile: path.join(tmp.dir, 'sealpost.db') });
    cleanups.push(() => db.close());
    await new UserStore(db.kysely).add({ login: USER, password: PASSWORD }, new Date());
    await new PolicyRuleStore(db.kysely).set({ match: 'lab.example', action: 'plain' }, new Date());

    const first = readPidFile(redisDir(tmp.dir))?.redisPid;
    assert.ok(first && alive(first));
    cleanups.push(() => {
      const now = readPidFile(redisDir(tmp.dir))?.redisPid;
      for (const pid of [first, now]) if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    });
    process.kill(first, 'SIGKILL');
    await sp.waitForLog('SYS_REDIS_EXITED');
    const restarted = await sp.waitForLog('SYS_REDIS_RESTARTED', 30_000);
    const second = readPidFile(redisDir(tmp.dir))?.redisPid;
    assert.ok(second && second !== first && alive(second), 'a new redis-server runs');
    assert.equal(restarted.pid, second);
    assert.equal(readPidFile(redisDir(tmp.dir))?.ownerPid, sp.pid);

    const http = sp.port('SYS_WEBMAIL_LISTENING');
    await until('/readyz says ready again', async () => (await getJson(http, '/readyz')).status === 200);
    await submit(sp, 'orders@lab.example');
    const [delivered] = await sink.waitFor(1, 60_000);
    assert.deepEqual(delivered?.to, ['orders@lab.example']);
  });
});
