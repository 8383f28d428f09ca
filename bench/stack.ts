import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { systemClock, type Clock } from '../core/clock.ts';
import { parseConfig, type Config } from '../core/config.ts';
import { createLog, type Log } from '../core/log.ts';
import { startLocalRedis } from '../core/redis.ts';
import { Sealer } from '../core/seal.ts';
import { selfSigned } from '../core/tls.ts';
import { createCryptoPool, inThreadCrypto } from '../keys/index.ts';
import { discoverySettings, KeyDiscovery } from '../keys/discovery/index.ts';
import { generateKeyPair } from '../keys/openpgp/index.ts';
import { createSealpost, type Sealpost } from '../cli/sealpost.ts';
import { tmpDir } from '../test/helpers/tmp.ts';
import { startKeyDirectory, type KeyDirectory } from '../test/helpers/key-directory.ts';
import pino from 'pino';

export const SENDER = 'anna@praxis.example';
export const PASSWORD = 'bench-password-1';
export const RECIPIENT = 'dr.weber@klinik.example';

export interface Stack {
  port: number;
  close(): Promise<void>;
}

/**
 * The production composition (as `sealpost start` builds it) on temp folders and port 0: SQLite, a local
 * redis-server with AOF, delivering to `relay` (the bench's sink). The gateway runs in this process and the
 * delivery worker in a child process of its own, as `npm start` runs them (cli/supervisor.ts) — on the same
 * SQLite file, Redis and master key; BENCH_PROCESSES=one puts both in this process (`sealpost start all`).
 */
export type StackMode = 'pgp' | 'plain' | 'pickup' | 'wkd';
/** Addresses whose keys only the loopback WKD has (mode 'wkd'): cold lookups for the RCPT latency. */
export const COLD_DOMAIN = 'kollege.example';
export const COLD_COUNT = Number(process.env.BENCH_COLD ?? 100);
export const coldAddress = (i: number) => `cold${i}@${COLD_DOMAIN}`;

const SPLIT = process.env.BENCH_PROCESSES !== 'one';

/** What the worker process needs to join the gateway's stack (bench/stack-worker.ts). */
export interface WorkerJoin {
  dataDir: string;
  redisSocket: string;
  masterKey: string;
  relay: string;
  discovery: boolean;
}

function benchConfig(dataDir: string, relay: string): Config {
  return parseConfig({
    dataDir,
    hostname: 'sealpost.bench',
    listenHost: '127.0.0.1',
    smtpPort: 0,
    smtpsPort: 0,
    relay,
    delivery: { concurrency: 16 },
  });
}

/**
 * Every line still formatted and written, as in production, and written as production writes it
 * (core/log.ts: asynchronously, in buffered batches); a synchronous write per line cost the bench a
 * system call per line that `sealpost start` does not pay.
 */
const quietLog = () =>
  createLog({
    level: 'info',
    destination: pino.destination({ dest: process.env.BENCH_LOG ?? '/dev/null', sync: false }),
  });

export async function startStack(mode: StackMode, relay: string): Promise<Stack> {
  const tmp = tmpDir('sealpost-bench-');
  const redisServer = await startLocalRedis({ dir: `${tmp.dir}/redis` });
  const config = benchConfig(tmp.dir, relay);
  const log = quietLog();
  const clock = systemClock;
  const masterKey = randomBytes(32);
  // The modes other than 'wkd' run as before discovery existed: no network lookups at all.
  const directory =
    mode === 'wkd' ? await startKeyDirectory({ domains: ['klinik.example', COLD_DOMAIN] }) : undefined;
  // BENCH_CRYPTO=inline measures the code as it was before the pool (every new contact on the event loop).
  const crypto = process.env.BENCH_CRYPTO === 'inline' ? inThreadCrypto() : createCryptoPool();
  const split = SPLIT && mode !== 'wkd'; // the loopback directory lives in this process
  const sealpost = await createSealpost(mode === 'wkd' ? config : noDiscovery(config), {
    services: split ? ['gateway'] : ['gateway', 'worker'],
    overrides: {
      log,
      clock,
      sealer: new Sealer(masterKey),
      redis: { socketPath: redisServer.socketPath },
      crypto,
      tls: await selfSigned('sealpost.bench'),
      ...(directory ? { discovery: wkdDiscovery(directory, clock, log) } : { discovery: null }),
    },
  });
  await seed(sealpost, mode, directory);
  const worker = split
    ? await startWorkerProcess({
        dataDir: tmp.dir,
        redisSocket: redisServer.socketPath,
        masterKey: masterKey.toString('hex'),
        relay,
        discovery: false,
      })
    : undefined;
  if (!worker) await sealpost.workers!.start();
  const { submissionPort } = await sealpost.gateway!.listen();
  return {
    port: submissionPort,
    async close() {
      await sealpost.gateway!.close();
      await crypto.close();
      if (worker) {
        const exited = once(worker, 'exit');
        worker.kill('SIGTERM');
        await exited;
      } else await sealpost.workers!.close();
      await sealpost.close();
      await redisServer.stop();
      await directory?.close();
      tmp.cleanup();
    },
  };
}

/** The delivery worker in a child process; resolves once it reports that it runs. */
async function startWorkerProcess(join: WorkerJoin): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [...process.execArgv, 'bench/stack-worker.ts', JSON.stringify(join)],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const [first] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  if (first !== 'worker-ready') throw new Error(`bench worker: ${first}`);
  return child;
}

/** The worker side of a split stack (bench/stack-worker.ts): the gateway's database, Redis and key. */
export async function startWorker(join: WorkerJoin): Promise<{ close(): Promise<void> }> {
  const config = benchConfig(join.dataDir, join.relay);
  const sealpost = await createSealpost(join.discovery ? config : noDiscovery(config), {
    services: ['worker'],
    overrides: {
      log: quietLog(),
      clock: systemClock,
      sealer: new Sealer(Buffer.from(join.masterKey, 'hex')),
      redis: { socketPath: join.redisSocket },
      discovery: null,
    },
  });
  await sealpost.workers!.start();
  return {
    async close() {
      await sealpost.workers!.close();
      await sealpost.close();
    },
  };
}

/** The sender, its key, and per mode the recipient's key ('pgp'), a rule ('plain') or WKD keys ('wkd'). */
async function seed(sealpost: Sealpost, mode: StackMode, directory: KeyDirectory | undefined): Promise<void> {
  const { keys } = sealpost;
  const { stores } = sealpost.deps.db;
  const now = sealpost.deps.clock.now();
  await stores.users.add({ login: SENDER, password: PASSWORD }, now);
  await keys.generateSenderKey(SENDER);
  if (mode === 'pgp') await keys.importKeys((await generateKeyPair({ address: RECIPIENT, now })).publicKey);
  else if (mode === 'plain') await stores.rules.set({ match: 'klinik.example', action: 'plain' }, now);
  // 'pickup': no key and no rule, so every recipient gets a pickup.
  // 'wkd': the recipient's key only in a loopback Web Key Directory (test CA, injected resolver); discovery
  // finds it at the first RCPT and stores it, later RCPTs use the stored key (the warm case).
  if (!directory) return;
  const publish = async (address: string) =>
    directory.publishWkd(address, (await generateKeyPair({ address, now })).publicKey);
  await publish(RECIPIENT);
  for (let i = 0; i < COLD_COUNT; i++) await publish(coldAddress(i));
}

function wkdDiscovery(directory: KeyDirectory, clock: Clock, log: Log): KeyDiscovery {
  const settings = discoverySettings(
    parseConfig({ discovery: { vksUrl: directory.vksUrl, sources: ['wkd'] } }).discovery,
  );
  return new KeyDiscovery({ settings, clock, log, net: directory.net });
}

/** The modes other than 'wkd' run as before discovery existed: no network lookups at all. */
function noDiscovery(config: Config): Config {
  return parseConfig({ ...config, discovery: { ...config.discovery, enabled: false } });
}
