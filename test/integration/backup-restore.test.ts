import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { BenchClient } from '../../bench/smtp-client.ts';
import { consoleCode } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { linkId, readMessage, unlock } from '../helpers/pickup-client.ts';
import { sealpostEnv, startSealpostProcess, type SealpostProcess } from '../helpers/sealpost-process.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * `sealpost backup` while the gateway and the webmail run, then `sealpost restore` into an EMPTY database
 * (a new data folder; on PostgreSQL a new database) with a new Redis: with the same master key the
 * pickup opens with its code, and the mail that was queued at backup time (no worker ran before) is
 * delivered. Without the master key nothing of it opens.
 */
const CONTACT = 'max@example.org';
const COLLEAGUE = 'dr.weber@klinik.example';

function cli(env: NodeJS.ProcessEnv, args: string[], input = ''): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/sealpost.mjs', ...args],
      { env, timeout: 240_000 },
      (err, o, e) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, out: `${o}${e}` }),
    );
    child.stdin?.end(input);
  });
}

function message(to: string, subject: string): Buffer {
  return Buffer.from(
    `From: <${SENDER}>\r\nTo: <${to}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@praxis.example>\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nVor der Sicherung.\r\n`,
  );
}

async function freshPg(): Promise<{ url: string; drop: () => Promise<void> }> {
  const base = process.env.DATABASE_URL!;
  const name = `sealpost_backup_${Date.now()}_${randomBytes(3).toString('hex')}`;
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

for (const kind of testDbKinds()) {
  describe(`backup and restore (${kind})`, function () {
    this.timeout(600_000); // a dozen processes (CLI and services), each a few seconds on a loaded machine
    const tmp = tmpDir('sealpost-backup-');
    const masterKey = randomBytes(32).toString('hex');
    const drops: (() => Promise<void>)[] = [];
    const procs: SealpostProcess[] = [];
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

    async function place(name: string): Promise<{ dataDir: string; env: Record<string, string> }> {
      const dataDir = path.join(tmp.dir, name);
      const env: Record<string, string> = { SEALPOST_MASTER_KEY: masterKey, SEALPOST_RELAY: sink.relayUrl };
      if (kind === 'postgres') {
        const db = await freshPg();
        drops.push(db.drop);
        env.DATABASE_URL = db.url;
      }
      return { dataDir, env };
    }

    it('restores into an empty database: the pickup opens with its code, queued mail is delivered', async () => {
      const a = await place('a');
      const aEnv = sealpostEnv(a.dataDir, { ...a.env, SEALPOST_LOG_LEVEL: 'warn' });
      assert.equal((await cli(aEnv, ['user', 'add', SENDER], `${SENDER_PASSWORD}\n`)).code, 0);
      assert.equal((await cli(aEnv, ['key', 'generate', SENDER])).code, 0);
      assert.equal((await cli(aEnv, ['policy', 'set', 'klinik.example', 'plain'])).code, 0);
      // Gateway and webmail only: what they accept stays queued in the database.
      const first = await startSealpostProcess(
        {
          dataDir: a.dataDir,
          services: ['gateway', 'webmail'],
          env: a.env,
        },
        'SYS_WEBMAIL_LISTENING',
        240_000,
      );
      procs.push(first);
      const smtp = await BenchClient.connect(
        first.port('SYS_GATEWAY_LISTENING', 'gateway'),
        SENDER,
        SENDER_PASSWORD,
      );
      await smtp.send(SENDER, CONTACT, message(CONTACT, 'Befund'));
      await smtp.send(SENDER, COLLEAGUE, message(COLLEAGUE, 'Arztbrief'));
      smtp.close();

      const file = path.join(tmp.dir, `sealpost-${kind}.backup`);
      const made = await cli(aEnv, ['backup', file]);
      assert.equal(made.code, 0, made.out);
      assert.match(made.out, /master key/);
      assert.equal((await cli(aEnv, ['backup', file])).code, 65, 'an existing file is never overwritten');
      await first.terminate();

      const b = await place('b');
      const bEnv = sealpostEnv(b.dataDir, b.env);
      const restored = await cli(bEnv, ['restore', file]);
      assert.equal(restored.code, 0, restored.out);
      assert.equal((await cli(bEnv, ['restore', file])).code, 65, 'never over a database with tables');
      if (kind === 'sqlite') assert.ok(existsSync(path.join(b.dataDir, 'sealpost.db')));

      // Everything on B: a new data folder (so a new Redis, empty) and the same master key.
      const second = await startSealpostProcess({ dataDir: b.dataDir, env: b.env }, 'SYS_STARTED', 240_000);
      procs.push(second);
      const web = `http://127.0.0.1:${second.port('SYS_WEBMAIL_LISTENING')}`;
      const mails = await sink.waitFor(3, 60_000); // notification, receipt, the colleague's plain mail
      assert.ok(
        mails.some((m) => m.to[0] === COLLEAGUE && m.raw.includes('Arztbrief')),
        'queued mail delivered',
      );
      const notification = mails.find((m) => m.to[0] === CONTACT);
      assert.ok(notification, 'the pickup notification');
      const id = await linkId(notification.raw);
      const u = await unlock(web, id, await consoleCode(web, CONTACT));
      const read = await readMessage(web, u, id);
      assert.equal(read.parsed.subject, 'Befund');
      assert.ok(read.verified);
    });
  });
}
