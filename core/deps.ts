import type { Clock } from './clock.ts';
import type { Config } from './config.ts';
import type { Db } from './db/index.ts';
import type { Log } from './log.ts';
import type { Metrics } from './metrics.ts';
import type { RedisTarget } from './redis.ts';
import type { Sealer } from './seal.ts';

/** What every service is built from. Only main/the CLI creates these; services receive them. */
export interface CoreDeps {
  readonly config: Config;
  readonly db: Db;
  readonly log: Log;
  readonly clock: Clock;
  readonly sealer: Sealer;
  readonly redis: RedisTarget;
  /** This process's Prometheus metrics (core/metrics.ts); undefined: nothing is counted (admin commands). */
  readonly metrics?: Metrics;
}
