import assert from 'node:assert/strict';
import { randomBytes, randomUUID } from 'node:crypto';
import { systemClock } from '../../core/clock.ts';
import { parseConfig } from '../../core/config.ts';
import type { CoreDeps } from '../../core/deps.ts';
import { silentLog } from '../../core/log.ts';
import { PolicyRuleStore } from '../../core/policy-rules.ts';
import { createDeliverQueue, enqueueDeliveries, type DeliverQueue } from '../../core/queue-client.ts';
import { connectRedis, startLocalRedis, type LocalRedis, type RedisTarget } from '../../core/redis.ts';
import { Sealer } from '../../core/seal.ts';
import { createWorkers, type Workers } from '../../worker/index.ts';
import { testDbKinds, type TestDbKind } from '../helpers/db.ts';
import { replyCode, SENDER, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startPrivateRedis, uniquePrefix } from '../helpers/redis.ts';
import { startSink, type Sink, type SinkMessage, type SinkOptions } from '../helpers/sink.ts';
import { startWorkerProcess, type WorkerProcess } from '../helpers/worker-process.ts';
import { KeyStore } from '../../keys/index.ts';

/**
 * DESIGN.md invariant 3, "Accepted means delivered": once the gateway answered 250 to DATA, the message is
 * delivered (exactly once per recipient) whatever Redis or a worker process does: Redis flushed after the
 * 250, the worker killed in the middle of a delivery, Redis down when the message is accepted.
 * Every test goes through the real gateway, a real redis-server with persistence, real workers and a sink.
 */
const PGP_RCPT = 'bob@clinic.example';
const PLAIN_RCPT = 'orders@lab.example';

/** Poll a condition with a deadline (no fixed sleeps). */
async function until(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** Settle within `ms` or reject: a hanging call must fail the test, not the suite's timeout. */
async function within<T>(what: string, ms: number, promise: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, late]);
  } finally {
    clearTimeout(timer);
  }
}

function messageIdOf(raw: Buffer): string {
  const head = raw.toString('latin1').split(/\r?\n\r?\n/, 1)[0] ?? '';
  const m = /^Message-ID:\s*(<[^>\s]+>)/im.exec(head);
  assert.ok(m, 'every delivered copy has a Message-ID');
  return m[1]!;
}

/** How often each (Message-ID, recipient) pair arrived at the sink. */
function copiesBy(messages: readonly SinkMessage[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const m of messages) {
    for (const to of m.to) {
      const key = `${messageIdOf(m.raw)} ${to}`;
      counts[key] = (counts[key] ?? 0) + 1;
    }
  }
  return counts;
}

function exactlyOnce(messageId: string): Record<string, number> {
  return { [`${messageId} ${PGP_RCPT}`]: 1, [`${messageId} ${PLAIN_RCPT}`]: 1 };
}

interface Stack {
  gw: TestGateway;
  sink: Sink;
  redisDir: string;
  redis: RedisTarget;
  /** The private redis-server (AOF on) in redisDir. */
  server: LocalRedis;
  prefix: string;
  queue: DeliverQueue;
}

for (const kind of testDbKinds()) {
  describe(`security: accepted means delivered (${kind})`, () => {
    let cleanups: (() => Promise<void> | void)[] = [];
    const later = (fn: () => Promise<void> | void): void => {
      cleanups.push(fn);
    };
    afterEach(async () => {
      for (const fn of cleanups.reverse()) {
        await within('cleanup', 15_000, Promise.resolve().then(fn)).catch(() => undefined);
      }
      cleanups = [];
    });

    /** Private redis (AOF), sink, gateway whose enqueue is the real BullMQ queue; a pgp and a plain recipient. */
    async function stack(k: TestDbKind, sinkOptions: SinkOptions = {}): Promise<Stack> {
      const priv = await startPrivateRedis(true);
      later(priv.cleanup);
      const redis: RedisTarget = { socketPath: priv.redis.socketPath };
      const sink = await startSink(sinkOptions);
      later(() => sink.close());
      const prefix = uniquePrefix();
      const queue = createDeliverQueue({
        config: parseConfig({ queuePrefix: prefix }),
        redis,
        log: silentLog,
      });
      later(() => queue.close());
      const gw = await startTestGateway({
        kind: k,
        redis,
        config: { relay: sink.relayUrl, queuePrefix: prefix, delivery: deliveryConfig },
        enqueue: (ids) => enqueueDeliveries(queue, ids),
      });
      later(() => gw.close());
      await gw.addRecipient(PGP_RCPT);
      await new PolicyRuleStore(gw.deps.db.kysely).set({ match: 'lab.example', action: 'plain' }, new Date());
      return { gw, sink, redisDir: priv.dir, redis, server: priv.redis, prefix, queue };
    }

    const deliveryConfig = {
      giveUpAfterSeconds: 3600,
      concurrency: 4,
      connectionTimeoutSeconds: 10,
      reconcileEverySeconds: 3600,
      lockSeconds: 2,
    };

    /** Submit one message to both recipients; returns its Message-ID and the SMTP reply. */
    async function submit(s: Stack): Promise<{ messageId: string; response: string }> {
      const messageId = `<${randomUUID()}@praxis.example>`;
      const info = await within(
        'DATA',
        20_000,
        s.gw.transport().sendMail({
          envelope: { from: SENDER, to: [PGP_RCPT, PLAIN_RCPT] },
          raw: [
            `From: Anna <${SENDER}>`,
            `To: ${PGP_RCPT}, ${PLAIN_RCPT}`,
            'Subject: Befund',
            `Message-ID: ${messageId}`,
            '',
            'Therapy notes',
            '',
          ].join('\r\n'),
        }),
      );
      return { messageId, response: info.response ?? '' };
    }

    function workersFor(s: Stack, sealer: Sealer = s.gw.deps.sealer): Workers {
      const deps: CoreDeps = {
        config: s.gw.deps.config,
        db: s.gw.deps.db,
        log: s.gw.deps.log,
        clock: systemClock,
        sealer,
        redis: s.redis,
      };
      const keys = new KeyStore({ db: deps.db.kysely, sealer, clock: deps.clock, log: deps.log });
      const workers = createWorkers({ ...deps, keys, retryDelay: () => 50 });
      later(() => workers.close());
      return workers;
    }

    async function statuses(s: Stack): Promise<string[]> {
      return (await s.gw.outbound()).map((r) => r.status);
    }

    /** Delivered once each, recorded so in the database, nothing left in the queue; and reconcile adds nothing. */
    async function assertDeliveredOnce(s: Stack, workers: Workers, messageId: string, timeoutMs = 20_000) {
      await s.sink.waitFor(2, timeoutMs);
      await until('both rows delivered', async () => (await statuses(s)).every((x) => x === 'delivered'));
      const again = await workers.reconcile();
      assert.deepEqual(again, { checked: 0, added: 0, promoted: 0 });
      await until('the deliver queue is empty', async () => {
        const c = await s.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized');
        return Object.values(c).every((n) => n === 0);
      });
      assert.deepEqual(copiesBy(s.sink.messages), exactlyOnce(messageId));
      assert.equal(s.sink.messages.length, 2);
    }

    it('delivers each copy exactly once when Redis is flushed after the 250', async () => {
      const s = await stack(kind);
      const { messageId, response } = await submit(s);
      assert.equal(replyCode(response), 'GW_ACCEPTED_PLAIN');
      assert.deepEqual(await statuses(s), ['queued', 'queued']);
      assert.equal((await s.queue.getJobCounts('waiting')).waiting, 2, 'the gateway enqueued both copies');

      const admin = connectRedis(s.redis);
      later(() => void admin.disconnect());
      await admin.flushall();
      assert.equal(await admin.dbsize(), 0);

      const workers = workersFor(s);
      await workers.start(); // reconciles: the database, not Redis, says what is due
      await assertDeliveredOnce(s, workers, messageId);
    });

    it('delivers each copy exactly once after the worker process is killed mid-delivery', async function () {
      // BullMQ hands a job whose worker died to another worker only once its lock (30 s) expired and a stalled
      // check (every 30 s) saw it twice: up to about a minute, with no setting for it (see the report).
      const releases: (() => void)[] = [];
      const dropped: SinkMessage[] = [];
      let holding = true;
      const s = await stack(kind, {
        dropped,
        holdData: () =>
          holding ? new Promise<void>((resolve) => releases.push(resolve)) : Promise.resolve(),
      });
      later(() => releases.forEach((r) => r()));
      const { messageId, response } = await submit(s);
      assert.equal(replyCode(response), 'GW_ACCEPTED_PLAIN');

      // The child needs the master key: re-seal the spooled copies with one the test knows.
      const masterKey = randomBytes(32);
      const sealer = new Sealer(masterKey);
      for (const row of await s.gw.outbound()) {
        await s.gw.deps.db.kysely
          .updateTable('outbound')
          .set({ body: sealer.seal('spool', s.gw.openBody(row), row.id) })
          .where('id', '=', row.id)
          .execute();
      }

      const testDb = s.gw.testDb;
      const child: WorkerProcess = await startWorkerProcess({
        ...(testDb.file
          ? { sqliteFile: testDb.file }
          : { databaseUrl: process.env.DATABASE_URL!, pgSchema: testDb.pgSchema! }),
        redisSocket: s.redis.socketPath!,
        queuePrefix: s.prefix,
        relay: s.sink.relayUrl,
        masterKeyHex: masterKey.toString('hex'),
      });
      later(() => child.kill());
      await until('the sink holds both copies in DATA', () => releases.length === 2);
      await child.kill();
      await until('the sink saw both clients go', () => dropped.length === 2);
      holding = false;
      assert.equal(s.sink.messages.length, 0, 'nothing was accepted by the sink');
      assert.deepEqual(await statuses(s), ['queued', 'queued']);

      const workers = workersFor(s, sealer);
      await workers.start();
      await assertDeliveredOnce(s, workers, messageId, 100_000);
    });

    it('answers 250 and delivers once when Redis is down at acceptance', async () => {
      const s = await stack(kind);
      await s.server.stop();
      let restarted: LocalRedis | undefined;
      later(async () => {
        // Should the gateway still wait for Redis to answer DATA, bring Redis back so that it can close.
        const server = (restarted ??= await startLocalRedis({ dir: s.redisDir, persistence: true }));
        try {
          await until(
            'the gateway answered DATA',
            () => s.gw.logText().includes('"code":"GW_ACCEPTED"'),
            10_000,
          );
        } finally {
          await server.stop();
        }
      });

      const { messageId, response } = await submit(s);
      assert.equal(replyCode(response), 'GW_ACCEPTED_PLAIN');
      assert.deepEqual(await statuses(s), ['queued', 'queued'], 'committed before the 250');
      assert.match(s.gw.logText(), /"code":"GW_ENQUEUE_FAILED"/);

      // A new redis-server on the same socket, with the same persistence files.
      restarted = await startLocalRedis({ dir: s.redisDir, persistence: true });
      const workers = workersFor(s);
      await workers.start();
      await assertDeliveredOnce(s, workers, messageId);
    });
  });
}
