import { Redis } from 'ioredis';
import { RateLimiterRedis } from 'rate-limiter-flexible';
import { redisOptions, type RedisTarget } from './redis.ts';

/**
 * Where the limits that must hold across processes count (DESIGN.md "Processes and data flow": every such
 * limit lives in Redis): failed logins (core/auth-limit.ts) and wrong pickup codes (webmail/api/limit.ts).
 * One Redis connection per process, opened by the composition root and passed to the gateway and the
 * webmail; each limit is a `rate-limiter-flexible` counter under `<prefix>:<name>:<key>` with a TTL, so Redis
 * forgets every key by itself.
 *
 * A limit must answer quickly or not at all: the connection has no offline queue and no retries, and a
 * command that gets no answer within COMMAND_TIMEOUT_MS fails (a paused or unreachable Redis). The callers
 * then fail closed (SMTP AUTH 454, pickup unlock 503) and log a code.
 */
const COMMAND_TIMEOUT_MS = 2_000;
/** While Redis is away, reconnect every few hundred ms, at most every 2 s; the limits fail closed meanwhile. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2_000);

export interface CounterOptions {
  /** What the counter allows; the callers compare `consumedPoints` with it themselves. */
  points: number;
  /** Seconds a key lives after its first point (a fixed window), unless set or blocked for longer. */
  durationSeconds: number;
}

export class LimitStore {
  readonly #client: Redis;
  readonly #prefix: string;

  private constructor(client: Redis, prefix: string) {
    this.#client = client;
    this.#prefix = prefix;
  }

  /** Connect and wait until Redis answers; `prefix` keeps deployments (and tests) sharing one Redis apart. */
  static async open(target: RedisTarget, prefix: string): Promise<LimitStore> {
    const client = new Redis({
      ...redisOptions(target),
      lazyConnect: true,
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      commandTimeout: COMMAND_TIMEOUT_MS,
      retryStrategy: reconnectDelay,
    });
    // Connection errors reach every caller as a rejected command, which logs its own code; the client's
    // 'error' event would otherwise be an unhandled error that ends the process.
    client.on('error', () => undefined);
    await client.connect();
    return new LimitStore(client, prefix);
  }

  /** A counter named `name` (e.g. 'auth-ip'); keys are whatever the caller counts under (an address, …). */
  counter(name: string, options: CounterOptions): RateLimiterRedis {
    return new RateLimiterRedis({
      storeClient: this.#client,
      keyPrefix: `${this.#prefix}:${name}`,
      points: options.points,
      duration: options.durationSeconds,
      rejectIfRedisNotReady: true,
    });
  }

  /** Whether this connection answers now (readiness): no offline queue, so a lost connection fails at once. */
  async ping(): Promise<void> {
    await this.#client.ping();
  }

  async close(): Promise<void> {
    try {
      await this.#client.quit();
    } catch {
      this.#client.disconnect();
    }
  }
}

/** The prefix of the limit counters of a deployment: beside its BullMQ queues, under the same prefix. */
export function limitPrefix(queuePrefix: string): string {
  return `${queuePrefix}:limit`;
}
