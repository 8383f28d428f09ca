import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { systemClock } from '../../core/clock.ts';
import { parseConfig } from '../../core/config.ts';
import { openDb } from '../../core/db/index.ts';
import { createLog } from '../../core/log.ts';
import { parseMasterKey, Sealer } from '../../core/seal.ts';
import { createWorkers } from '../../worker/index.ts';
import { tmpDir } from './tmp.ts';
import { KeyStore } from '../../keys/index.ts';

/**
 * The worker service in a child process (`node --import tsx`), so that a test can SIGKILL it mid-delivery
 * (DESIGN.md invariant 3). Run as a script it builds CoreDeps from the environment below and runs
 * createWorkers().start(); imported, `startWorkerProcess` spawns it and resolves once it logged DLV_STARTED.
 *
 *   SEALPOST_TEST_SQLITE_FILE   the SQLite file, or
 *   DATABASE_URL + SEALPOST_TEST_PG_SCHEMA
 *   SEALPOST_TEST_REDIS_SOCKET  the redis-server unix socket
 *   SEALPOST_DATA_DIR, SEALPOST_QUEUE_PREFIX, SEALPOST_RELAY, SEALPOST_MASTER_KEY (64 hex digits)
 *
 * Log lines (JSON, one a line) go to stdout; `output()` returns what the child wrote so far.
 */
export interface WorkerProcessOptions {
  sqliteFile?: string;
  databaseUrl?: string;
  pgSchema?: string;
  redisSocket: string;
  queuePrefix: string;
  relay: string;
  masterKeyHex: string;
}

export interface WorkerProcess {
  readonly child: ChildProcess;
  /** stdout and stderr so far (the child's log lines). */
  output(): string;
  /** SIGKILL, and wait until the process is gone. */
  kill(): Promise<void>;
  /** SIGTERM (a graceful close), and wait until the process is gone. */
  stop(): Promise<void>;
}

const SCRIPT = fileURLToPath(import.meta.url);
const READY = '"code":"DLV_STARTED"';

export async function startWorkerProcess(
  options: WorkerProcessOptions,
  timeoutMs = 30_000,
): Promise<WorkerProcess> {
  const data = tmpDir('sealpost-worker-proc-');
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    SEALPOST_DATA_DIR: data.dir,
    SEALPOST_TEST_REDIS_SOCKET: options.redisSocket,
    SEALPOST_QUEUE_PREFIX: options.queuePrefix,
    SEALPOST_RELAY: options.relay,
    SEALPOST_MASTER_KEY: options.masterKeyHex,
  };
  delete env.SEALPOST_TEST_SQLITE_FILE;
  delete env.SEALPOST_TEST_PG_SCHEMA;
  if (options.sqliteFile) {
    env.SEALPOST_TEST_SQLITE_FILE = options.sqliteFile;
  } else {
    if (!options.databaseUrl || !options.pgSchema) throw new Error('worker process: no database');
    env.DATABASE_URL = options.databaseUrl;
    env.SEALPOST_TEST_PG_SCHEMA = options.pgSchema;
  }
  const child = spawn(process.execPath, ['--import', 'tsx', SCRIPT], {
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const exited = once(child, 'exit').finally(data.cleanup);
  exited.catch(() => undefined);
  const ready = new Promise<void>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`worker process not ready after ${timeoutMs} ms:\n${text}`)),
      timeoutMs,
    );
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      if (text.includes(READY)) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`worker process exited before it was ready:\n${text}`));
    });
  });
  const gone = async (signal: NodeJS.Signals): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill(signal);
    await exited;
  };
  try {
    await ready;
  } catch (err) {
    await gone('SIGKILL');
    throw err;
  }
  return { child, output: () => text, kill: () => gone('SIGKILL'), stop: () => gone('SIGTERM') };
}

async function main(): Promise<void> {
  const env = process.env;
  const need = (name: string): string => {
    const value = env[name];
    if (!value) throw new Error(`worker process: ${name} is not set`);
    return value;
  };
  const config = parseConfig({
    dataDir: need('SEALPOST_DATA_DIR'),
    hostname: 'mx.sealpost.test',
    queuePrefix: need('SEALPOST_QUEUE_PREFIX'),
    relay: need('SEALPOST_RELAY'),
    delivery: {
      giveUpAfterSeconds: 3600,
      concurrency: 4,
      connectionTimeoutSeconds: 10,
      reconcileEverySeconds: 3600,
      lockSeconds: 2,
    },
  });
  const log = createLog({ level: 'debug', destination: process.stdout });
  const sqliteFile = env.SEALPOST_TEST_SQLITE_FILE;
  const db = sqliteFile
    ? await openDb({ sqliteFile })
    : await openDb({
        databaseUrl: need('DATABASE_URL'),
        pgSchema: need('SEALPOST_TEST_PG_SCHEMA'),
        poolSize: 4,
      });
  const sealer = new Sealer(parseMasterKey(need('SEALPOST_MASTER_KEY')));
  const workers = createWorkers({
    config,
    db,
    log,
    clock: systemClock,
    sealer,
    redis: { socketPath: need('SEALPOST_TEST_REDIS_SOCKET') },
    keys: new KeyStore({
      db: db.kysely,
      sealer,
      clock: systemClock,
      log,
      keyChange: config.discovery.keyChange,
    }),
  });
  process.once('SIGTERM', () => {
    void workers
      .close()
      .then(() => db.close())
      .finally(() => process.exit(0));
  });
  await workers.start();
}

if (process.argv[1] && path.resolve(process.argv[1]) === SCRIPT) {
  main().catch((err: unknown) => {
    process.stderr.write(`worker process failed: ${err instanceof Error ? err.name : typeof err}\n`);
    process.exit(1);
  });
}
