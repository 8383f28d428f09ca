import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { SENDER, SENDER_PASSWORD } from '../test/helpers/gateway.ts';
import { startDeployment } from '../test/topology/deployment.ts';
import { countDeliveries, sendTraffic } from '../test/topology/traffic.ts';

/**
 * BENCH_ONLY=pairs: throughput with 1 and with 2 gateway+worker pairs, each a `sealpost start gateway` /
 * `start worker` process as docker-compose.yml runs them, on one PostgreSQL (a fresh database on
 * DATABASE_URL's server, default this machine's) and one Redis; small plain messages over BENCH_CONNECTIONS
 * sessions spread over the gateways, timed until the sink has every one. Also per message: PostgreSQL
 * commits, and CPU milliseconds of Redis, of the Sealpost processes and of PostgreSQL (when it runs on this
 * machine), to tell where the next pair's time would go (docs/performance.md).
 */
const BASE = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 1000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);

function cpuMs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100; // utime + stime, clock ticks of 10 ms
}

/** CPU of every PostgreSQL process on this machine (the server and its backends), when it runs here. */
function postgresCpuMs(): number {
  let total = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^[0-9]+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/comm`, 'utf8').trim() === 'postgres') total += cpuMs(Number(entry));
    } catch {
      // the process ended meanwhile
    }
  }
  return total;
}

async function commits(dbName: string): Promise<number> {
  const client = new pg.Client({ connectionString: BASE });
  await client.connect();
  try {
    const { rows } = await client.query<{ n: string }>(
      'SELECT xact_commit AS n FROM pg_stat_database WHERE datname = $1',
      [dbName],
    );
    return Number(rows[0]?.n ?? 0);
  } finally {
    await client.end();
  }
}

interface PairsResult {
  pairs: number;
  msgsPerSec: number;
  commitsPerMsg: number;
  redisCpuMsPerMsg: number;
  sealpostCpuMsPerMsg: number;
  postgresCpuMsPerMsg: number;
}

async function measure(pairs: number): Promise<PairsResult> {
  const d = await startDeployment(BASE, {}, 'sealpost_bench');
  try {
    const ports: number[] = [];
    for (let i = 0; i < pairs; i++) {
      const [gw] = await Promise.all([d.run('gateway', `gw${i}`), d.run('worker', `w${i}`)]);
      ports.push(gw.port('SYS_GATEWAY_LISTENING', 'gateway'));
    }
    const pids = d.procs.map((p) => p.pid);
    const before = {
      commits: await commits(d.dbName),
      redis: cpuMs(d.redis.child.pid!),
      sealpost: pids.reduce((n, pid) => n + cpuMs(pid), 0),
      postgres: postgresCpuMs(),
    };
    const started = process.hrtime.bigint();
    const { accepted } = await sendTraffic({
      total: MESSAGES,
      connections: CONNECTIONS,
      targets: () => ports,
      user: SENDER,
      pass: SENDER_PASSWORD,
      from: SENDER,
      to: (n) => `empfang${n % 50}@klinik.example`,
    });
    while (countDeliveries(accepted, d.sink.messages).lost.length > 0) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const per = (n: number) => n / MESSAGES;
    return {
      pairs,
      msgsPerSec: MESSAGES / seconds,
      commitsPerMsg: per((await commits(d.dbName)) - before.commits),
      redisCpuMsPerMsg: per(cpuMs(d.redis.child.pid!) - before.redis),
      sealpostCpuMsPerMsg: per(pids.reduce((n, pid) => n + cpuMs(pid), 0) - before.sealpost),
      postgresCpuMsPerMsg: per(postgresCpuMs() - before.postgres),
    };
  } finally {
    await d.close();
  }
}

export async function pairsBench(): Promise<void> {
  const one = await measure(1);
  const two = await measure(2);
  console.log(
    `${MESSAGES} plain messages, ${CONNECTIONS} connections, PostgreSQL + one Redis, until delivered:`,
  );
  for (const r of [one, two]) {
    console.log(
      `  ${r.pairs} gateway+worker pair${r.pairs > 1 ? 's' : ''}: ${r.msgsPerSec.toFixed(1)} msgs/s; per message ` +
        `${r.commitsPerMsg.toFixed(1)} PostgreSQL commits, Redis ${r.redisCpuMsPerMsg.toFixed(2)} ms CPU, ` +
        `Sealpost ${r.sealpostCpuMsPerMsg.toFixed(1)} ms CPU, PostgreSQL ${r.postgresCpuMsPerMsg.toFixed(1)} ms CPU`,
    );
  }
  console.log(`2 pairs / 1 pair throughput ratio: ${(two.msgsPerSec / one.msgsPerSec).toFixed(2)}`);
}
