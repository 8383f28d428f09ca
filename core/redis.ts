import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * Redis connections for BullMQ, and the local `redis-server` that `sealpost start` runs when REDIS_URL is
 * unset. The local server listens on a unix socket in the data folder only (no TCP port to collide with or
 * to expose), with AOF on (fsync every second) and `noeviction`, as BullMQ requires.
 */
export interface RedisTarget {
  url?: string;
  socketPath?: string;
}

export function redisOptions(target: RedisTarget): RedisOptions {
  // BullMQ workers block on Redis; they need maxRetriesPerRequest null.
  const base: RedisOptions = { maxRetriesPerRequest: null, enableReadyCheck: true, lazyConnect: false };
  if (target.socketPath) return { ...base, path: target.socketPath };
  if (!target.url) throw new Error('no Redis target');
  const url = new URL(target.url);
  return {
    ...base,
    host: url.hostname,
    port: url.port ? Number(url.port) : 6379,
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.pathname.length > 1 ? { db: Number(url.pathname.slice(1)) } : {}),
    ...(url.protocol === 'rediss:' ? { tls: {} } : {}),
  };
}

export function connectRedis(target: RedisTarget): Redis {
  return new Redis(redisOptions(target));
}

export interface LocalRedis {
  readonly socketPath: string;
  readonly process: ChildProcess;
  stop(): Promise<void>;
}

export interface LocalRedisOptions {
  dir: string;
  persistence?: boolean; // default true: AOF, as in production
  binary?: string;
}

/** Start `redis-server` on a unix socket in `dir` and wait until it answers PING. */
export async function startLocalRedis(options: LocalRedisOptions): Promise<LocalRedis> {
  mkdirSync(options.dir, { recursive: true, mode: 0o700 });
  const socketPath = path.join(options.dir, 'redis.sock');
  const persistence = options.persistence ?? true;
  const args = [
    '--port',
    '0',
    '--unixsocket',
    socketPath,
    '--unixsocketperm',
    '700',
    '--dir',
    options.dir,
    '--maxmemory-policy',
    'noeviction',
    '--save',
    '',
    '--appendonly',
    persistence ? 'yes' : 'no',
    '--appendfsync',
    'everysec',
    '--daemonize',
    'no',
    '--logfile',
    '',
  ];
  // Its own process group: a Ctrl-C in the terminal reaches Sealpost, which stops it in order.
  const child = spawn(options.binary ?? 'redis-server', args, {
    stdio: ['ignore', 'ignore', 'pipe'],
    detached: true,
  });
  child.stderr?.resume(); // never let a full pipe block the server
  const failed = once(child, 'error').then(([err]) => {
    throw new Error(
      `cannot start redis-server (${(err as Error).message}); install it (apt-get install -y redis-server) or set REDIS_URL`,
    );
  });
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`redis-server exited with code ${String(code)} before it was ready`);
  });
  await Promise.race([waitForPing(socketPath), failed, exited]);
  failed.catch(() => undefined);
  exited.catch(() => undefined);
  return {
    socketPath,
    process: child,
    stop: () => stopChild(child),
  };
}

/** How long a redis-server may take to write its AOF and exit on SIGTERM before it is killed. */
const STOP_GRACE_MS = 3_000;

/**
 * SIGTERM (AOF flushed, socket removed), and SIGCONT in case it was stopped (SIGSTOP): a paused process
 * handles no signal until it runs again. One that has not exited after STOP_GRACE_MS is killed.
 */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const done = once(child, 'exit');
  child.kill('SIGTERM');
  child.kill('SIGCONT');
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), STOP_GRACE_MS);
  });
  if ((await Promise.race([done, late])) === 'late') {
    child.kill('SIGKILL');
    await done;
  }
  clearTimeout(timer);
}

async function waitForPing(socketPath: string): Promise<void> {
  const deadline = Date.now() + 15_000;
  while (!(await answers(socketPath))) {
    if (Date.now() > deadline) throw new Error('redis-server did not answer within 15 s');
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Whether a Redis answers PING on this unix socket now (one try, at most `timeoutMs`). */
export async function answers(socketPath: string, timeoutMs = 1_000): Promise<boolean> {
  return ping({ socketPath }, timeoutMs).then(
    () => true,
    () => false,
  );
}

/**
 * One PING on a fresh connection, which rejects after `timeoutMs`: a Redis that was paused (SIGSTOP) or
 * whose host is gone accepts the connection, or not, and never answers — a probe must not wait for it.
 */
export async function ping(target: RedisTarget, timeoutMs: number): Promise<void> {
  const client = new Redis({
    ...redisOptions(target),
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  client.on('error', () => undefined);
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error('redis ping timed out')), timeoutMs);
  });
  try {
    const answer = await Promise.race([client.connect().then(() => client.ping()), late]);
    if (answer !== 'PONG') throw new Error('redis answered no PONG');
  } finally {
    clearTimeout(timer);
    client.disconnect();
  }
}
