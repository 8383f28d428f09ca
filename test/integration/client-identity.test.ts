import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { dkimVerify } from 'mailauth';
import { simpleParser } from 'mailparser';
import nodemailer from 'nodemailer';
import { dkimDomain, dkimResolver } from '../helpers/dkim.ts';
import { sealpostEnv, startSealpostProcess, type SealpostProcess } from '../helpers/sealpost-process.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * What a client of the practice receives after a plain install (issue 15 "Identity"), with the real
 * `sealpost` commands in child processes: `user add --name` and `key generate` give a sender key whose User
 * ID gpg shows as `Name <address>`; `sealpost start` with SEALPOST_PUBLIC_URL and no SEALPOST_HOSTNAME
 * says which names it uses, and its notification names neither localhost nor 127.0.0.1, comes From
 * noreply@ of the practice domain with Reply-To the practitioner, carries the security word and the two
 * sentences, and is DKIM-signed with the configured key, as the receipt is (checked with mailauth).
 */
const ANNA = 'anna@praxis.example';
const MAX = 'max@example.org';
const NAME = 'Praxis Dr. Anna Berg';
const PASSWORD = 'a-long-password';
const PUBLIC_URL = 'http://post.praxis.example:8443';

function run(
  cmd: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  input = '',
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input);
  });
}

describe('client identity: names, notification and DKIM after a plain install', function () {
  this.timeout(180_000);
  const tmp = tmpDir('sealpost-identity-');
  let sink: Sink;
  let sp: SealpostProcess | undefined;
  const dkim = dkimDomain('praxis.example', 'sp2026');

  before(async () => {
    sink = await startSink();
  });
  after(async () => {
    await sp?.terminate().catch(() => sp?.kill());
    await sink?.close();
    tmp.cleanup();
  });

  it('user add --name names the sender key; gpg shows it', async () => {
    const env = sealpostEnv(tmp.dir, { SEALPOST_LOG_LEVEL: 'warn' });
    const cli = (args: string[], input?: string) =>
      run(process.execPath, ['bin/sealpost.mjs', ...args], env, input);
    const added = await cli(['user', 'add', ANNA, '--name', NAME], `${PASSWORD}\n`);
    assert.equal(added.code, 0, added.stderr);
    const generated = await cli(['key', 'generate', ANNA]);
    assert.equal(generated.code, 0, generated.stderr);
    const exported = await cli(['key', 'export', ANNA]);
    assert.equal(exported.code, 0, exported.stderr);
    const home = path.join(tmp.dir, 'gnupg');
    mkdirSync(home, { mode: 0o700 });
    const gpg = await run(
      'gpg',
      ['--batch', '--with-colons', '--show-keys'],
      { PATH: process.env.PATH, GNUPGHOME: home, LC_ALL: 'C' },
      exported.stdout,
    );
    assert.equal(gpg.code, 0, gpg.stderr);
    const uids = gpg.stdout
      .split('\n')
      .filter((l) => l.startsWith('uid:'))
      .map((l) => l.split(':')[9]);
    assert.deepEqual(uids, [`${NAME} <${ANNA}>`]);
  });

  it('start names hostname and public URL; the notification and receipt are the practice’s, signed', async () => {
    const keyFile = path.join(tmp.dir, 'dkim.pem');
    writeFileSync(keyFile, dkim.privateKey, { mode: 0o600 });
    sp = await startSealpostProcess(
      {
        dataDir: tmp.dir,
        env: {
          SEALPOST_HOSTNAME: '', // unset: the host of the public URL
          SEALPOST_PUBLIC_URL: PUBLIC_URL,
          SEALPOST_RELAY: sink.relayUrl,
          SEALPOST_PRACTICE_NAME: 'Praxis Berg',
          SEALPOST_PRACTICE_ADDRESS: 'Lindenstraße 5, 50674 Köln',
          SEALPOST_PRACTICE_PHONE: '+49 221 123456',
          SEALPOST_IMPRINT_URL: 'https://praxis.example/impressum',
          SEALPOST_PRIVACY_URL: 'https://praxis.example/datenschutz',
          SEALPOST_SECURITY_WORD: 'Sonnenblume',
          SEALPOST_DKIM_SELECTOR: dkim.selector,
          SEALPOST_DKIM_KEY_FILE: keyFile,
        },
      },
      'SYS_STARTED',
    );
    assert.match(
      sp.output(),
      /hostname post\.praxis\.example, public URL http:\/\/post\.praxis\.example:8443/,
    );
    assert.doesNotMatch(sp.output(), /warning: the hostname or public URL is localhost/);

    const practice = await fetch(`http://127.0.0.1:${sp.port('SYS_WEBMAIL_LISTENING')}/api/pickup/practice`);
    assert.deepEqual(await practice.json(), {
      name: 'Praxis Berg',
      address: 'Lindenstraße 5, 50674 Köln',
      phone: '+49 221 123456',
      imprintUrl: 'https://praxis.example/impressum',
      privacyUrl: 'https://praxis.example/datenschutz',
      securityWord: 'Sonnenblume',
    });

    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: sp.port('SYS_GATEWAY_LISTENING', 'gateway'),
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: ANNA, pass: PASSWORD },
    });
    await transport.sendMail({ from: ANNA, to: MAX, subject: 'Befund', text: 'Hallo Max' });
    transport.close();
    const msgs = await sink.waitFor(2);
    const notification = msgs.find((m) => m.to[0] === MAX)!;
    const receipt = msgs.find((m) => m.to[0] === ANNA)!;
    assert.ok(notification && receipt);

    const raw = notification.raw.toString('latin1');
    const parsed = await simpleParser(notification.raw);
    const text = parsed.text ?? '';
    for (const local of ['localhost', '127.0.0.1']) {
      assert.ok(!raw.includes(local) && !text.includes(local), `the notification names ${local}`);
    }
    assert.match(text, /http:\/\/post\.praxis\.example:8443\/p\/[A-Za-z0-9_-]{22}/);
    assert.match(parsed.messageId ?? '', /@post\.praxis\.example>$/);
    assert.equal(parsed.from?.value[0]?.address, 'noreply@praxis.example');
    assert.equal(parsed.from?.value[0]?.name, NAME);
    assert.equal(parsed.replyTo?.value[0]?.address, ANNA);
    assert.match(text, /Sicherheitswort der Praxis: Sonnenblume/);
    assert.match(text, /hat Ihnen eine vertrauliche Nachricht geschickt/);
    assert.match(text, /Der Code kommt nie per E-Mail/);
    assert.match(text, /Lindenstraße 5, 50674 Köln/);

    for (const m of [notification, receipt]) {
      const result = await dkimVerify(m.raw, { resolver: dkimResolver([dkim]) as never });
      const sig = result.results[0];
      assert.equal(sig?.status.result, 'pass', JSON.stringify(sig?.status));
      assert.equal(sig?.signingDomain, 'praxis.example');
      assert.equal(sig?.selector, dkim.selector);
    }
  });

  it('warns on start when the public URL is localhost', async () => {
    const dir = path.join(tmp.dir, 'local');
    mkdirSync(dir);
    const child = spawn(process.execPath, ['bin/sealpost.mjs', 'config', 'show'], {
      env: sealpostEnv(dir, { SEALPOST_HOSTNAME: '' }),
    });
    child.stdin?.end();
    let out = '';
    child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
    await new Promise((resolve) => child.on('close', resolve));
    assert.match(out, /"hostname": "localhost"/);
    const local = await startSealpostProcess({ dataDir: dir, env: { SEALPOST_HOSTNAME: '' } }, 'SYS_STARTED');
    try {
      assert.match(local.output(), /hostname localhost, public URL http:\/\/localhost:8080/);
      assert.match(local.output(), /warning: the hostname or public URL is localhost/);
      assert.ok(local.lines().some((l) => l.code === 'CFG_LOCALHOST'));
    } finally {
      await local.terminate();
    }
  });

  it('refuses to start with a DKIM key file it cannot use (rather than answer 451 later)', async () => {
    const dir = path.join(tmp.dir, 'badkey');
    mkdirSync(dir);
    const bad = path.join(dir, 'dkim.pem');
    writeFileSync(bad, 'not a key');
    const child = spawn(process.execPath, ['bin/sealpost.mjs', 'start'], {
      env: sealpostEnv(dir, { SEALPOST_DKIM_SELECTOR: 'sp2026', SEALPOST_DKIM_KEY_FILE: bad }),
    });
    let err = '';
    child.stderr?.on('data', (d: Buffer) => (err += d.toString()));
    const [code] = (await once(child, 'close')) as [number];
    assert.notEqual(code, 0);
    assert.match(err, /cannot start: SEALPOST_DKIM_KEY_FILE/);
  });
});
