import assert from 'node:assert/strict';
import { readPidFile } from '../../core/local-redis.ts';
import { alive, redisDir, until } from '../helpers/lifecycle.ts';
import { startSealpostProcess } from '../helpers/sealpost-process.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * After `sealpost start` was SIGKILLed, the redis-server it had started keeps running with nobody to stop
 * it. The next start used to find it answering, take it for another Sealpost's shared server and never stop
 * it either. Ownership is now a pid file (redis pid + owner pid and start time): a server whose owner is
 * dead is an orphan and is stopped (its data is in the AOF) before a new, owned one starts. Two processes on
 * one data folder (`start gateway` + `start worker`) still share one, and the owner stops it.
 */
describe('security: an orphaned redis-server is not adopted', function () {
  this.timeout(180_000);
  let cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.reverse())
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    cleanups = [];
  });

  function dataDir(): string {
    const tmp = tmpDir('sealpost-orphan-');
    cleanups.push(tmp.cleanup);
    return tmp.dir;
  }

  function killLater(pid: number | null | undefined): void {
    cleanups.push(() => {
      if (pid && alive(pid)) process.kill(pid, 'SIGKILL');
    });
  }

  it('stops the redis-server of a SIGKILLed start, owns a new one and stops that on SIGTERM', async () => {
    const dir = dataDir();
    const crashed = await startSealpostProcess({ dataDir: dir });
    cleanups.push(() => crashed.kill());
    const orphan = readPidFile(redisDir(dir))?.redisPid;
    killLater(orphan);
    assert.ok(orphan && alive(orphan));
    await crashed.kill();
    assert.ok(alive(orphan), 'SIGKILL left the redis-server running');

    const next = await startSealpostProcess({ dataDir: dir });
    cleanups.push(() => next.kill());
    assert.equal((await next.waitForLog('SYS_REDIS_ORPHAN_STOPPED')).pid, orphan);
    // The supervisor's own (its three child processes share the server it owns).
    assert.ok(
      !next.lines().some((l) => l.code === 'SYS_REDIS_SHARED' && l.pid === next.pid),
      'never taken for a shared server',
    );
    await until('the orphan is gone', () => !alive(orphan));
    const owned = readPidFile(redisDir(dir));
    killLater(owned?.redisPid);
    assert.equal(owned?.ownerPid, next.pid);
    assert.ok(owned?.redisPid && owned.redisPid !== orphan && alive(owned.redisPid));

    assert.equal((await next.terminate()).code, 0);
    await until('the owned redis-server is gone', () => !alive(owned.redisPid!));
  });

  it('lets `start worker` share the redis-server of `start gateway`, which stops it', async () => {
    const dir = dataDir();
    const gateway = await startSealpostProcess(
      { dataDir: dir, services: ['gateway'] },
      'SYS_GATEWAY_LISTENING',
    );
    cleanups.push(() => gateway.kill());
    const owned = readPidFile(redisDir(dir));
    killLater(owned?.redisPid);
    assert.equal(owned?.ownerPid, gateway.pid);
    const worker = await startSealpostProcess({ dataDir: dir, services: ['worker'] }, 'SYS_WORKER_STARTED');
    cleanups.push(() => worker.kill());
    await worker.waitForLog('SYS_REDIS_SHARED');
    assert.equal(readPidFile(redisDir(dir))?.redisPid, owned?.redisPid, 'one redis-server for both');

    await worker.terminate();
    assert.ok(alive(owned!.redisPid!), 'the sharing process leaves it running');
    await gateway.terminate();
    await until('the owner stopped it', () => !alive(owned!.redisPid!));
  });
});
