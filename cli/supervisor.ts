import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { loadConfig, type Config } from '../core/config.ts';
import { secureDataDir } from '../core/data-dir.ts';
import { openDb } from '../core/db/index.ts';
import { openLocalRedis } from '../core/local-redis.ts';
import { createLog, errName, type Log } from '../core/log.ts';
import { sealerFromConfig } from '../core/master-key.ts';
import { SERVICES, type Service } from './sealpost.ts';
import { checkDkimKey } from './start.ts';
import { abortAll, EXIT_DEADLINE_MS, stopAll, type Stoppable } from './shutdown.ts';

/**
 * `sealpost start` (no service): the gateway, the delivery worker and the webmail as three processes, so
 * that a small practice's `npm start` uses more than one core. This parent is a small supervisor:
 *   - it does once what the three would otherwise race for: the data folder's modes, the master key file,
 *     the migrations, and the local redis-server (no REDIS_URL) — which it owns and restarts when it dies
 *     (core/local-redis.ts); the children share it through its pid file, as `start gateway` and `start
 *     worker` on one data folder always could;
 *   - it spawns `sealpost start gateway|worker|webmail` with the same environment; their stdout/stderr are
 *     this process's (JSON log lines already, nothing prefixed). The webmail keeps SEALPOST_HTTP_PORT; the
 *     gateway and the worker answer /healthz, /readyz and /metrics on a free port each (SEALPOST_OPS_PORT=0,
 *     logged as SYS_OPS_LISTENING) unless SEALPOST_OPS_PORT is set to a fixed one — which only one of
 *     them could bind, so it is ignored here;
 *   - SIGTERM/SIGINT are passed on; when a child dies unexpectedly the others are stopped and this process
 *     exits 1: a process manager (systemd, Docker's restart policy) restarts the whole, as it would the one
 *     process of `sealpost start all`.
 * It exits within EXIT_DEADLINE_MS: children still running CHILD_DEADLINE_MS after the signal are killed
 * (what they cut off is safe, cli/shutdown.ts), then the redis-server is stopped.
 */
export const CHILD_DEADLINE_MS = EXIT_DEADLINE_MS - 2_000;

export async function supervise(): Promise<void> {
  const config = loadConfig();
  const log = createLog({ level: config.logLevel });
  const parts: Stoppable[] = [];
  const children = new Map<Service, ChildProcess>();
  let stopping = false;
  const stop = async (reason: string, exitCode: number) => {
    if (stopping) return;
    stopping = true;
    log.info('SYS_STOPPING', { reason });
    const watchdog = setTimeout(() => {
      log.error('SYS_STOP_FORCED', { ms: EXIT_DEADLINE_MS });
      abortAll(parts);
      process.exit(1);
    }, EXIT_DEADLINE_MS);
    const clean = await stopAll(parts, log);
    clearTimeout(watchdog);
    log.info('SYS_STOPPED', clean ? {} : { reason: 'SYS_STOP_TIMEOUT' });
    process.exit(exitCode);
  };
  process.on('SIGTERM', () => void stop('SIGTERM', 0));
  process.on('SIGINT', () => void stop('SIGINT', 0));
  try {
    await prepare(config, log, parts);
    const started = new Set<Service>();
    for (const service of SERVICES) {
      const child = spawnService(service);
      // Each child says when its listeners are bound; SYS_STARTED once all three did, as `start all` logs it.
      child.on('message', (m: unknown) => {
        // tsx (bin/sealpost.mjs) sends messages of its own on the same channel.
        if ((m as { sealpost?: unknown } | null)?.sealpost !== 'started') return;
        started.add(service);
        if (started.size === SERVICES.length && !stopping) {
          log.info('SYS_STARTED', { service: SERVICES.join(',') });
        }
      });
      children.set(service, child);
      parts.push(childPart(service, child));
      // A child that cannot be spawned at all stops the others, as one that exits does.
      child.once('error', (err) => {
        if (stopping) return;
        log.error('SYS_CHILD_EXITED', { service, errName: errName(err) });
        void stop('SYS_CHILD_EXITED', 1);
      });
      child.once('exit', (code, signal) => {
        if (stopping) return;
        log.error('SYS_CHILD_EXITED', { service, errName: signal ?? `exit-${String(code)}` });
        void stop('SYS_CHILD_EXITED', 1);
      });
    }
    log.info('SYS_SUPERVISING', { service: SERVICES.join(',') });
  } catch (err) {
    log.error('SYS_START_FAILED', { errName: errName(err) });
    console.error(`sealpost: cannot start: ${(err as Error).message}`);
    await stop('start-failed', 1);
  }
}

/** What the three children would otherwise each do at once on a fresh data folder. */
async function prepare(config: Config, log: Log, parts: Stoppable[]): Promise<void> {
  checkDkimKey(config);
  secureDataDir(config.dataDir, log);
  // The key the children will use (a file named by SEALPOST_MASTER_KEY_FILE included): none is made beside it.
  sealerFromConfig(config, log);
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, log });
  await db.close();
  if (config.redisUrl) return;
  const local = await openLocalRedis({ dir: path.join(config.dataDir, 'redis'), log });
  if (!local.owned) return; // another sealpost on this data folder owns it; share it as the children do
  parts.push({
    name: 'redis',
    phase: 3,
    deadlineMs: 1_500,
    close: () => local.stop(),
    abort: () => local.abort(),
  });
}

function spawnService(service: Service): ChildProcess {
  const env = { ...process.env };
  if (service !== 'webmail') env.SEALPOST_OPS_PORT = '0';
  // The same entry point (bin/sealpost.mjs) and Node options as this process.
  return spawn(process.execPath, [...process.execArgv, process.argv[1]!, 'start', service], {
    env,
    // The IPC channel: the child's one message when it started, and its 'disconnect' when this process is gone.
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** A child stops on the forwarded signal within its own deadline; past CHILD_DEADLINE_MS it is killed. */
function childPart(service: Service, child: ChildProcess): Stoppable {
  const gone = () => child.exitCode !== null || child.signalCode !== null;
  return {
    name: service,
    phase: 1,
    deadlineMs: CHILD_DEADLINE_MS + 500,
    async close() {
      if (gone()) return;
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), CHILD_DEADLINE_MS);
      await exited.finally(() => clearTimeout(timer));
    },
    abort() {
      if (!gone()) child.kill('SIGKILL');
    },
  };
}
