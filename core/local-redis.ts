import { mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { errName, type Log } from './log.ts';
import { answers, startLocalRedis, stopChild, type LocalRedis, type RedisTarget } from './redis.ts';

/**
 * The local redis-server of `sealpost start` without REDIS_URL, owned through a pid file.
 *
 * `<dataDir>/redis/sealpost-redis.pid` holds the redis-server's pid and its owner's (the Sealpost process
 * that started it, with that process's start time, so that a pid reused after a reboot is not taken for
 * the owner). It is created exclusively before the server starts: of two processes starting on one data
 * folder one owns, the other shares. A process that finds the file:
 * - with a living owner: shares that owner's redis-server (the owner supervises and stops it);
 * - with a dead owner (SIGKILL, power cut): the redis-server still running is an orphan. It is stopped —
 *   its data is in the AOF — and this process starts and owns a new one. Never adopted silently.
 * The owner restarts a redis-server that dies, with backoff (SYS_REDIS_EXITED, SYS_REDIS_RESTARTED).
 */
export const PID_FILE = 'sealpost-redis.pid';
export const SOCKET_FILE = 'redis.sock';

/** Waits between restarts of a redis-server that died; the last one repeats. */
export const RESTART_BACKOFF_MS = [250, 1_000, 2_000, 5_000, 10_000, 30_000];
/** A server that ran this long before it died starts the backoff afresh. */
const STABLE_AFTER_MS = 60_000;

interface PidFile {
  redisPid: number | null;
  ownerPid: number;
  ownerStart: string | null;
}

export interface LocalRedisHandle {
  readonly target: RedisTarget;
  /** Whether this process started the server (and will stop it); false: another process's is shared. */
  readonly owned: boolean;
  /** The pid of the redis-server this process runs now (owner only). */
  pid(): number | undefined;
  /** Owner: stop supervising, stop the server, remove the pid file. Sharer: nothing. */
  stop(): Promise<void>;
  /** Owner: SIGTERM (and SIGCONT) to the server now, synchronously (the process is about to exit). */
  abort(): void;
}

export async function openLocalRedis(input: {
  dir: string;
  log: Log;
  binary?: string;
  backoffMs?: readonly number[];
}): Promise<LocalRedisHandle> {
  const socketPath = path.join(input.dir, SOCKET_FILE);
  const target = { socketPath };
  mkdirSync(input.dir, { recursive: true, mode: 0o700 });
  for (let attempt = 0; attempt < 3; attempt++) {
    if (claim(input.dir)) return supervise({ ...input, socketPath });
    const current = readPidFile(input.dir);
    if (current && isAlive(current.ownerPid, current.ownerStart)) {
      input.log.info('SYS_REDIS_SHARED', { path: socketPath });
      return {
        target,
        owned: false,
        pid: () => undefined,
        stop: async () => undefined,
        abort: () => undefined,
      };
    }
    await stopOrphan(input.dir, current, socketPath, input.log);
  }
  throw new Error(`cannot take ownership of the local Redis in ${input.dir}`);
}

/** Create the pid file for this process, or false when one exists (another owner, or a dead one's). */
function claim(dir: string): boolean {
  const content: PidFile = { redisPid: null, ownerPid: process.pid, ownerStart: startTime(process.pid) };
  try {
    writeFileSync(path.join(dir, PID_FILE), JSON.stringify(content), { flag: 'wx', mode: 0o600 });
    return true;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
    throw err;
  }
}

/** A dead owner's redis-server: stop it (by its pid when that is still a redis-server, else by its socket). */
async function stopOrphan(dir: string, file: PidFile | undefined, socketPath: string, log: Log) {
  const pid = file?.redisPid;
  if (pid && isRedisServer(pid)) {
    await stopPid(pid);
    log.warn('SYS_REDIS_ORPHAN_STOPPED', { path: socketPath, pid });
  } else if (await answers(socketPath)) {
    // No pid file (an older Sealpost), or one naming no redis-server: whoever answers there has no owner.
    await shutdownBySocket(socketPath);
    log.warn('SYS_REDIS_ORPHAN_STOPPED', { path: socketPath });
  }
  try {
    unlinkSync(path.join(dir, PID_FILE));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
}

function supervise(input: {
  dir: string;
  log: Log;
  binary?: string;
  backoffMs?: readonly number[];
  socketPath: string;
}): Promise<LocalRedisHandle> {
  const { dir, log, socketPath } = input;
  const backoff = input.backoffMs ?? RESTART_BACKOFF_MS;
  let current: LocalRedis | undefined;
  let stopping = false;
  let timer: NodeJS.Timeout | undefined;
  let failures = 0;

  const launch = async (): Promise<void> => {
    const server = await startLocalRedis({ dir, ...(input.binary ? { binary: input.binary } : {}) });
    current = server;
    writePidFile(dir, server.process.pid ?? null);
    log.info(failures === 0 ? 'SYS_REDIS_STARTED' : 'SYS_REDIS_RESTARTED', {
      path: socketPath,
      pid: server.process.pid,
      ...(failures ? { attempt: failures } : {}),
    });
    const startedAt = Date.now();
    server.process.once('exit', (code, signal) => {
      if (stopping) return;
      log.error('SYS_REDIS_EXITED', { path: socketPath, errName: signal ?? `exit-${String(code)}` });
      if (Date.now() - startedAt > STABLE_AFTER_MS) failures = 0;
      schedule();
    });
  };
  const schedule = (): void => {
    const wait = backoff[Math.min(failures, backoff.length - 1)] ?? 1_000;
    failures++;
    timer = setTimeout(() => {
      if (stopping) return;
      launch().catch((err: unknown) => {
        log.error('SYS_REDIS_RESTART_FAILED', { path: socketPath, attempt: failures, errName: errName(err) });
        if (!stopping) schedule();
      });
    }, wait);
  };

  const handle: LocalRedisHandle = {
    target: { socketPath },
    owned: true,
    pid: () => current?.process.pid,
    abort() {
      stopping = true;
      clearTimeout(timer);
      current?.process.kill('SIGTERM');
      current?.process.kill('SIGCONT');
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      if (current) await stopChild(current.process);
      try {
        unlinkSync(path.join(dir, PID_FILE));
      } catch {
        // already gone
      }
    },
  };
  return launch().then(
    () => handle,
    (err: unknown) => {
      stopping = true;
      try {
        unlinkSync(path.join(dir, PID_FILE));
      } catch {
        // never written
      }
      throw err;
    },
  );
}

function writePidFile(dir: string, redisPid: number | null): void {
  const content: PidFile = { redisPid, ownerPid: process.pid, ownerStart: startTime(process.pid) };
  writeFileSync(path.join(dir, PID_FILE), JSON.stringify(content), { mode: 0o600 });
}

export function readPidFile(dir: string): PidFile | undefined {
  try {
    const value = JSON.parse(readFileSync(path.join(dir, PID_FILE), 'utf8')) as Partial<PidFile>;
    if (typeof value.ownerPid !== 'number') return undefined;
    return {
      ownerPid: value.ownerPid,
      redisPid: typeof value.redisPid === 'number' ? value.redisPid : null,
      ownerStart: typeof value.ownerStart === 'string' ? value.ownerStart : null,
    };
  } catch {
    return undefined; // missing or torn (a crash while writing): no owner
  }
}

/** The start time of a process (Linux: /proc/<pid>/stat field 22), or null where there is no /proc. */
function startTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after the last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19] ?? null;
  } catch {
    return null;
  }
}

function isAlive(pid: number, started: string | null): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  const now = startTime(pid);
  return started === null || now === null || now === started;
}

function isRedisServer(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('redis-server');
  } catch {
    return false;
  }
}

/** SIGTERM (and SIGCONT should it be paused); SIGKILL after the grace time. */
async function stopPid(pid: number): Promise<void> {
  const signal = (s: NodeJS.Signals) => {
    try {
      process.kill(pid, s);
    } catch {
      // gone
    }
  };
  signal('SIGTERM');
  signal('SIGCONT');
  if (await gone(pid, 5_000)) return;
  signal('SIGKILL');
  await gone(pid, 5_000);
}

async function gone(pid: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (!isAlive(pid, null) || !isRedisServer(pid)) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}

async function shutdownBySocket(socketPath: string): Promise<void> {
  const client = new Redis({ path: socketPath, lazyConnect: true, retryStrategy: () => null });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.call('SHUTDOWN').catch(() => undefined); // the connection closes as it shuts down
  } finally {
    client.disconnect();
  }
  const deadline = Date.now() + 5_000;
  while ((await answers(socketPath)) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
}
