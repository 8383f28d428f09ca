import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Kysely } from 'kysely';
import pg from 'pg';
import { BenchClient } from '../../bench/smtp-client.ts';
import { openDb, type Db } from '../../core/db/index.ts';
import { Sealer, type SealPurpose } from '../../core/seal.ts';
import { ALL_SEALED_COLUMNS } from '../../keys/index.ts';
import { consoleCode } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { linkId, readMessage, unlock } from '../helpers/pickup-client.ts';
import { sealpostEnv, startSealpostProcess, type SealpostProcess } from '../helpers/sealpost-process.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * Master-key rotation fails closed (docs/backup.md "Rotating the master key"). Data sealed with key A — a
 * pickup, mail queued for delivery, the sender's private key, an admin's TOTP secret, an access code kept
 * for the console — is re-sealed by the real `sealpost master-key rotate` (SEALPOST_MASTER_KEY=B,
 * SEALPOST_MASTER_KEY_PREVIOUS=A). Afterwards every sealed row opens with B alone and none with A alone:
 * `rotate` with only A refuses every row (exit 65, each named by table and key, never by content), and
 * Sealpost started with only B (from SEALPOST_MASTER_KEY_FILE) delivers the queued mail and opens the pickup
 * with its code. B comes from `sealpost master-key new`.
 */
const CONTACT = 'max@example.org';
const COLLEAGUE = 'dr.weber@klinik.example';
const ADMIN = 'chef@praxis.example';
const SUBJECT = `Befund-${randomBytes(4).toString('hex')}`;

/** The real `sealpost` command; its log lines (warnings only) on stderr. */
function cli(processEnv: NodeJS.ProcessEnv, args: string[], input = '') {
  const env = { ...processEnv, SEALPOST_LOG_LEVEL: 'warn' };
  return new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/sealpost.mjs', ...args],
      { env, timeout: 240_000, maxBuffer: 8 * 1024 * 1024 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

function message(to: string, subject: string): Buffer {
  return Buffer.from(
    `From: <${SENDER}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}.${to}@praxis.example>\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVor der Rotation.\r\n`,
  );
}

async function freshPg(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL!;
  const name = `sealpost_rotate_${Date.now()}_${randomBytes(3).toString('hex')}`;
  const run = async (sql: string) => {
    const client = new pg.Client({ connectionString: base });
    await client.connect();
    await client.query(sql).finally(() => client.end());
  };
  await run(`CREATE DATABASE ${name}`);
  const url = new URL(base);
  url.pathname = `/${name}`;
  return { url: url.toString(), drop: () => run(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Every non-empty sealed value of every sealed column, with what opens it. */
async function sealedRows(db: Db) {
  const rows: { where: string; purpose: SealPurpose; aad: string; blob: Uint8Array }[] = [];
  for (const col of ALL_SEALED_COLUMNS) {
    const k = db.kysely as unknown as Kysely<Record<string, Record<string, unknown>>>;
    const aadColumn = col.aadColumn ?? col.key;
    for (const row of await k.selectFrom(col.table).select([col.key, col.column, aadColumn]).execute()) {
      const blob = row[col.column] as Uint8Array;
      if (blob.length === 0) continue;
      rows.push({
        where: `${col.table}.${col.column} ${String(row[col.key])}`,
        purpose: col.purpose,
        aad: `${col.aadPrefix ?? ''}${String(row[aadColumn])}`,
        blob,
      });
    }
  }
  return rows;
}

for (const kind of testDbKinds()) {
  describe(`security: master-key rotation fails closed (${kind})`, function () {
    this.timeout(600_000); // a dozen processes (CLI and services) on a loaded machine
    const tmp = tmpDir('sealpost-rotate-');
    const keyA = randomBytes(32);
    let keyB: Buffer;
    const procs: SealpostProcess[] = [];
    const drops: (() => Promise<void>)[] = [];
    let sink: Sink;

    before(async () => {
      sink = await startSink();
    });
    after(async () => {
      await Promise.all(procs.map((p) => p.kill()));
      await sink.close();
      for (const drop of drops) await drop();
      tmp.cleanup();
    });

    it('after rotate every row opens with the new key alone, none with the old one alone', async () => {
      const dataDir = path.join(tmp.dir, 'data');
      const base: Record<string, string> = { SEALPOST_RELAY: sink.relayUrl };
      if (kind === 'postgres') {
        const fresh = await freshPg();
        drops.push(fresh.drop);
        base.DATABASE_URL = fresh.url;
      }
      const withA = { ...base, SEALPOST_MASTER_KEY: keyA.toString('hex') };
      // The new key from `sealpost master-key new` (base64, 32 bytes, a fresh one each time).
      const made = await cli(sealpostEnv(dataDir), ['master-key', 'new']);
      assert.equal(made.code, 0, made.stderr);
      assert.match(made.stdout, /^[A-Za-z0-9+/]{43}=\n$/);
      keyB = Buffer.from(made.stdout.trim(), 'base64');
      assert.notEqual((await cli(sealpostEnv(dataDir), ['master-key', 'new'])).stdout, made.stdout);
      const withB = { ...base, SEALPOST_MASTER_KEY: keyB.toString('base64') };
      const aEnv = sealpostEnv(dataDir, withA);
      assert.equal((await cli(aEnv, ['user', 'add', SENDER], `${SENDER_PASSWORD}\n`)).code, 0);
      assert.equal((await cli(aEnv, ['key', 'generate', SENDER])).code, 0);
      assert.equal((await cli(aEnv, ['policy', 'set', 'klinik.example', 'plain'])).code, 0);
      const admin = await cli(aEnv, ['user', 'add', ADMIN, '--admin'], 'chef-password-long\n');
      assert.equal(admin.code, 0, admin.stderr);

      // With A: gateway and webmail, no worker, so the mail stays queued (sealed) in the database.
      const first = await startSealpostProcess(
        { dataDir, services: ['gateway', 'webmail'], env: withA },
        'SYS_WEBMAIL_LISTENING',
        240_000,
      );
      procs.push(first);
      const smtp = await BenchClient.connect(
        first.port('SYS_GATEWAY_LISTENING', 'gateway'),
        SENDER,
        SENDER_PASSWORD,
      );
      await smtp.send(SENDER, CONTACT, message(CONTACT, SUBJECT));
      await smtp.send(SENDER, COLLEAGUE, message(COLLEAGUE, SUBJECT));
      smtp.close();
      await first.terminate();

      const db = await openDb({ databaseUrl: base.DATABASE_URL, dataDir });
      try {
        const before = await sealedRows(db);
        const tables = new Set(before.map((r) => r.where.split('.')[0]));
        for (const t of ['pickups', 'outbound', 'sender_keys', 'console_totp', 'console_codes']) {
          assert.ok(tables.has(t), `a row sealed with A in ${t}`);
        }
        const sealerA = new Sealer(keyA);
        for (const r of before) assert.doesNotThrow(() => sealerA.open(r.purpose, r.blob, r.aad), r.where);

        // Rotate: B current, A previous (as the services run during a rolling restart).
        const rotEnv = sealpostEnv(dataDir, { ...withB, SEALPOST_MASTER_KEY_PREVIOUS: keyA.toString('hex') });
        const rotated = await cli(rotEnv, ['master-key', 'rotate']);
        assert.equal(rotated.code, 0, rotated.stderr);
        assert.equal(rotated.stdout.trim(), `master-key rotate: resealed=${before.length} skipped=0`);
        for (const col of ['outbound.body', 'pickups.ciphertext', 'sender_keys.sealed_private_key']) {
          assert.match(rotated.stderr, new RegExp(`resealed \\d+ of \\d+ in ${col.replace('.', '\\.')}`));
        }
        const again = await cli(rotEnv, ['master-key', 'rotate']);
        assert.equal(again.code, 0, again.stderr);
        assert.equal(
          again.stdout.trim(),
          `master-key rotate: resealed=0 skipped=${before.length}`,
          'idempotent',
        );

        const after = await sealedRows(db);
        assert.deepEqual(after.map((r) => r.where).sort(), before.map((r) => r.where).sort());
        const onlyB = new Sealer(keyB);
        for (const r of after) {
          assert.doesNotThrow(() => onlyB.open(r.purpose, r.blob, r.aad), `B opens ${r.where}`);
          assert.throws(() => sealerA.open(r.purpose, r.blob, r.aad), `A opens ${r.where}`);
        }
        const audit = await db.kysely
          .selectFrom('audit')
          .selectAll()
          .where('action', '=', 'master-key.rotate')
          .execute();
        assert.equal(audit.length, 2);
        assert.equal(audit[0]!.subject, onlyB.keyId);

        // Only A configured: every row is refused and named by table and key, never by its content.
        const refused = await cli(sealpostEnv(dataDir, withA), ['master-key', 'rotate']);
        assert.equal(refused.code, 65, refused.stderr);
        assert.equal(refused.stdout.trim(), 'master-key rotate: resealed=0 skipped=0');
        assert.match(refused.stderr, /CLI_MASTER_KEY_UNKNOWN/);
        for (const r of after) assert.ok(refused.stderr.includes(r.where), `names ${r.where}`);
        assert.ok(!refused.stderr.includes(SUBJECT) && !refused.stderr.includes(keyA.toString('hex')));
      } finally {
        await db.close();
      }

      // Only B, read from a file (a container secret): the queued mail is delivered, the pickup opens with
      // its code (from the console).
      const keyFile = path.join(tmp.dir, 'master-key');
      writeFileSync(keyFile, `${keyB.toString('base64')}\n`, { mode: 0o600 });
      const second = await startSealpostProcess(
        { dataDir, env: { ...base, SEALPOST_MASTER_KEY_FILE: keyFile } },
        'SYS_STARTED',
        240_000,
      );
      procs.push(second);
      const web = `http://127.0.0.1:${second.port('SYS_WEBMAIL_LISTENING')}`;
      const mails = await sink.waitFor(3, 120_000); // notification, receipt, the colleague's plain copy
      assert.ok(
        mails.some((m) => m.to[0] === COLLEAGUE && m.raw.includes(SUBJECT)),
        'queued mail delivered',
      );
      const notification = mails.find((m) => m.to[0] === CONTACT);
      assert.ok(notification, 'the pickup notification');
      const id = await linkId(notification.raw);
      const session = await unlock(web, id, await consoleCode(web, CONTACT));
      const read = await readMessage(web, session, id);
      assert.equal(read.parsed.subject, SUBJECT);
      assert.ok(read.verified, 'signed with the sender key re-sealed under B');
    });
  });
}
