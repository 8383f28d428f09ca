import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { openDb } from '../../core/db/index.ts';
import { PolicyRuleStore } from '../../core/policy-rules.ts';
import { UserStore } from '../../core/users.ts';
import { alive, childRedisPid, getJson, until } from '../helpers/lifecycle.ts';
import { startSealpostProcess } from '../helpers/sealpost-process.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * `sealpost start` (what `npm start` runs) with no service: a supervisor and three child processes
 * (gateway, worker, webmail) on one data folder, one redis-server owned by the supervisor. Every port
 * answers as with one process; SIGTERM to the supervisor stops them all and leaves nothing running.
 */
const USER = 'anna@praxis.example';
const PASSWORD = 'a-long-password-for-anna';

/** The processes whose parent is `pid`: [pid, command line]. */
function childrenOf(pid: number): [number, string][] {
  const ids = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  return ids.map((id) => [Number(id), readFileSync(`/proc/${id}/cmdline`, 'utf8').replaceAll('\0', ' ')]);
}

describe('sealpost start: gateway, worker and webmail as separate processes', function () {
  this.timeout(180_000);
  let cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.reverse())
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    cleanups = [];
  });

  it('serves /readyz, delivers a submitted message into data/outbox, and SIGTERM stops every process', async () => {
    const tmp = tmpDir('sealpost-split-');
    cleanups.push(tmp.cleanup);
    const sp = await startSealpostProcess({
      dataDir: tmp.dir,
      env: { SEALPOST_MASTER_KEY: randomBytes(32).toString('hex') },
    });
    cleanups.push(() => sp.kill());
    const children = childrenOf(sp.pid);
    for (const pid of children.map(([p]) => p))
      cleanups.push(() => void (alive(pid) && process.kill(pid, 'SIGKILL')));
    for (const service of ['gateway', 'worker', 'webmail']) {
      assert.ok(
        children.some(([, cmd]) => cmd.includes(`sealpost.mjs start ${service}`)),
        `a child process runs ${service}`,
      );
    }
    const redisPid = childRedisPid(sp.pid);
    assert.ok(redisPid && alive(redisPid), 'the supervisor runs the one redis-server');
    assert.equal(sp.lines().filter((l) => l.code === 'SYS_REDIS_SHARED').length, 3, 'the children share it');

    const http = sp.port('SYS_WEBMAIL_LISTENING');
    assert.equal((await getJson(http, '/readyz')).status, 200);
    for (const service of ['gateway', 'worker']) {
      const ops = sp.port('SYS_OPS_LISTENING', service);
      assert.notEqual(ops, http);
      assert.equal((await getJson(ops, '/readyz')).status, 200, `the ${service} process answers /readyz`);
    }

    const db = await openDb({ sqliteFile: path.join(tmp.dir, 'sealpost.db') });
    cleanups.push(() => db.close());
    await new UserStore(db.kysely).add({ login: USER, password: PASSWORD }, new Date());
    await new PolicyRuleStore(db.kysely).set({ match: 'lab.example', action: 'plain' }, new Date());
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: sp.port('SYS_GATEWAY_LISTENING', 'gateway'),
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: USER, pass: PASSWORD },
    });
    await transport.sendMail({
      envelope: { from: USER, to: ['orders@lab.example'] },
      raw: `From: <${USER}>\r\nTo: <orders@lab.example>\r\nSubject: Befund\r\n\r\nNotes\r\n`,
    });
    transport.close();
    const outbox = path.join(tmp.dir, 'outbox');
    await until('the worker process wrote the message into data/outbox', () => {
      try {
        return readdirSync(outbox).some((f) => f.endsWith('.eml'));
      } catch {
        return false;
      }
    });

    const { code, ms } = await sp.terminate();
    assert.equal(code, 0);
    assert.ok(ms < 15_000, `exited ${ms} ms after SIGTERM`);
    for (const [pid, cmd] of children) assert.ok(!alive(pid), `${cmd} is gone`);
  });

  it('stops the other children and exits non-zero when one child dies', async () => {
    const tmp = tmpDir('sealpost-split-');
    cleanups.push(tmp.cleanup);
    const sp = await startSealpostProcess({ dataDir: tmp.dir });
    cleanups.push(() => sp.kill());
    const children = childrenOf(sp.pid).filter(([, cmd]) => cmd.includes('sealpost.mjs start'));
    for (const [pid] of children) cleanups.push(() => void (alive(pid) && process.kill(pid, 'SIGKILL')));
    const worker = children.find(([, cmd]) => cmd.includes('start worker'));
    assert.ok(worker);
    process.kill(worker[0], 'SIGKILL');
    const exited = await sp.exited;
    assert.equal(exited.code, 1);
    assert.ok(sp.lines().some((l) => l.code === 'SYS_CHILD_EXITED' && l.service === 'worker'));
    for (const [pid, cmd] of children) assert.ok(!alive(pid), `${cmd} is gone`);
  });

  it('stops its children when the supervisor itself is killed (SIGKILL)', async () => {
    const tmp = tmpDir('sealpost-split-');
    cleanups.push(tmp.cleanup);
    const sp = await startSealpostProcess({ dataDir: tmp.dir });
    const children = childrenOf(sp.pid).filter(([, cmd]) => cmd.includes('sealpost.mjs start'));
    const redisPid = childRedisPid(sp.pid);
    cleanups.push(() => {
      for (const pid of [...children.map(([p]) => p), redisPid])
        if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    });
    await sp.kill();
    await until('every child stopped', () => children.every(([pid]) => !alive(pid)));
  });
});
