import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { BenchClient } from '../../bench/smtp-client.ts';
import { consoleCode } from '../helpers/console.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { authKeyFor, linkId, postUnlock } from '../helpers/pickup-client.ts';
import { startDeployment, type Deployment } from './deployment.ts';
import { countDeliveries, deliveredId, sendTraffic, topologyMessage } from './traffic.ts';

/**
 * `npm run test:topology` (issue 16): the services as docker-compose.yml runs them — 2 gateways, 2 workers
 * and a webmail, each started with its service's command and environment from the file, host names mapped
 * to loopback — on one PostgreSQL (a fresh database on DATABASE_URL's server) and one Redis (the file's
 * redis command: AOF, noeviction). 2,000 messages over both gateways; one gateway and one worker SIGKILLed
 * mid-run and started again. Every message that got its 250 reaches the sink (counted by Message-ID);
 * duplicates are counted and stay under 0.5 %. Then: the per-address unlock limit holds over two webmail
 * processes, and the scheduled reconcile ran once per tick, not once per worker.
 */
const BASE_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const TOTAL = Number(process.env.TOPOLOGY_MESSAGES ?? 2000);
const KILL_AT = Math.floor(TOTAL / 3);
const UNLOCK_LIMIT = 4;
const RECONCILE_EVERY_S = 10;
const RECIPIENT = (n: number) => `empfang${n % 50}@klinik.example`;

describe('topology: 2 gateways, 2 workers, webmail on one PostgreSQL and one Redis (docker-compose.yml)', function () {
  this.timeout(600_000); // minutes on a loaded 2-core machine: 7 processes start, 2,000 messages
  let d: Deployment;
  const procs = () => d.procs;
  const run = (service: string, instance: string) => d.run(service, instance);

  before(async () => {
    d = await startDeployment(BASE_URL, {
      delivery: { lockSeconds: 5, reconcileEverySeconds: RECONCILE_EVERY_S },
      pickup: { unlockAttemptsPerIp: UNLOCK_LIMIT },
    });
  });

  after(async () => {
    await d?.close();
  });

  it(`delivers every accepted message of ${TOTAL} over a gateway and a worker killed mid-run`, async () => {
    const started = Date.now();
    const [gw1, gw2, w1] = await Promise.all([
      run('gateway', 'gw1'),
      run('gateway', 'gw2'),
      run('worker', 'w1'),
      run('worker', 'w2'),
      run('webmail', 'web1'),
    ]);
    const ports = new Map<string, number>([
      ['gw1', gw1.port('SYS_GATEWAY_LISTENING', 'gateway')],
      ['gw2', gw2.port('SYS_GATEWAY_LISTENING', 'gateway')],
    ]);
    const upMs = Date.now() - started;
    const accepted = new Set<string>();
    const traffic = sendTraffic({
      total: TOTAL,
      connections: 8,
      targets: () => [...ports.values()],
      user: SENDER,
      pass: SENDER_PASSWORD,
      from: SENDER,
      to: RECIPIENT,
      accepted,
    });
    while (accepted.size < KILL_AT) await new Promise((r) => setTimeout(r, 20));
    ports.delete('gw1');
    await Promise.all([gw1.kill(), w1!.kill()]);
    const killedAt = accepted.size;
    const [gw1b] = await Promise.all([run('gateway', 'gw1'), run('worker', 'w1')]);
    ports.set('gw1', gw1b.port('SYS_GATEWAY_LISTENING', 'gateway'));
    const restartedAt = accepted.size;
    const { broken } = await traffic;
    const sentMs = Date.now() - started;
    const deadline = Date.now() + 120_000;
    let counts = countDeliveries(accepted, d.sink.messages);
    while (counts.lost.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 500));
      counts = countDeliveries(accepted, d.sink.messages);
    }
    console.log(`lost=${counts.lost.length} duplicates=${counts.duplicates}`);
    console.log(
      `topology: 5 processes up in ${upMs} ms; accepted=${accepted.size} delivered=${counts.delivered} killed after ${killedAt}, ` +
        `back after ${restartedAt}; broken sessions=${broken}; sent in ${sentMs} ms, all delivered after ` +
        `${Date.now() - started} ms`,
    );
    assert.equal(accepted.size, TOTAL);
    assert.deepEqual(counts.lost.slice(0, 10), [], `${counts.lost.length} accepted messages never delivered`);
    assert.ok(
      counts.duplicates < TOTAL * 0.005,
      `${counts.duplicates} duplicates, 0.5 % is ${TOTAL * 0.005}`,
    );
  });

  it('the scheduled reconcile ran once per tick, not once per worker', async () => {
    // BullMQ writes every job's end to the queue's event stream: each tick's job id is repeat:reconcile:<ms>.
    const client = new Redis(d.redis.port, '127.0.0.1');
    const prefix = d.env('worker', 'x').SEALPOST_QUEUE_PREFIX ?? 'sealpost';
    const entries = await client.xrange(`${prefix}:maintenance:events`, '-', '+');
    client.disconnect();
    const completed = new Map<string, number>();
    for (const [, fields] of entries) {
      const f = new Map<string, string>();
      for (let i = 0; i + 1 < fields.length; i += 2) f.set(fields[i]!, fields[i + 1]!);
      const jobId = f.get('jobId') ?? '';
      if (f.get('event') === 'completed' && jobId.includes('reconcile')) {
        completed.set(jobId, (completed.get(jobId) ?? 0) + 1);
      }
    }
    const ticks = [...completed.keys()].map((id) => Number(id.split(':').pop())).sort((a, b) => a - b);
    console.log(`topology: ${completed.size} reconcile ticks ran`);
    assert.ok(completed.size >= 2, `only ${completed.size} reconcile runs`);
    for (const [id, n] of completed) assert.equal(n, 1, `${id} completed ${n} times`);
    const spanS = (ticks.at(-1)! - ticks[0]!) / 1000;
    assert.ok(
      completed.size <= Math.floor(spanS / RECONCILE_EVERY_S) + 1,
      `${completed.size} runs in ${spanS} s at one per ${RECONCILE_EVERY_S} s`,
    );
  });

  it(`the unlock limit (${UNLOCK_LIMIT} wrong codes per address) holds over two webmail processes`, async () => {
    const web1 = procs().find((p) => p.lines().some((l) => l.code === 'SYS_WEBMAIL_LISTENING'))!;
    const web2 = await run('webmail', 'web2');
    const urls = [web1, web2].map((p) => `http://127.0.0.1:${p.port('SYS_WEBMAIL_LISTENING')}`);
    const gateway = procs()
      .filter((p) => p.child.exitCode === null && p.child.signalCode === null)
      .find((p) => p.lines().some((l) => l.service === 'gateway'))!;
    const client = await BenchClient.connect(
      gateway.port('SYS_GATEWAY_LISTENING', 'gateway'),
      SENDER,
      SENDER_PASSWORD,
    );
    await client.send(SENDER, 'max@example.org', topologyMessage(SENDER, 'max@example.org', 999_999));
    client.close();
    const deadline = Date.now() + 60_000;
    let notification = d.sink.messages.find(
      (m) => m.to[0] === 'max@example.org' && !deliveredId(m)?.startsWith('topo-'),
    );
    while (!notification && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 200));
      notification = d.sink.messages.find(
        (m) => m.to[0] === 'max@example.org' && !deliveredId(m)?.startsWith('topo-'),
      );
    }
    assert.ok(notification, 'no pickup notification');
    const id = await linkId(notification.raw);
    const from = { localAddress: '127.0.0.7' };
    const statuses: number[] = [];
    for (let i = 0; i < UNLOCK_LIMIT + 2; i++) {
      statuses.push((await postUnlock(urls[i % 2]!, id, randomBytes(32), from)).status);
    }
    const limited = [...Array(UNLOCK_LIMIT).fill(401), 429, 429];
    assert.deepEqual(
      statuses,
      limited,
      'wrong codes alternating over both webmails: limited at the same total',
    );
    const right = await authKeyFor(urls[1]!, id, await consoleCode(urls[0]!, 'max@example.org'));
    assert.equal((await postUnlock(urls[0]!, id, right, from)).status, 429, 'the right code waits too');
    assert.equal((await postUnlock(urls[1]!, id, right, { localAddress: '127.0.0.8' })).status, 200);
  });
});
