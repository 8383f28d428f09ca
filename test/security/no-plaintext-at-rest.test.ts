import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import pg from 'pg';
import { systemClock } from '../../core/clock.ts';
import { parseConfig } from '../../core/config.ts';
import { silentLog } from '../../core/log.ts';
import { PolicyRuleStore } from '../../core/policy-rules.ts';
import { createDeliverQueue, enqueueDeliveries } from '../../core/queue-client.ts';
import { connectRedis, type RedisTarget } from '../../core/redis.ts';
import { decryptAndVerify } from '../../keys/openpgp/index.ts';
import { createWorkers } from '../../worker/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { replyCode, SENDER, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startPrivateRedis, uniquePrefix } from '../helpers/redis.ts';
import { startSink, type SinkMessage } from '../helpers/sink.ts';

/**
 * DESIGN.md invariant 2, "No plaintext at rest": a random canary in the subject, the text body, an HTML part,
 * an attachment's name and its content goes through the real gateway, a real redis-server with AOF and RDB
 * files, and a real worker, to a pgp recipient and to one a `plain` rule allows (whose clear copy is
 * spooled too, sealed). While the message is queued and after it was delivered, the canary, in clear, as
 * UTF-8, quoted-printable or base64, is in none of: the database (SQLite file, -wal, -shm; every row of
 * every PostgreSQL table), the Redis persistence files, the data folder, files written to the temp folder
 * during the test, the logs. It does arrive at the sink: in the plain copy, and in the pgp copy once
 * decrypted.
 */
const PGP_RCPT = 'bob@clinic.example';
const PLAIN_RCPT = 'orders@lab.example';

/** The base64 text of `text` wherever it starts in a base64 stream (offset 0, 1 or 2 mod 3). */
function base64Forms(bytes: Buffer): string[] {
  return [0, 1, 2].map((shift) => {
    const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
    const whole = Math.floor((shift + bytes.length) / 3) * 4; // groups made only of known bytes
    return b64.slice(shift ? 4 : 0, whole);
  });
}

/** The forms of the canary that must not be found at rest. */
function needles(canary: string, token: string): string[] {
  const utf8 = Buffer.from(canary, 'utf8');
  const qp = [...utf8].map((b) => (b < 0x80 ? String.fromCharCode(b) : `=${b.toString(16).toUpperCase()}`));
  return [token, canary, qp.join(''), ...base64Forms(utf8), ...base64Forms(Buffer.from(token))];
}

/** Which needles occur in `bytes`, also with line breaks removed (base64 and quoted-printable wrap lines). */
function found(bytes: Buffer, forms: readonly string[]): string[] {
  const text = bytes.toString('latin1');
  const joined = text.replace(/=?\r?\n/g, '');
  return forms.filter((n) => {
    const latin1 = Buffer.from(n, 'utf8').toString('latin1');
    return text.includes(latin1) || joined.includes(latin1);
  });
}

/** Every regular file under `dir` (recursively), ignoring what vanishes meanwhile or cannot be read. */
function filesUnder(dir: string): string[] {
  const out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    const file = path.join(dir, name);
    try {
      const stat = lstatSync(file);
      if (stat.isDirectory()) out.push(...filesUnder(file));
      else if (stat.isFile()) out.push(file);
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

function read(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch {
    return undefined; // gone meanwhile, or not ours to read
  }
}

async function waitForRedisPersistence(target: RedisTarget): Promise<void> {
  const admin = connectRedis(target);
  try {
    await admin.save();
    await admin.bgrewriteaof();
    const deadline = Date.now() + 20_000;
    for (;;) {
      const info = await admin.info('persistence');
      if (/aof_rewrite_in_progress:0/.test(info) && /aof_rewrite_scheduled:0/.test(info)) {
        assert.match(info, /aof_last_bgrewrite_status:ok/);
        return;
      }
      if (Date.now() > deadline) throw new Error('BGREWRITEAOF did not finish within 20 s');
      await new Promise((r) => setTimeout(r, 25));
    }
  } finally {
    admin.disconnect();
  }
}

function armoredPart(copy: Buffer): string {
  const m = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(copy.toString('latin1'));
  assert.ok(m, 'the pgp copy carries an armored OpenPGP message');
  return m[0];
}

/** The canary is in the subject, text, HTML, attachment name and attachment content of this message. */
async function assertCarries(raw: Buffer | string, canary: string, what: string): Promise<void> {
  const mail = await simpleParser(raw);
  assert.ok(mail.subject?.includes(canary), `${what}: subject`);
  assert.ok(mail.text?.includes(canary), `${what}: text`);
  assert.ok(typeof mail.html === 'string' && mail.html.includes(canary), `${what}: html`);
  assert.equal(mail.attachments.length, 1, `${what}: one attachment`);
  const [attachment] = mail.attachments;
  assert.ok(attachment?.filename?.includes(canary), `${what}: attachment name`);
  assert.ok(attachment?.content.toString('utf8').includes(canary), `${what}: attachment content`);
}

for (const kind of testDbKinds()) {
  describe(`security: no plaintext at rest (${kind})`, () => {
    let cleanups: (() => Promise<void> | void)[] = [];
    afterEach(async () => {
      for (const fn of cleanups.reverse())
        await Promise.resolve()
          .then(fn)
          .catch(() => undefined);
      cleanups = [];
    });

    it('keeps subject, bodies and attachment out of the database, Redis, files and logs', async () => {
      const started = Date.now() - 1000; // mtime resolution
      const tmpBefore = new Set(filesUnder(os.tmpdir()));
      const token = randomBytes(8).toString('hex');
      const canary = `CANARY-Ü-${token}`;
      const forms = needles(canary, token);

      const priv = await startPrivateRedis(true);
      cleanups.push(priv.cleanup);
      const redis: RedisTarget = { socketPath: priv.redis.socketPath };
      const sink = await startSink();
      cleanups.push(() => sink.close());
      const prefix = uniquePrefix();
      const queue = createDeliverQueue({
        config: parseConfig({ queuePrefix: prefix }),
        redis,
        log: silentLog,
      });
      cleanups.push(() => queue.close());
      const gw: TestGateway = await startTestGateway({
        kind,
        redis,
        config: {
          relay: sink.relayUrl,
          queuePrefix: prefix,
          delivery: {
            giveUpAfterSeconds: 3600,
            concurrency: 4,
            connectionTimeoutSeconds: 10,
            reconcileEverySeconds: 3600,
          },
        },
        enqueue: (ids) => enqueueDeliveries(queue, ids),
      });
      cleanups.push(() => gw.close());
      const bob = await gw.addRecipient(PGP_RCPT);
      await new PolicyRuleStore(gw.deps.db.kysely).set({ match: 'lab.example', action: 'plain' }, new Date());

      /** Every place at rest that holds a form of the canary, as 'place: form index'. */
      async function leaks(): Promise<string[]> {
        await waitForRedisPersistence(redis);
        const places: string[] = [];
        const check = (place: string, bytes: Buffer | undefined) => {
          if (bytes) for (const n of found(bytes, forms)) places.push(`${place}: form ${forms.indexOf(n)}`);
        };
        const { file } = gw.testDb;
        if (file)
          for (const f of [file, `${file}-wal`, `${file}-shm`]) check(`sqlite ${path.basename(f)}`, read(f));
        const redisFiles = filesUnder(priv.dir);
        assert.ok(
          redisFiles.some((f) => f.endsWith('.rdb')) && redisFiles.some((f) => /\.aof$/.test(f)),
          'Redis wrote its RDB and AOF files',
        );
        for (const f of redisFiles) check(`redis ${path.relative(priv.dir, f)}`, read(f));
        for (const f of filesUnder(gw.deps.config.dataDir)) check(`data dir ${f}`, read(f));
        for (const f of filesUnder(os.tmpdir())) {
          let fresh = !tmpBefore.has(f);
          try {
            fresh ||= lstatSync(f).mtimeMs >= started;
          } catch {
            continue;
          }
          if (fresh) check(`temp file ${f}`, read(f));
        }
        check('log', Buffer.from(gw.logText(), 'utf8'));
        if (gw.testDb.pgSchema) places.push(...(await pgLeaks(gw.testDb.pgSchema, canary, forms)));
        return places;
      }

      const info = await gw.transport().sendMail({
        from: `Anna <${SENDER}>`,
        to: [PGP_RCPT, PLAIN_RCPT],
        subject: `Befund ${canary}`,
        text: `Therapienotizen ${canary}\n`,
        html: `<p>Therapienotizen <b>${canary}</b></p>`,
        attachments: [
          {
            filename: `${canary}.txt`,
            // Large enough that the pgp copy is spooled in chunks (outbound_chunks): those are scanned too.
            content: `Anhang ${canary}\n${`Seite ${canary}\n`.repeat(60_000)}`,
          },
        ],
      });
      assert.equal(replyCode(info.response), 'GW_ACCEPTED_PLAIN');
      const rows = await gw.outbound();
      assert.deepEqual(
        rows.map((r) => [r.recipient, r.kind, r.status]),
        [
          [PGP_RCPT, 'pgp', 'queued'],
          [PLAIN_RCPT, 'plain', 'queued'],
        ],
      );
      await assertCarries(gw.openBody(rows[1]!), canary, 'the sealed plain copy'); // what must stay sealed
      assert.ok(rows[0]!.chunks > 1, 'the large pgp copy is spooled in chunks');
      const chunks = () => gw.deps.db.kysely.selectFrom('outbound_chunks').select('idx').execute();
      assert.equal((await chunks()).length, rows[0]!.chunks);

      assert.deepEqual(await leaks(), [], 'nothing in clear while the message is queued');

      const workers = createWorkers({
        config: gw.deps.config,
        db: gw.deps.db,
        log: gw.deps.log,
        clock: systemClock,
        sealer: gw.deps.sealer,
        redis,
        keys: gw.keys,
        retryDelay: () => 50,
      });
      cleanups.push(() => workers.close());
      await workers.start();
      const arrived = await sink.waitFor(2);
      const deadline = Date.now() + 20_000;
      while ((await gw.outbound()).some((r) => r.status !== 'delivered')) {
        if (Date.now() > deadline) throw new Error('rows not marked delivered within 20 s');
        await new Promise((r) => setTimeout(r, 25));
      }

      const to = (rcpt: string): SinkMessage => {
        const m = arrived.find((x) => x.to.includes(rcpt));
        assert.ok(m, `a copy for ${rcpt}`);
        return m;
      };
      await assertCarries(to(PLAIN_RCPT).raw, canary, 'the plain copy');
      const pgpCopy = to(PGP_RCPT).raw;
      assert.deepEqual(found(pgpCopy, forms), [], 'the pgp copy shows nothing in clear');
      const { data } = await decryptAndVerify({
        armored: armoredPart(pgpCopy),
        decryptionKey: bob.privateKey,
        verificationKeys: [],
        now: new Date(),
      });
      await assertCarries(Buffer.from(data), canary, 'the decrypted pgp copy');

      assert.equal((await chunks()).length, 0, 'a delivered copy keeps no chunk');
      assert.deepEqual(await leaks(), [], 'nothing in clear after delivery');
    });
  });
}

/** PostgreSQL: every row of every table in the test schema, as JSON text (bytea appears as \x hex). */
async function pgLeaks(schema: string, canary: string, forms: readonly string[]): Promise<string[]> {
  const hex = Buffer.from(canary, 'utf8').toString('hex');
  const client = new pg.Client({ connectionString: process.env.DATABASE_URL });
  await client.connect();
  try {
    const tables = await client.query<{ table_name: string }>(
      `SELECT table_name FROM information_schema.tables WHERE table_schema = $1 AND table_type = 'BASE TABLE'`,
      [schema],
    );
    assert.ok(
      tables.rows.some((t) => t.table_name === 'outbound'),
      'the schema has the outbound table',
    );
    const places: string[] = [];
    for (const { table_name: table } of tables.rows) {
      const all = [...forms, hex];
      for (const [i, needle] of all.entries()) {
        const result = await client.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "${schema}"."${table}" t
           WHERE strpos(row_to_json(t)::text, $1) > 0`,
          [needle],
        );
        if ((result.rows[0]?.n ?? 0) > 0) places.push(`postgres ${table}: form ${i}`);
      }
    }
    return places;
  } finally {
    await client.end();
  }
}
