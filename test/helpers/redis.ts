import { randomUUID } from 'node:crypto';
import { startLocalRedis, type LocalRedis, type RedisTarget } from '../../core/redis.ts';
import { tmpDir } from './tmp.ts';

/**
 * One redis-server for the whole test process (unix socket in a temp folder, no persistence); each test
 * isolates itself with a unique queue prefix. Tests that need persistence or a crash start their own
 * with `startPrivateRedis`.
 */
let shared: { redis: LocalRedis; cleanup: () => void } | undefined;

export async function sharedRedis(): Promise<RedisTarget> {
  if (!shared) {
    const { dir, cleanup } = tmpDir('sealpost-redis-');
    shared = { redis: await startLocalRedis({ dir, persistence: false }), cleanup };
  }
  return { socketPath: shared.redis.socketPath };
}

export async function stopSharedRedis(): Promise<void> {
  if (!shared) return;
  await shared.redis.stop();
  shared.cleanup();
  shared = undefined;
}

export function uniquePrefix(): string {
  return `t${randomUUID().slice(0, 8)}`;
}

export async function startPrivateRedis(
  persistence = true,
): Promise<{ redis: LocalRedis; dir: string; cleanup: () => Promise<void> }> {
  const { dir, cleanup } = tmpDir('sealpost-redis-');
  const redis = await startLocalRedis({ dir, persistence });
  return {
    redis,
    dir,
    cleanup: async () => {
      await redis.stop();
      cleanup();
    },
  };
}
