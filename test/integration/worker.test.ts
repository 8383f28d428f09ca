import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Queue, UnrecoverableError, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { systemClock } from '../../core/clock.ts';
import { parseConfig } from '../../core/config.ts';
import type { CoreDeps } from '../../core/deps.ts';
import { newId } from '../../core/ids.ts';
import { QUEUES } from '../../core/queue.ts';
import { bullConnection } from '../../core/queue-client.ts';
import type { RedisTarget } from '../../core/redis.ts';
import { Sealer } from '../../core/seal.ts';
import { createWorkers, type Workers } from '../../worker/index.ts';
import { openTestDb, testDbKinds, type TestDb } from '../helpers/db.ts';
import { captureLog } from '../helpers/log.ts';
import { sharedRedis, startPrivateRedis, uniquePrefix } from '../helpers/redis.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { tmpDir } from '../helpers/tmp.ts';
import { KeyStore } from '../../keys/index.ts';

const SECRET = 'Befund-7731';
const SENDER = 'praxis@example.org';
const RCPT = 'klientin@example.net';

function message(id: string): Buffer {
  return Buffer.from(
    [
      `From: Praxis <${SENDER}>`,
      `To: <${RCPT}>`,
      `Subject: ${SECRET}`,
      'Date: Mon, 23 Nov 2026 10:00:00 +0000',
      `Message-ID: <${id}@example.org>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=utf-8',
      '',
      `Inhalt ${SECRET}`,
      '',
    ].join('\r\n'),
  );
}

/** Poll a condition with a deadline (no fixed sleeps). */
async function until(what: string, cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

interface Setup {
  deps: CoreDeps;
  testDb: TestDb;
  sink: Sink;
  workers: Workers;
  probe: Queue;
  logText: () => string;
  dataDir: string;
  cleanup(): Promise<void>;
}

async function setup(
  kind: 'sqlite' | 'postgres',
  opts: { outbox?: boolean; redis?: RedisTarget } = {},
): Promise<Setup> {
  const testDb = await openTestDb(kind);
  const sink = await startSink();
  const tmp = tmpDir('sealpost-worker-');
  const redis = opts.redis ?? (await sharedRedis());
  const config = parseConfig({
    dataDir: tmp.dir,
    hostname: 'mx.sealpost.test',
    queuePrefix: uniquePrefix(),
    ...(opts.outbox ? {} : { relay: sink.relayUrl }),
    delivery: {
      giveUpAfterSeconds: 3600,
      concurrency: 4,
      connectionTimeoutSeconds: 5,
      reconcileEverySeconds: 3600,
    },
  });
  const captured = captureLog();
  const deps: CoreDeps = {
    config,
    db: testDb.db,
    log: captured.log,
    clock: systemClock,
    sealer: new Sealer(randomBytes(32)),
    redis,
  };
  const keys = new KeyStore({ db: deps.db.kysely, sealer: deps.sealer, clock: deps.clock, log: deps.log });
  const workers = createWorkers({ ...deps, keys, retryDelay: () => 20 });
  const probe = new Queue(QUEUES.deliver, { connection: bullConnection(redis), prefix: config.queuePrefix });
  return {
    deps,
    testDb,
    sink,
    workers,
    probe,
    logText: captured.text,
    dataDir: tmp.dir,
    async cleanup() {
      await workers.close();
      await probe.close();
      await sink.close();
      await testDb.cleanup();
      tmp.cleanup();
    },
  };
}

async function insert(
  s: Setup,
  over: { kind?: string; from?: string; to?: string; expiresAt?: number } = {},
): Promise<{ id: string; raw: Buffer }> {
  const id = newId();
  const raw = message(id);
  const now = Date.now();
  await s.deps.db.kysely
    .insertInto('outbound')
    .values({
      id,
      batch_id: newId(),
      kind: over.kind ?? 'plain',
      user_id: null,
      envelope_from: over.from ?? SENDER,
      recipient: over.to ?? RCPT,
      message_id: `<${id}@example.org>`,
      body: s.deps.sealer.seal('spool', raw, id),
      size: raw.length,
      status: 'queued',
      attempts: 0,
      next_attempt_at: now,
      expires_at: over.expiresAt ?? now + 3600_000,
      last_code: null,
      last_smtp_code: null,
      created_at: now,
      updated_at: now,
      done_at: null,
    })
    .execute();
  return { id, raw };
}

async function rows(s: Setup) {
  return s.deps.db.kysely.selectFrom('outbound').selectAll().orderBy('created_at').execute();
}

async function row(s: Setup, id: string) {
  return s.deps.db.kysely.selectFrom('outbound').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** Nothing queued in the database and no job left in Redis. */
async function settled(s: Setup): Promise<void> {
  await until('the spool to settle', async () => {
    const queued = (await rows(s)).filter((r) => r.status === 'queued').length;
    const c = await s.probe.getJobCounts('active', 'waiting', 'delayed', 'prioritized');
    return queued === 0 && Object.values(c).every((n) => n === 0);
  });
}

for (const kind of testDbKinds()) {
  describe(`worker: delivery (${kind})`, () => {
    let s: Setup;
    afterEach(async () => s?.cleanup());

    it('delivers the sealed bytes unchanged over STARTTLS, once', async () => {
      s = await setup(kind);
      const { id, raw } = await insert(s);
      await s.workers.start();
      await s.workers.enqueue([id]);
      const [got] = await s.sink.waitFor(1);
      await settled(s);
      assert.equal(s.sink.messages.length, 1);
      assert.deepEqual(got?.raw, raw);
      assert.equal(got?.from, SENDER);
      assert.deepEqual(got?.to, [RCPT]);
      assert.equal(got?.secure, true);
      const r = await row(s, id);
      assert.equal(r.status, 'delivered');
      assert.equal(r.attempts, 1);
      assert.equal(r.last_code, 'DLV_DELIVERED');
      assert.ok(r.done_at);
      assert.ok(!s.logText().includes(SECRET));
    });

    it('retries after 451 (greylisting) and then delivers', async () => {
      s = await setup(kind);
      s.sink.failNext({ code: 451, message: '4.7.1 Please try again later' });
      const { id } = await insert(s);
      await s.workers.start();
      await s.workers.enqueue([id]);
      await s.sink.waitFor(1);
      await settled(s);
      assert.deepEqual(s.sink.rejected, [451]);
      assert.equal(s.sink.messages.length, 1);
      const r = await row(s, id);
      assert.equal(r.status, 'delivered');
      assert.equal(r.attempts, 2);
      assert.ok(s.logText().includes('DLV_DEFERRED'));
    });

    it('bounces on 550 and sends the sender a DSN without content', async () => {
      s = await setup(kind);
      s.sink.failNext({
        code: 550,
        message: '5.1.1 The email account that you tried to reach does not exist',
      });
      const { id } = await insert(s);
      await s.workers.start();
      await s.workers.enqueue([id]);
      const [dsn] = await s.sink.waitFor(1);
      await settled(s);
      assert.equal(dsn?.from, '');
      assert.deepEqual(dsn?.to, [SENDER]);
      const text = dsn?.raw.toString('latin1') ?? '';
      assert.match(text, /multipart\/report; report-type=delivery-status/);
      assert.match(
        text,
        /Final-Recipient: rfc822; klientin@example\.net\r\nAction: failed\r\nStatus: 5\.1\.1/,
      );
      assert.match(text, /Diagnostic-Code: smtp; 550 \(DLV_REJECT_RECIPIENT\)/);
      assert.ok(!text.includes(SECRET), 'the DSN holds no subject and no body');
      assert.ok(!text.includes('does not exist'), 'the DSN holds no remote text');
      const r = await row(s, id);
      assert.equal(r.status, 'bounced');
      assert.equal(r.last_code, 'DLV_REJECT_RECIPIENT');
      assert.equal(r.last_smtp_code, 550);
      const all = await rows(s);
      assert.equal(all.length, 2);
      const d = all.find((x) => x.kind === 'dsn');
      assert.equal(d?.envelope_from, '');
      assert.equal(d?.recipient, SENDER);
      assert.equal(d?.status, 'delivered');
      const audit = await s.deps.db.kysely.selectFrom('audit').selectAll().execute();
      assert.deepEqual(
        audit.map((a) => [a.action, a.subject, a.detail]),
        [['message.bounced', id, 'DLV_REJECT_RECIPIENT']],
      );
      assert.ok(!s.logText().includes(SECRET));
      assert.ok(!s.logText().includes('does not exist'));
    });

    it('never bounces a bounce', async () => {
      s = await setup(kind);
      s.sink.failNext({ code: 550, message: '5.1.1 no such user' });
      const { id } = await insert(s, { kind: 'dsn', from: '' });
      await s.workers.start();
      await s.workers.enqueue([id]);
      await settled(s);
      assert.equal((await row(s, id)).status, 'bounced');
      assert.equal((await rows(s)).length, 1);
      assert.equal(s.sink.messages.length, 0);
    });

    it('gives up after expiry and sends a DSN (5.4.7)', async () => {
      s = await setup(kind);
      s.sink.failNext({ code: 451, message: '4.7.1 Please try again later' });
      const { id } = await insert(s, { expiresAt: Date.now() - 1000 });
      await s.workers.start();
      await s.workers.enqueue([id]);
      const [dsn] = await s.sink.waitFor(1);
      await settled(s);
      const text = dsn?.raw.toString('latin1') ?? '';
      assert.match(text, /Status: 5\.4\.7\r\nDiagnostic-Code: smtp; 451 \(DLV_EXPIRED\)/);
      assert.deepEqual(dsn?.to, [SENDER]);
      const r = await row(s, id);
      assert.equal(r.status, 'bounced');
      assert.equal(r.last_code, 'DLV_EXPIRED');
    });

    it('never sends a body sealed for another row; defers it, then bounces it without its headers', async () => {
      s = await setup(kind);
      const { id, raw } = await insert(s, { expiresAt: Date.now() - 1000 });
      // The body of another recipient's row, moved here: the row id is the seal's associated data.
      await s.deps.db.kysely
        .updateTable('outbound')
        .set({ body: s.deps.sealer.seal('spool', raw, newId()) })
        .where('id', '=', id)
        .execute();
      await s.workers.start();
      await s.workers.enqueue([id]);
      const [dsn] = await s.sink.waitFor(1);
      await settled(s);
      assert.equal(s.sink.messages.length, 1, 'only the DSN');
      assert.deepEqual(dsn?.to, [SENDER]);
      assert.ok(!dsn?.raw.toString('latin1').includes(SECRET));
      const r = await row(s, id);
      assert.equal(r.status, 'bounced');
      assert.equal(r.last_code, 'DLV_EXPIRED');
      assert.match(s.logText(), /DLV_SPOOL_UNREADABLE/);
    });

    it('writes <dataDir>/outbox/<id>.eml when no relay is configured', async () => {
      s = await setup(kind, { outbox: true });
      const { id, raw } = await insert(s);
      await s.workers.start();
      await s.workers.enqueue([id]);
      await settled(s);
      const outbox = path.join(s.dataDir, 'outbox');
      assert.deepEqual(readdirSync(outbox), [`${id}.eml`], 'no temp files are left behind');
      const file = readFileSync(path.join(outbox, `${id}.eml`));
      const envelope = `Return-Path: <${SENDER}>\r\nDelivered-To: ${RCPT}\r\n`;
      assert.equal(file.subarray(0, envelope.length).toString(), envelope);
      assert.deepEqual(file.subarray(envelope.length), raw);
      assert.equal((await row(s, id)).status, 'delivered');
      assert.equal(s.sink.messages.length, 0);
    });

    it('delivers exactly once when the same row is enqueued many times', async () => {
      s = await setup(kind);
      const { id } = await insert(s);
      await s.workers.enqueue([id, id]);
      await s.workers.enqueue([id]);
      await s.workers.start();
      await s.workers.enqueue([id]);
      await s.workers.reconcile();
      await s.sink.waitFor(1);
      await settled(s);
      await s.workers.enqueue([id]);
      await s.workers.reconcile();
      await settled(s);
      assert.equal(s.sink.messages.length, 1);
    });
  });

  describe(`worker: reconcile (${kind})`, () => {
    let s: Setup | undefined;
    let privateRedis: Awaited<ReturnType<typeof startPrivateRedis>> | undefined;
    afterEach(async () => {
      await s?.cleanup();
      await privateRedis?.cleanup();
      s = undefined;
      privateRedis = undefined;
    });

    it('delivers exactly once after Redis was flushed between enqueue and start', async () => {
      privateRedis = await startPrivateRedis(false);
      const target = { socketPath: privateRedis.redis.socketPath };
      s = await setup(kind, { redis: target });
      const { id } = await insert(s);
      await s.workers.enqueue([id]);
      assert.equal(await s.probe.getJobCountByTypes('waiting'), 1);
      const client = new Redis({ path: target.socketPath });
      await client.flushall();
      client.disconnect();
      assert.equal(await s.probe.getJobCountByTypes('waiting'), 0);
      await s.workers.start();
      await s.sink.waitFor(1);
      await settled(s);
      assert.equal(s.sink.messages.length, 1);
      assert.equal((await row(s, id)).status, 'delivered');
    });

    it('re-adds a due row whose job ended without finishing it', async () => {
      s = await setup(kind);
      const { id } = await insert(s);
      // A failed job with the row's id (e.g. out of BullMQ attempts while the database was down).
      await s.workers.enqueue([id]);
      const failing = new Worker(
        QUEUES.deliver,
        async () => {
          throw new UnrecoverableError('simulated');
        },
        { connection: bullConnection(s.deps.redis), prefix: s.deps.config.queuePrefix },
      );
      await once(failing, 'failed');
      await failing.close();
      assert.equal(await s.probe.getJobState(`dlv-${id}`), 'failed');
      await s.workers.start();
      await s.sink.waitFor(1);
      await settled(s);
      assert.equal(s.sink.messages.length, 1);
      assert.equal((await row(s, id)).status, 'delivered');
    });
  });
}
