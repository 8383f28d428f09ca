import path from 'node:path';
import type { Router } from 'express';
import { systemClock, type Clock } from '../core/clock.ts';
import type { Config } from '../core/config.ts';
import { openDb, type Db } from '../core/db/index.ts';
import { effectiveSettings } from '../core/settings.ts';
import type { CoreDeps } from '../core/deps.ts';
import { createLog, type Log } from '../core/log.ts';
import { LimitStore, limitPrefix } from '../core/limit-store.ts';
import { sealerFromConfig } from '../core/master-key.ts';
import { Metrics } from '../core/metrics.ts';
import {
  createDeliverQueue,
  enqueueDeliveries,
  retryDeliveries,
  type DeliverQueue,
} from '../core/queue-client.ts';
import { openLocalRedis } from '../core/local-redis.ts';
import type { RedisTarget } from '../core/redis.ts';
import type { Sealer } from '../core/seal.ts';
import { loadOrCreateTls } from '../core/tls.ts';
import { createGateway, type Gateway, type GatewayDeps } from '../gateway/index.ts';
import { createInbound, type Inbound } from '../gateway/inbound/index.ts';
import { createCryptoPool, explain, KeyStore, RecipientKeys, type CryptoPool } from '../keys/index.ts';
import type { Discoverer } from '../keys/index.ts';
import { discoverySettings, KeyDiscovery } from '../keys/discovery/index.ts';
import { createApp } from '../webmail/app.ts';
import type { Express } from 'express';
import { createWorkers, type WorkerDeps, type Workers } from '../worker/index.ts';
import { stopAll, type Stoppable } from './shutdown.ts';

/**
 * The composition root: the one module that imports every service. It builds the database (with its
 * stores), the key store, key discovery, the delivery queue and the clock ONCE and hands the same ones to
 * the gateway, the worker and the webmail; `sealpost start`, the tests (test/helpers/gateway.ts, stack.ts)
 * and the bench (bench/stack.ts) all compose Sealpost here. Building is apart from listening: the caller
 * binds ports (`gateway.listen()`, `workers.start()`, `app.listen()`) and handles signals.
 *
 *   const sp = await createSealpost(config, { services: ['gateway', 'worker', 'webmail'] });
 *   await sp.workers!.start();  await sp.gateway!.listen();  sp.app!.listen(config.httpPort);
 *   …  await sp.close();
 */
export type Service = 'gateway' | 'worker' | 'webmail';
export const SERVICES: readonly Service[] = ['gateway', 'worker', 'webmail'];

/** What a caller may give instead of what the root would build (tests, the bench). The caller closes it. */
export interface SealpostOverrides {
  readonly log?: Log;
  readonly clock?: Clock;
  /** Default: the database of config.databaseUrl / the data folder. */
  readonly db?: Db;
  /** Default: the master key of the data folder or SEALPOST_MASTER_KEY(_FILE), and the previous keys. */
  readonly sealer?: Sealer;
  /** Default: a registry of this process's own (none for an admin command). */
  readonly metrics?: Metrics;
  /** Default: REDIS_URL, or the local redis-server in the data folder. */
  readonly redis?: RedisTarget;
  /** Default: one on `redis` (the gateway's login and the webmail's wrong-code limits). */
  readonly limitStore?: LimitStore;
  /** Default: the BullMQ deliver queue on `redis`. */
  readonly enqueue?: (outboundIds: string[]) => Promise<void>;
  /** Default: WKD and VKS per config.discovery; null: none. */
  readonly discovery?: Discoverer | null;
  /** Default: a new crypto pool (config.cryptoThreads). */
  readonly crypto?: CryptoPool;
  /** The gateway's certificate; default: the data folder's (core/tls.ts), self-signed when none is set. */
  readonly tls?: GatewayDeps['tls'];
  readonly buildPgpMime?: GatewayDeps['buildPgpMime'];
  readonly transport?: WorkerDeps['transport'];
  readonly retryDelay?: WorkerDeps['retryDelay'];
  /** The pickup app's pages (webmail/pages.ts); none: the API only. */
  readonly pages?: Router;
  /** How the root makes its one key store and its one discoverer (tests count them). */
  readonly newKeyStore?: (deps: ConstructorParameters<typeof KeyStore>[0]) => KeyStore;
  readonly newDiscoverer?: (deps: ConstructorParameters<typeof KeyDiscovery>[0]) => Discoverer;
}

export interface Sealpost {
  readonly deps: CoreDeps;
  readonly keys: KeyStore;
  /** undefined when discovery is off. */
  readonly discovery: Discoverer | undefined;
  readonly limitStore: LimitStore | undefined;
  readonly enqueue: (outboundIds: string[]) => Promise<void>;
  /** Built when asked for in `services` ('gateway' brings the inbound listener when inboundRelay is set). */
  readonly gateway?: Gateway;
  readonly inbound?: Inbound;
  readonly workers?: Workers;
  readonly app?: Express;
  /** What the root opened, to close in phases (cli/shutdown.ts); the caller adds its listeners. */
  readonly parts: Stoppable[];
  /** Close what the root opened (not the overrides), in phases. */
  close(): Promise<void>;
}

export async function createSealpost(
  config: Config,
  options: { services: readonly Service[]; overrides?: SealpostOverrides },
): Promise<Sealpost> {
  const o = options.overrides ?? {};
  const log = o.log ?? createLog({ level: config.logLevel });
  const parts: Stoppable[] = [];
  try {
    const core = await coreDeps(config, options.services, o, log, parts);
    const shared = await sharedParts(core, options.services, o, parts);
    return {
      ...shared,
      ...(await buildServices(core, shared, options.services, o, parts)),
      deps: core,
      parts,
      close: async () => void (await stopAll(parts, log)),
    };
  } catch (err) {
    await stopAll(parts, log);
    throw err;
  }
}

/** Database (with its stores), master key, Redis, clock and log: what every service is built from. */
async function coreDeps(
  config: Config,
  services: readonly Service[],
  o: SealpostOverrides,
  log: Log,
  parts: Stoppable[],
): Promise<CoreDeps> {
  const sealer = o.sealer ?? sealerFromConfig(config, log);
  let db = o.db;
  if (!db) {
    const opened = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
    parts.push({ name: 'database', phase: 3, deadlineMs: 1_000, close: () => opened.close() });
    db = opened;
  }
  // No service (an admin command): no Redis is opened; the target is never used.
  const redis = o.redis ?? (services.length > 0 ? await redisTarget(config, log, parts) : {});
  const metrics = o.metrics ?? (services.length > 0 ? new Metrics() : undefined);
  return { config, db, log, clock: o.clock ?? systemClock, sealer, redis, ...(metrics ? { metrics } : {}) };
}

type Shared = Pick<Sealpost, 'keys' | 'discovery' | 'limitStore' | 'enqueue'> & {
  queue?: DeliverQueue;
  retryNow?: (ids: string[]) => Promise<void>;
};

/** The one key store, discoverer, limit store and delivery queue of the process. */
async function sharedParts(
  deps: CoreDeps,
  services: readonly Service[],
  o: SealpostOverrides,
  parts: Stoppable[],
): Promise<Shared> {
  const { config, log, clock } = deps;
  const keyDeps = {
    db: deps.db.kysely,
    sealer: deps.sealer,
    clock,
    log,
    // Asked at every fetched key: the admin's setting in force (core/settings.ts), no restart.
    keyChange: async () => (await effectiveSettings(deps)).keyChange,
  };
  const keys = o.newKeyStore ? o.newKeyStore(keyDeps) : new KeyStore(keyDeps);
  // One discoverer per process: the gateway's RCPT stage, the admin API's explain and the worker's key
  // refresh share its caches. It is built even when discovery is off in the configuration: the admin may
  // switch it on in the console; every user asks the setting in force before a lookup (core/settings.ts).
  const discoverer = () => {
    const d = { settings: discoverySettings(config.discovery), clock, log, metrics: deps.metrics };
    return o.newDiscoverer ? o.newDiscoverer(d) : new KeyDiscovery(d);
  };
  const discovery = o.discovery === null ? undefined : (o.discovery ?? discoverer());
  const serving = services.includes('gateway') || services.includes('webmail');
  let limitStore = o.limitStore;
  if (!limitStore && serving) {
    const opened = await LimitStore.open(deps.redis, limitPrefix(config.queuePrefix));
    parts.push({ name: 'limits', phase: 2, deadlineMs: 1_000, close: () => opened.close() });
    limitStore = opened;
  }
  if (o.enqueue) return { keys, discovery, limitStore, enqueue: o.enqueue };
  // An admin command queues rows without a queue client: the worker's reconcile job enqueues them.
  if (services.length === 0) return { keys, discovery, limitStore, enqueue: async () => undefined };
  // The gateway, the webmail and the worker schedule deliveries (messages, replies, DSNs): one queue client.
  const queue = createDeliverQueue(deps);
  parts.push({ name: 'queue', phase: 2, deadlineMs: 1_000, close: () => queue.close() });
  return {
    keys,
    discovery,
    limitStore,
    queue,
    enqueue: (ids) => enqueueDeliveries(queue, ids),
    retryNow: (ids) => retryDeliveries(queue, ids),
  };
}

async function buildServices(
  deps: CoreDeps,
  shared: Shared,
  services: readonly Service[],
  o: SealpostOverrides,
  parts: Stoppable[],
): Promise<Pick<Sealpost, 'gateway' | 'inbound' | 'workers' | 'app'>> {
  const { keys, discovery, enqueue } = shared;
  const built: { -readonly [K in keyof Sealpost]?: Sealpost[K] } = {};
  if (services.includes('worker')) {
    built.workers = createWorkers({
      ...deps,
      keys,
      ...(discovery ? { discovery } : {}),
      ...(shared.queue ? { queue: shared.queue } : {}),
      ...(o.transport ? { transport: o.transport } : {}),
      ...(o.retryDelay ? { retryDelay: o.retryDelay } : {}),
    });
  }
  if (services.includes('gateway')) {
    const tls = o.tls ?? (await gatewayTls(deps.config, deps.log));
    let crypto = o.crypto;
    if (!crypto) {
      // One crypto pool per process (keys/crypto-pool.ts); its threads start at the first new contact.
      const pool = createCryptoPool(deps.config.cryptoThreads ? { threads: deps.config.cryptoThreads } : {});
      parts.push({ name: 'crypto', phase: 3, deadlineMs: 1_000, close: () => pool.close() });
      crypto = pool;
    }
    const limitStore = shared.limitStore!;
    built.gateway = createGateway({
      ...deps,
      keys,
      crypto,
      tls,
      limitStore,
      enqueue,
      ...(discovery ? { discovery } : {}),
      ...(o.buildPgpMime ? { buildPgpMime: o.buildPgpMime } : {}),
    });
    if (deps.config.inboundRelay) built.inbound = createInbound({ ...deps, keys, tls, crypto });
  }
  if (services.includes('webmail')) {
    // The admin API's explain asks the same decideRecipient as the gateway, with this process's discoverer.
    const recipients = new RecipientKeys({
      keys,
      discovery,
      enabled: async () => (await effectiveSettings(deps)).discovery,
      log: deps.log,
      clock: deps.clock,
    });
    const rules = deps.db.stores.rules;
    const { config, log } = deps;
    built.app = createApp(
      {
        ...deps,
        keys,
        limitStore: shared.limitStore!,
        enqueue,
        ...(shared.retryNow ? { retryNow: shared.retryNow } : {}),
        ...(o.crypto ? { crypto: o.crypto } : {}),
        explain: (input) => explain({ keys, recipients, rules, config, log }, input),
      },
      o.pages ? { pages: o.pages } : {},
    );
  }
  return built;
}

/** The certificate of config.tlsCert/tlsKey, or a self-signed one kept in the data folder. */
async function gatewayTls(config: Config, log: Log): Promise<GatewayDeps['tls']> {
  const tls = await loadOrCreateTls({
    dataDir: config.dataDir,
    hostname: config.hostname,
    certFile: config.tlsCert,
    keyFile: config.tlsKey,
  });
  if (tls.selfSigned) log.warn('CFG_TLS_SELF_SIGNED', { path: path.join(config.dataDir, 'tls') });
  return tls;
}

/**
 * REDIS_URL, or the local redis-server in the data folder: `sealpost start gateway` and `sealpost start
 * worker` on one data folder share one, owned by the process that started it (core/local-redis.ts); a
 * second redis-server on the same socket and AOF file would split the queue in two.
 */
async function redisTarget(config: Config, log: Log, parts: Stoppable[]): Promise<RedisTarget> {
  if (config.redisUrl) return { url: config.redisUrl };
  const local = await openLocalRedis({ dir: path.join(config.dataDir, 'redis'), log });
  if (local.owned) {
    parts.push({
      name: 'redis',
      phase: 3,
      deadlineMs: 1_500,
      close: () => local.stop(),
      abort: () => local.abort(),
    });
  }
  return local.target;
}
