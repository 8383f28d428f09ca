import { once } from 'node:events';
import type { Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../core/clock.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { openDb } from '../core/db/index.ts';
import type { CoreDeps } from '../core/deps.ts';
import { createLog, errName, type Log } from '../core/log.ts';
import { loadOrCreateMasterKey } from '../core/master-key.ts';
import { createDeliverQueue, enqueueDeliveries } from '../core/queue-client.ts';
import { answers, startLocalRedis, type RedisTarget } from '../core/redis.ts';
import { Sealer } from '../core/seal.ts';
import { loadOrCreateTls } from '../core/tls.ts';
import { createInbound, type InboundDeps } from '../gateway/inbound/index.ts';
import { createGateway } from '../gateway/server.ts';
import { explain, KeyStore, RecipientKeys } from '../keys/index.ts';
import { PolicyRuleStore } from '../core/policy-rules.ts';
import { discoverySettings, KeyDiscovery } from '../keys/discovery/index.ts';
import { createApp } from '../webmail/app.ts';
import { pickupPages } from '../webmail/pages.ts';
import { createWorkers } from '../worker/index.ts';

export type Service = 'gateway' | 'worker' | 'webmail';
export const SERVICES: readonly Service[] = ['gateway', 'worker', 'webmail'];

interface Running {
  name: string;
  close(): Promise<void>;
}

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
    for (const r of running.reverse()) {
      await r
        .close()
        .catch((err: unknown) => log.error('SYS_STOP_FAILED', { service: r.name, errName: errName(err) }));
    }
    log.info('SYS_STOPPED');
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  try {
    await startServices(config, log, services, running);
  } catch (err) {
    log.error('SYS_START_FAILED', { errName: errName(err) });
    console.error(`sealpost: cannot start: ${(err as Error).message}`);
    await stop('start-failed');
  }
}

async function startServices(
  config: Config,
  log: Log,
  services: readonly Service[],
  running: Running[],
): Promise<void> {
  const sealer = new Sealer(
    loadOrCreateMasterKey({ dataDir: config.dataDir, fromEnv: config.masterKey, log }),
  );
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  running.push({ name: 'database', close: () => db.close() });
  const redis = await redisTarget(config, log, running);
  const deps: CoreDeps = { config, db, log, clock: systemClock, sealer, redis };
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
    running.push({ name: 'worker', close: () => workers.close() });
    log.info('SYS_WORKER_STARTED', {
      service: 'worker',
      path: config.relay ? undefined : path.join(config.dataDir, 'outbox'),
    });
  }
  // The gateway and the webmail both schedule deliveries (messages, pickup replies): one queue client.
  const queue = createDeliverQueue({ config, redis, log });
  running.push({ name: 'queue', close: () => queue.close() });
  const enqueue = (ids: string[]) => enqueueDeliveries(queue, ids);
  if (services.includes('gateway')) {
    const tls = await loadOrCreateTls({
      dataDir: config.dataDir,
      hostname: config.hostname,
      certFile: config.tlsCert,
      keyFile: config.tlsKey,
    });
    if (tls.selfSigned) log.warn('CFG_TLS_SELF_SIGNED', { path: path.join(config.dataDir, 'tls') });
    const gateway = createGateway({ ...deps, keys, tls, enqueue, ...(discovery ? { discovery } : {}) });
    const ports = await gateway.listen();
    running.push({ name: 'gateway', close: () => gateway.close() });
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
      { ...deps, keys, enqueue, explain: explainNow },
      { pages: pickupPages({ distDir }) },
    ).listen(config.httpPort, config.listenHost);
    await once(server, 'listening');
    running.push({
      name: 'webmail',
      close: () => new Promise<void>((resolve) => server.close(() => resolve())),
    });
    log.info('SYS_WEBMAIL_LISTENING', { service: 'webmail', port: config.httpPort });
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
  running.push({ name: 'inbound', close: () => inbound.close() });
  deps.log.info('SYS_INBOUND_LISTENING', { service: 'inbound', port });
}

async function redisTarget(config: Config, log: Log, running: Running[]): Promise<RedisTarget> {
  if (config.redisUrl) return { url: config.redisUrl };
  const dir = path.join(config.dataDir, 'redis');
  // `sealpost start gateway` and `sealpost start worker` on one data folder share one local Redis: the
  // first starts it (and stops it when it stops), the others use it. A second redis-server on the same
  // socket and AOF file would take the socket from the first and split the queue in two.
  const shared = path.join(dir, 'redis.sock');
  if (await answers(shared)) {
    log.info('SYS_REDIS_SHARED', { path: shared });
    return { socketPath: shared };
  }
  const local = await startLocalRedis({ dir });
  running.push({ name: 'redis', close: () => local.stop() });
  log.info('SYS_REDIS_STARTED', { path: local.socketPath });
  return { socketPath: local.socketPath };
}
