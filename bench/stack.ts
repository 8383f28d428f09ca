import { randomBytes } from 'node:crypto';
import { systemClock } from '../core/clock.ts';
import { parseConfig, type Config } from '../core/config.ts';
import { openDb } from '../core/db/index.ts';
import type { CoreDeps } from '../core/deps.ts';
import { LimitStore, limitPrefix } from '../core/limit-store.ts';
import { createLog } from '../core/log.ts';
import { PolicyRuleStore } from '../core/policy-rules.ts';
import { createDeliverQueue, enqueueDeliveries } from '../core/queue-client.ts';
import { startLocalRedis } from '../core/redis.ts';
import { Sealer } from '../core/seal.ts';
import { selfSigned } from '../core/tls.ts';
import { UserStore } from '../core/users.ts';
import { createGateway } from '../gateway/server.ts';
import { createCryptoPool, inThreadCrypto, KeyStore } from '../keys/index.ts';
import { discoverySettings, KeyDiscovery } from '../keys/discovery/index.ts';
import { generateKeyPair } from '../keys/pgp.ts';
import { createWorkers } from '../worker/index.ts';
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
  const db = await openDb({ dataDir: tmp.dir });
  const sealer = new Sealer(randomBytes(32));
  const clock = systemClock;
  const deps: CoreDeps = { config, db, log, clock, sealer, redis: { socketPath: redisServer.socketPath } };
  const keys = new KeyStore({ db: db.kysely, sealer, clock, log });
  await new UserStore(db.kysely).add({ login: SENDER, password: PASSWORD }, clock.now());
  await keys.generateSenderKey(SENDER);
  if (mode === 'pgp')
    await keys.importKeys((await generateKeyPair({ address: RECIPIENT, now: clock.now() })).publicKey);
  else if (mode === 'plain')
    await new PolicyRuleStore(db.kysely).set({ match: 'klinik.example', action: 'plain' }, clock.now());
  // 'pickup': no key and no rule, so every recipient gets a pickup.
  // 'wkd': the recipient's key only in a loopback Web Key Directory (test CA, injected resolver); discovery
  // finds it at the first RCPT and stores it, later RCPTs use the stored key (the warm case).
  let directory: KeyDirectory | undefined;
  let discovery: KeyDiscovery | undefined;
  if (mode === 'wkd') {
    directory = await startKeyDirectory({ domains: ['klinik.example', COLD_DOMAIN] });
    const publish = async (address: string) =>
      directory!.publishWkd(address, (await generateKeyPair({ address, now: clock.now() })).publicKey);
    await publish(RECIPIENT);
    for (let i = 0; i < COLD_COUNT; i++) await publish(coldAddress(i));
    const settings = discoverySettings(
      parseConfig({ discovery: { vksUrl: directory.vksUrl, sources: ['wkd'] } }).discovery,
    );
    discovery = new KeyDiscovery({ settings, clock, log, net: directory.net });
  }
  const limitStore = await LimitStore.open(deps.redis, limitPrefix(config.queuePrefix));
  const queue = createDeliverQueue(deps);
  // BENCH_CRYPTO=inline measures the code as it was before the pool (every new contact on the event loop).
  const crypto = process.env.BENCH_CRYPTO === 'inline' ? inThreadCrypto() : createCryptoPool();
  const workers = createWorkers(
    mode === 'wkd'
      ? { ...deps, ...(discovery ? { discovery } : {}) }
      : { ...deps, config: noDiscovery(config) },
  );
  await workers.start();
  const gateway = createGateway({
    ...deps,
    ...(mode === 'wkd' ? {} : { config: noDiscovery(config) }),
    ...(discovery ? { discovery } : {}),
    keys,
    limitStore,
    crypto,
    tls: await selfSigned('sealpost.bench'),
    enqueue: (ids) => enqueueDeliveries(queue, ids),
  });
  const { submissionPort } = await gateway.listen();
  return {
    port: submissionPort,
    async close() {
      await gateway.close();
      await crypto.close();
      await workers.close();
      await queue.close();
      await limitStore.close();
      await db.close();
      await redisServer.stop();
      await directory?.close();
      tmp.cleanup();
    },
  };
}

/** The modes other than 'wkd' run as before discovery existed: no network lookups at all. */
function noDiscovery(config: Config): Config {
  return parseConfig({ ...config, discovery: { ...config.discovery, enabled: false } });
}
