import { Redis } from 'ioredis';
import { errName, type Log } from '../core/log.ts';
import { redisOptions, type RedisTarget } from '../core/redis.ts';

/**
 * "The relay accepted this copy", written to Redis the moment the relay's 250 arrives, before the database
 * records it (docs/delivery.md "Duplicates"). The database update must wait for SQLite's write lock (the
 * gateway's transactions hold it) and an fsync; a worker killed meanwhile left the copy 'queued' and it was
 * sent again when its job was retried. Redis is not touched by a worker's death, and one SET takes a
 * fraction of a millisecond: a retry that finds the mark records the delivery without sending again.
 *
 * Only ever an optimisation: the database stays the truth. A mark is set only after a real 250 for that
 * row (ids are never reused), so it can only prevent a duplicate, never lose a message; a mark that is
 * missing (Redis down, flushed, or the worker died before the SET) means at-least-once as before.
 */
export interface AcceptedMarks {
  record(id: string, ttlMs: number): Promise<void>;
  has(id: string): Promise<boolean>;
  clear(id: string): Promise<void>;
  close(): void;
}

/** A mark must never hold a delivery up: Redis gets this long, then the delivery goes on without it. */
const TIMEOUT_MS = 1_000;

export function acceptedMarks(deps: { redis: RedisTarget; prefix: string; log: Log }): AcceptedMarks {
  let client: Redis | undefined;
  const redis = (): Redis => {
    if (client) return client;
    client = new Redis({
      ...redisOptions(deps.redis),
      // Commands wait for a (re)connect, but never longer than TIMEOUT_MS.
      maxRetriesPerRequest: 0,
      commandTimeout: TIMEOUT_MS,
      connectTimeout: TIMEOUT_MS,
    });
    client.on('error', () => undefined); // each failed command is reported by its caller below
    return client;
  };
  const key = (id: string) => `${deps.prefix}:accepted:${id}`;
  const warn = (id: string, err: unknown) =>
    deps.log.warn('DLV_ACCEPTED_MARK_FAILED', { id, errName: errName(err) });
  return {
    async record(id, ttlMs) {
      await redis()
        .set(key(id), '1', 'PX', Math.max(60_000, Math.floor(ttlMs)))
        .catch((err: unknown) => warn(id, err));
    },
    async has(id) {
      return redis()
        .exists(key(id))
        .then(
          (n) => n === 1,
          (err: unknown) => {
            warn(id, err);
            return false; // unknown: send (at least once)
          },
        );
    },
    async clear(id) {
      await redis()
        .del(key(id))
        .catch((err: unknown) => warn(id, err));
    },
    close() {
      client?.disconnect();
      client = undefined;
    },
  };
}
