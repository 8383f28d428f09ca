import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { readPidFile } from '../../core/local-redis.ts';
import { startSealpostProcess, type SealpostProcess } from '../helpers/sealpost-process.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { alive, childRedisPid, redisDir, until } from '../helpers/lifecycle.ts';

/**
 * A process manager stops Sealpost with SIGTERM and kills it a little later (Docker: 10 s). Sealpost must
 * exit well within that — also with an idle SMTP client connected to each listener (smtp-server would wait
 * 30 s for it) and with its Redis paused by SIGSTOP (BullMQ would wait for it for ever) — and stop the
 * redis-server it started. A real `sealpost start` child process, as `npm start` runs it.
 */
const BOUND_MS = 15_000; // what the acceptance check allows; Sealpost's own deadline is 9.5 s

describe('security: SIGTERM exits promptly', function () {
  this.timeout(120_000);
  let cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.reverse())
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    cleanups = [];
  });

  async function started(): Promise<{ sp: SealpostProcess; dir: string; sink: Sink; redisPid: number }> {
    const tmp = tmpDir('sealpost-sigterm-');
    cleanups.push(tmp.cleanup);
    const sink = await startSink();
    cleanups.push(() => sink.close());
    const sp = await startSealpostProcess({
      dataDir: tmp.dir,
      env: { SEALPOST_INBOUND_RELAY: sink.relayUrl },
    });
    cleanups.push(() => sp.kill());
    const redisPid = childRedisPid(sp.pid);
    assert.ok(redisPid && alive(redisPid), 'it runs its own redis-server');
    cleanups.push(() => {
      // Whatever the outcome, leave no paused or orphaned redis-server behind.
      for (const s of ['SIGCONT', 'SIGKILL'] as const) if (alive(redisPid)) process.kill(redisPid, s);
    });
    return { sp, dir: tmp.dir, sink, redisPid };
  }

  /** A client that connects, reads the greeting and then says nothing. */
  async function idleClient(port: number): Promise<{ closed: Promise<void> }> {
    const socket = net.connect(port, '127.0.0.1');
    const [greeting] = (await once(socket, 'data')) as [Buffer];
    assert.match(greeting.toString('latin1'), /^220 /);
    cleanups.push(() => void socket.destroy());
    return { closed: once(socket, 'close').then(() => undefined) };
  }

  async function exitsWithin(sp: SealpostProcess): Promise<{ ms: number; code: number | null }> {
    const result = await Promise.race([
      sp.terminate(),
      new Promise<never>((_r, reject) =>
        setTimeout(() => reject(new Error(`still running ${BOUND_MS} ms after SIGTERM`)), BOUND_MS),
      ),
    ]);
    return { ms: result.ms, code: result.code };
  }

  it('exits with idle SMTP clients on submission, SMTPS and inbound, and stops its redis-server', async () => {
    const { sp, redisPid } = await started();
    const clients = await Promise.all([
      idleClient(sp.port('SYS_GATEWAY_LISTENING', 'gateway')),
      idleClient(sp.port('SYS_INBOUND_LISTENING', 'inbound')),
    ]);
    const { code } = await exitsWithin(sp);
    assert.equal(code, 0);
    await Promise.all(clients.map((c) => c.closed));
    assert.ok(sp.lines().some((l) => l.code === 'SYS_STOPPED'));
    await until('the redis-server is gone', () => !alive(redisPid));
  });

  it('exits while its Redis is paused (SIGSTOP), and stops that redis-server too', async () => {
    const { sp, dir, redisPid } = await started();
    const client = await idleClient(sp.port('SYS_GATEWAY_LISTENING', 'gateway'));
    process.kill(redisPid, 'SIGSTOP');
    await exitsWithin(sp);
    await client.closed;
    await until('the paused redis-server is gone', () => !alive(redisPid));
    assert.equal(readPidFile(redisDir(dir)), undefined, 'the pid file is removed');
  });
});
