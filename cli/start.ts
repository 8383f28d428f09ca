import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../core/clock.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { openDb } from '../core/db/index.ts';
import type { CoreDeps } from '../core/deps.ts';
import { createLog, errName, type Log } from '../core/log.ts';
import { LimitStore, limitPrefix } from '../core/limit-store.ts';
import { loadOrCreateMasterKey } from '../core/master-key.ts';
import { createDeliverQueue, enqueueDeliveries } from '../core/queue-client.ts';
import { secureDataDir } from '../core/data-dir.ts';
import { openLocalRedis } from '../core/local-redis.ts';
import type { RedisTarget } from '../core/redis.ts';
import { Sealer } from '../core/seal.ts';
import { loadOrCreateTls } from '../core/tls.ts';
import { createInbound, type InboundDeps } from '../gateway/inbound/index.ts';
import { createGateway } from '../gateway/server.ts';
import { createCryptoPool, explain, KeyStore, RecipientKeys } from '../keys/index.ts';
import { PolicyRuleStore } from '../core/policy-rules.ts';
import { discoverySettings, KeyDiscovery } from '../keys/discovery/index.ts';
import { createApp } from '../webmail/app.ts';
import { pickupPages } from '../webmail/pages.ts';
import { createWorkers } from '../worker/index.ts';
import { abortAll, DRAIN_MS, EXIT_DEADLINE_MS, stopAll, type Stoppable } from './shutdown.ts';

export type Service = 'gateway' | 'worker' | 'webmail';
export const SERVICES: readonly Service[] = ['gateway', 'worker', 'webmail'];

type Running = Stoppable;

/**
 * `sealpost start [service]`: the composition root. Reads the environment, builds the services from
 * their `create*` functions, binds ports, and closes everything in reverse order on SIGTERM/SIGINT.
 */
export async function start(services: readonly Service[]): Promise<void> {
  const config = loadConfig();
  const log = createLog({ level: config.logLevel });
  const running: Running[] = [];
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info('SYS_STOPPING', { reason: signal });
    // Whatever still hangs after the deadline (a paused Redis, a stuck peer) does not keep the process.
    const watchdog = setTimeout(() => {
      log.error('SYS_STOP_FORCED', { ms: EXIT_DEADLINE_MS });
      abortAll(running);
      process.exit(1);
    }, EXIT_DEADLINE_MS);
    const clean = await stopAll(running, log);
    clearTimeout(watchdog);
    log.info('SYS_STOPPED', clean ? {} : { reason: 'SYS_STOP_TIMEOUT' });
    process.exit(signal === 'start-failed' ? 1 : 0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  announceIdentity(config, log);
  try {
    checkDkimKey(config);
    await startServices(config, log, services, running);
    log.info('SYS_STARTED', { service: services.join(',') });
  } catch (err) {
    log.error('SYS_START_FAILED', { errName: errName(err) });
    console.error(`sealpost: cannot start: ${(err as Error).message}`);
    await stop('start-failed');
  }
}

/** Say which name goes into mail headers and links, and warn when clients would be sent to localhost. */
function announceIdentity(config: Config, log: Log): void {
  console.log(`sealpost: hostname ${config.hostname}, public URL ${config.publicUrl}`);
  const local = (h: string) => /^(localhost|127\.|\[?::1\]?$)/i.test(h);
  if (local(config.hostname) || local(new URL(config.publicUrl).hostname)) {
    log.warn('CFG_LOCALHOST', {});
    console.warn(
      'sealpost: warning: the hostname or public URL is localhost; clients cannot open pickup links. ' +
        'Set SEALPOST_PUBLIC_URL (and SEALPOST_HOSTNAME if it differs from its host).',
    );
  }
}

/** A configured DKIM key that cannot be read or parsed stops the start, not the first notification (451). */
function checkDkimKey(config: Config): void {
  if (!config.dkim) return;
  try {
    createPrivateKey(readFileSync(config.dkim.keyFile));
  } catch (err) {
    throw new Error(`SEALPOST_DKIM_KEY_FILE ${config.dkim.keyFile}: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

async function startServices(
  config: Config,
  log: Log,
  services: readonly Service[],
  running: Running[],
): Promise<void> {
  // Before anything is read or written there: the data folder and all in it are for this user alone.
  secureDataDir(config.dataDir, log);
  const sealer = new Sealer(
    loadOrCreateMasterKey({ dataDir: config.dataDir, fromEnv: config.masterKey, log }),
  );
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  running.push({ name: 'database', phase: 3, deadlineMs: 1_000, close: () => db.close() });
  const redis = await redisTarget(config, log, running);
  const deps: CoreDeps = { config, db, log, clock: systemClock, sealer, redis };
  // The gateway's and the webmail's failed-login and wrong-code limits: one connection, counts in Redis.
  const limitStore = await LimitStore.open(redis, limitPrefix(config.queuePrefix));
  running.push({ name: 'limits', phase: 2, deadlineMs: 1_000, close: () => limitStore.close() });
  const keys = new KeyStore({
    db: db.kysely,
    sealer,
    clock: systemClock,
    log,
    keyChange: config.discovery.keyChange,
  });
  // One discoverer per process: the gateway's RCPT stage and the admin API's explain share its caches.
  const discovery = config.discovery.enabled
    ? new KeyDiscovery({ settings: discoverySettings(config.discovery), clock: systemClock, log })
    : undefined;

  if (services.includes('worker')) {
    const workers = createWorkers(deps);
    await workers.start();
    running.push({
      name: 'worker',
      phase: 1,
      deadlineMs: DRAIN_MS + 1_000,
      close: () => workers.close({ graceMs: DRAIN_MS - 1_000 }),
    });
    log.info('SYS_WORKER_STARTED', {
      service: 'worker',
      path: config.relay ? undefined : path.join(config.dataDir, 'outbox'),
    });
  }
  // The gateway and the webmail both schedule deliveries (messages, pickup replies): one queue client.
  const queue = createDeliverQueue({ config, redis, log });
  running.push({ name: 'queue', phase: 2, deadlineMs: 1_000, close: () => queue.close() });
  const enqueue = (ids: string[]) => enqueueDeliveries(queue, ids);
  if (services.includes('gateway')) {
    const tls = await loadOrCreateTls({
      dataDir: config.dataDir,
      hostname: config.hostname,
      certFile: config.tlsCert,
      keyFile: config.tlsKey,
    });
    if (tls.selfSigned) log.warn('CFG_TLS_SELF_SIGNED', { path: path.join(config.dataDir, 'tls') });
    // One crypto pool per process (keys/crypto-pool.ts); its threads start at the first new contact.
    const crypto = createCryptoPool(config.cryptoThreads ? { threads: config.cryptoThreads } : {});
    running.push({ name: 'crypto', phase: 3, deadlineMs: 1_000, close: () => crypto.close() });
    const gateway = createGateway({
      ...deps,
      keys,
      crypto,
      tls,
      limitStore,
      enqueue,
      ...(discovery ? { discovery } : {}),
    });
    const ports = await gateway.listen();
    running.push({ name: 'gateway', phase: 1, deadlineMs: DRAIN_MS + 1_000, close: () => gateway.close() });
    log.info('SYS_GATEWAY_LISTENING', { service: 'gateway', port: ports.submissionPort });
    log.info('SYS_GATEWAY_LISTENING', { service: 'gateway-tls', port: ports.smtpsPort });
    await startInbound({ ...deps, keys, tls }, running);
  }
  if (services.includes('webmail')) {
    // The pickup app's bundle, built by `npm run build:web` (npm start does it first).
    const distDir = fileURLToPath(new URL('../webmail/pickup/dist', import.meta.url));
    // The admin API's explain asks the same decideRecipient as the gateway, with this process's discoverer.
    const recipients = new RecipientKeys({ keys, discovery, log, clock: systemClock });
    const rules = new PolicyRuleStore(db.kysely);
    const explainNow = (input: { from: string; to: string[] }) =>
      explain({ keys, recipients, rules, config, log }, input);
    const server: Server = createApp(
      { ...deps, keys, limitStore, enqueue, explain: explainNow },
      { pages: pickupPages({ distDir }) },
    ).listen(config.httpPort, config.listenHost);
    await once(server, 'listening');
    running.push({
      name: 'webmail',
      phase: 1,
      deadlineMs: DRAIN_MS + 1_000,
      close: () => closeHttp(server),
    });
    const port = (server.address() as AddressInfo).port;
    log.info('SYS_WEBMAIL_LISTENING', { service: 'webmail', port });
  }
}

/** The inbound listener runs with the gateway when there is a practice mail server to relay to. */
async function startInbound(deps: InboundDeps, running: Running[]): Promise<void> {
  if (!deps.config.inboundRelay) {
    deps.log.info('SYS_INBOUND_OFF', { service: 'inbound' });
    return;
  }
  const inbound = createInbound(deps);
  const port = await inbound.listen();
  running.push({ name: 'inbound', phase: 1, deadlineMs: DRAIN_MS + 1_000, close: () => inbound.close() });
  deps.log.info('SYS_INBOUND_LISTENING', { service: 'inbound', port });
}

/** HTTP: stop accepting, let running requests finish for DRAIN_MS, then cut the rest (keep-alive too). */
function closeHttp(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
  return closed.finally(() => clearTimeout(timer));
}

/**
 * REDIS_URL, or the local redis-server in the data folder: `sealpost start gateway` and `sealpost start
 * worker` on one data folder share one, owned by the process that started it (core/local-redis.ts); a
 * second redis-server on the same socket and AOF file would split the queue in two.
 */
async function redisTarget(config: Config, log: Log, running: Running[]): Promise<RedisTarget> {
  if (config.redisUrl) return { url: config.redisUrl };
  const local = await openLocalRedis({ dir: path.join(config.dataDir, 'redis'), log });
  if (local.owned) {
    running.push({
      name: 'redis',
      phase: 3,
      deadlineMs: 1_500,
      close: () => local.stop(),
      abort: () => local.abort(),
    });
  }
  return local.target;
}
