import { randomBytes } from 'node:crypto';
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
 * redis-server with AOF, gateway and worker in this process, delivering to `relay` (the bench's sink).
 */
export type StackMode = 'pgp' | 'plain' | 'pickup' | 'wkd';
/** Addresses whose keys only the loopback WKD has (mode 'wkd'): cold lookups for the RCPT latency. */
export const COLD_DOMAIN = 'kollege.example';
export const COLD_COUNT = Number(process.env.BENCH_COLD ?? 100);
export const coldAddress = (i: number) => `cold${i}@${COLD_DOMAIN}`;

export async function startStack(mode: StackMode, relay: string): Promise<Stack> {
  const tmp = tmpDir('sealpost-bench-');
  const redisServer = await startLocalRedis({ dir: `${tmp.dir}/redis` });
  const config = parseConfig({
    dataDir: tmp.dir,
    hostname: 'sealpost.bench',
    listenHost: '127.0.0.1',
    smtpPort: 0,
    smtpsPort: 0,
    relay,
    delivery: { concurrency: 16 },
  });
  const log = createLog({ level: 'info', destination: pino.destination('/dev/null') });
  const clock = systemClock;
  // The modes other than 'wkd' run as before discovery existed: no network lookups at all.
  const directory =
    mode === 'wkd' ? await startKeyDirectory({ domains: ['klinik.example', COLD_DOMAIN] }) : undefined;
  // BENCH_CRYPTO=inline measures the code as it was before the pool (every new contact on the event loop).
  const crypto = process.env.BENCH_CRYPTO === 'inline' ? inThreadCrypto() : createCryptoPool();
  const sealpost = await createSealpost(mode === 'wkd' ? config : noDiscovery(config), {
    services: ['gateway', 'worker'],
    overrides: {
      log,
      clock,
      sealer: new Sealer(randomBytes(32)),
      redis: { socketPath: redisServer.socketPath },
      crypto,
      tls: await selfSigned('sealpost.bench'),
      ...(directory ? { discovery: wkdDiscovery(directory, clock, log) } : { discovery: null }),
    },
  });
  await seed(sealpost, mode, directory);
  await sealpost.workers!.start();
  const { submissionPort } = await sealpost.gateway!.listen();
  return {
    port: submissionPort,
    async close() {
      await sealpost.gateway!.close();
      await crypto.close();
      await sealpost.workers!.close();
      await sealpost.close();
      await redisServer.stop();
      await directory?.close();
      tmp.cleanup();
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
