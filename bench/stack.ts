import { randomBytes } from 'node:crypto';
import { systemClock } from '../core/clock.ts';
import { parseConfig } from '../core/config.ts';
import { openDb } from '../core/db/index.ts';
import type { CoreDeps } from '../core/deps.ts';
import { createLog } from '../core/log.ts';
import { PolicyRuleStore } from '../core/policy-rules.ts';
import { createDeliverQueue, enqueueDeliveries } from '../core/queue-client.ts';
import { startLocalRedis } from '../core/redis.ts';
import { Sealer } from '../core/seal.ts';
import { selfSigned } from '../core/tls.ts';
import { UserStore } from '../core/users.ts';
import { createGateway } from '../gateway/server.ts';
import { KeyStore } from '../keys/index.ts';
import { generateKeyPair } from '../keys/pgp.ts';
import { createWorkers } from '../worker/index.ts';
import { tmpDir } from '../test/helpers/tmp.ts';
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
export async function startStack(mode: 'pgp' | 'plain' | 'pickup', relay: string): Promise<Stack> {
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
  const queue = createDeliverQueue(deps);
  const workers = createWorkers(deps);
  await workers.start();
  const gateway = createGateway({
    ...deps,
    keys,
    tls: await selfSigned('sealpost.bench'),
    enqueue: (ids) => enqueueDeliveries(queue, ids),
  });
  const { submissionPort } = await gateway.listen();
  return {
    port: submissionPort,
    async close() {
      await gateway.close();
      await workers.close();
      await queue.close();
      await db.close();
      await redisServer.stop();
      tmp.cleanup();
    },
  };
}
