import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { once } from 'node:events';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig, type Config } from '../core/config.ts';
import { createLog, errName, type Log } from '../core/log.ts';
import { secureDataDir } from '../core/data-dir.ts';
import { Metrics } from '../core/metrics.ts';
import { readinessChecks } from '../core/readiness.ts';
import type { Inbound } from '../gateway/inbound/index.ts';
import { pickupPages } from '../webmail/pages.ts';
import type { Workers } from '../worker/index.ts';
import { listenOps } from './ops-server.ts';
import { createSealpost, SERVICES, type Service } from './sealpost.ts';
import { abortAll, DRAIN_MS, EXIT_DEADLINE_MS, stopAll, type Stoppable } from './shutdown.ts';

export { SERVICES, type Service };
type Running = Stoppable;

/**
 * `sealpost start [service]`: reads the environment, composes the services (cli/sealpost.ts), binds ports,
 * and closes everything in phases on SIGTERM/SIGINT (cli/shutdown.ts).
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
  // A child of the supervisor (cli/supervisor.ts): when the supervisor is killed, its channel closes.
  if (process.send) {
    process.once('disconnect', () => {
      log.error('SYS_PARENT_GONE', {});
      void stop('SYS_PARENT_GONE');
    });
  }
  announceIdentity(config, log);
  try {
    checkDkimKey(config);
    await startServices(config, log, services, running);
    log.info('SYS_STARTED', { service: services.join(',') });
    process.send?.({ sealpost: 'started', services });
  } catch (err) {
    log.error('SYS_START_FAILED', { errName: errName(err) });
    console.error(`sealpost: cannot start: ${(err as Error).message}`);
    await stop('start-failed');
  }
}

/** Say which name goes into mail headers and links, and warn when clients would be sent to localhost. */
export function announceIdentity(config: Config, log: Log): void {
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
export function checkDkimKey(config: Config): void {
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
  // The pickup app's bundle, built by `npm run build:web` (npm start does it first).
  const distDir = fileURLToPath(new URL('../webmail/pickup/dist', import.meta.url));
  const consoleDistDir = fileURLToPath(new URL('../webmail/console/dist', import.meta.url));
  const sealpost = await createSealpost(config, {
    services,
    overrides: {
      log,
      // The process's own registry, with Node's process metrics (a test stack has none of those).
      metrics: new Metrics({ process: true }),
      ...(services.includes('webmail') ? { pages: pickupPages({ distDir, consoleDistDir }) } : {}),
    },
  });
  running.push(...sealpost.parts);
  if (sealpost.workers) await startWorker(sealpost.workers, config, log, running);
  if (sealpost.gateway) {
    const gateway = sealpost.gateway;
    const ports = await gateway.listen();
    running.push({ name: 'gateway', phase: 1, deadlineMs: DRAIN_MS + 1_000, close: () => gateway.close() });
    log.info('SYS_GATEWAY_LISTENING', { service: 'gateway', port: ports.submissionPort });
    log.info('SYS_GATEWAY_LISTENING', { service: 'gateway-tls', port: ports.smtpsPort });
    await startInbound(sealpost.inbound, log, running);
  }
  if (sealpost.app) {
    const server: Server = sealpost.app.listen(config.httpPort, config.listenHost);
    await once(server, 'listening');
    running.push({ name: 'webmail', phase: 1, deadlineMs: DRAIN_MS + 1_000, close: () => closeHttp(server) });
    const port = (server.address() as AddressInfo).port;
    log.info('SYS_WEBMAIL_LISTENING', { service: 'webmail', port });
  } else {
    // No webmail here: the HTTP port still answers /healthz, /readyz and /metrics (the container's probe).
    const { deps, limitStore } = sealpost;
    const checks = readinessChecks({ db: deps.db, redis: deps.redis, ...(limitStore ? { limitStore } : {}) });
    const ops = await listenOps({ config, log, checks, metrics: deps.metrics });
    running.push({ name: 'ops', phase: 1, deadlineMs: DRAIN_MS + 1_000, close: () => closeHttp(ops.server) });
    log.info('SYS_OPS_LISTENING', { service: services.join(','), port: ops.port });
  }
}

async function startWorker(workers: Workers, config: Config, log: Log, running: Running[]): Promise<void> {
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

/** The inbound listener runs with the gateway when there is a practice mail server to relay to. */
async function startInbound(inbound: Inbound | undefined, log: Log, running: Running[]): Promise<void> {
  if (!inbound) {
    log.info('SYS_INBOUND_OFF', { service: 'inbound' });
    return;
  }
  const port = await inbound.listen();
  running.push({ name: 'inbound', phase: 1, deadlineMs: DRAIN_MS + 1_000, close: () => inbound.close() });
  log.info('SYS_INBOUND_LISTENING', { service: 'inbound', port });
}

/** HTTP: stop accepting, let running requests finish for DRAIN_MS, then cut the rest (keep-alive too). */
function closeHttp(server: Server): Promise<void> {
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  server.closeIdleConnections();
  const timer = setTimeout(() => server.closeAllConnections(), DRAIN_MS);
  return closed.finally(() => clearTimeout(timer));
}
