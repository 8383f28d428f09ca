import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import pino from 'pino';
import { parseConfig } from '../../core/config.ts';
import { createLog } from '../../core/log.ts';
import { createSealpost } from '../../cli/sealpost.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { startSealpostProcess, type SealpostProcess } from '../helpers/sealpost-process.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { readCompose, startComposeRedis, startServices, toLoopback, type TcpRedis } from './compose.ts';

/**
 * The services of docker-compose.yml as plain processes on this machine, for the topology test and the
 * bench (BENCH_ONLY=pairs): a fresh PostgreSQL database on `baseUrl`'s server, the file's redis command on a
 * free loopback port, a sink as the relay, and the sender (SENDER) with a key and a plain rule for
 * klinik.example already in the database. `run('gateway', 'gw1')` starts a service as its compose command.
 */
export interface Deployment {
  readonly sink: Sink;
  readonly redis: TcpRedis;
  readonly procs: SealpostProcess[];
  readonly dbName: string;
  run(service: string, instance: string): Promise<SealpostProcess>;
  env(service: string, instance: string): Record<string, string>;
  close(): Promise<void>;
}

export async function startDeployment(
  baseUrl: string,
  settings: Record<string, unknown>,
  prefix = 'sealpost_topo',
): Promise<Deployment> {
  const tmp = tmpDir('sealpost-topology-');
  const masterKey = randomBytes(32).toString('hex');
  const admin = () => new pg.Client({ connectionString: baseUrl, connectionTimeoutMillis: 5000 });
  const dbName = `${prefix}_${Date.now()}_${process.pid}`;
  const client = admin();
  await client.connect();
  await client.query(`CREATE DATABASE ${dbName}`);
  await client.end();
  const base = new URL(baseUrl);
  const compose = readCompose({
    SEALPOST_MASTER_KEY: masterKey,
    POSTGRES_USER: decodeURIComponent(base.username || 'postgres'),
    POSTGRES_PASSWORD: decodeURIComponent(base.password),
    POSTGRES_DB: dbName,
  });
  const redis = await startComposeRedis(compose.redis!, path.join(tmp.dir, 'redis'));
  const sink = await startSink();
  const configFile = path.join(tmp.dir, 'config.json');
  writeFileSync(configFile, JSON.stringify(settings));
  const procs: SealpostProcess[] = [];

  /** A service's environment from docker-compose.yml, on loopback, port 0, its own data folder. */
  const env = (service: string, instance: string): Record<string, string> => {
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(compose[service]!.environment)) out[k] = toLoopback(v, redis.port);
    return {
      ...out,
      SEALPOST_DATA_DIR: path.join(tmp.dir, instance),
      SEALPOST_LISTEN_HOST: '127.0.0.1',
      SEALPOST_SMTP_PORT: '0',
      SEALPOST_SMTPS_PORT: '0',
      SEALPOST_INBOUND_PORT: '0',
      SEALPOST_HTTP_PORT: '0',
      SEALPOST_HOSTNAME: 'sealpost.test',
      SEALPOST_PUBLIC_URL: 'http://sealpost.test',
      SEALPOST_RELAY: sink.relayUrl,
      SEALPOST_DISCOVERY: 'off',
      SEALPOST_CONFIG: configFile,
    };
  };

  // The database as `sealpost user add` / `key generate` / `policy set` leave it, before any service.
  const seedEnv = env('worker', 'seed');
  const config = parseConfig({
    dataDir: seedEnv.SEALPOST_DATA_DIR,
    databaseUrl: seedEnv.DATABASE_URL,
    masterKey,
    discovery: { enabled: false },
  });
  const log = createLog({ level: 'warn', destination: pino.destination(2) });
  const seed = await createSealpost(config, { services: [], overrides: { log, discovery: null } });
  const now = new Date();
  await seed.deps.db.stores.users.add({ login: SENDER, password: SENDER_PASSWORD }, now);
  await seed.keys.generateSenderKey(SENDER);
  await seed.deps.db.stores.rules.set({ match: 'klinik.example', action: 'plain' }, now);
  await seed.close();

  return {
    sink,
    redis,
    procs,
    dbName,
    env,
    async run(service, instance) {
      const sp = await startSealpostProcess(
        {
          dataDir: path.join(tmp.dir, instance),
          services: startServices(compose[service]!, service),
          env: env(service, instance),
        },
        'SYS_STARTED',
        240_000,
      );
      procs.push(sp);
      return sp;
    },
    async close() {
      await Promise.all(procs.map((p) => p.kill()));
      await redis.stop();
      await sink.close();
      const c = admin();
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
      await c.end();
      tmp.cleanup();
    },
  };
}
