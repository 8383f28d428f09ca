import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { wrapEncrypted } from '../../keys/index.ts';
import {
  encryptAndSign,
  generateKeyPair,
  parseEncryptionKey,
  parseSigningKey,
} from '../../keys/openpgp/index.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { extractArmoredPayload } from '../helpers/interop.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * `sealpost key export --secret ADDRESS` as the acceptance check uses it: the passphrase twice on a piped
 * stdin, the armored private key on stdout. GnuPG (a throw-away GNUPGHOME, no passphrase cache) imports it
 * and decrypts a PGP/MIME message sent to her only with that passphrase; a wrong one, or none, fails.
 */
const ANNA = 'anna@praxis.example';
const PASSPHRASE = 'Lindenblüte an der Mauer 7';
const TEXT = 'Befund für Anna, nur mit ihrer Passphrase lesbar';

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function gpg(home: string, args: string[], input?: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = execFile(
      'gpg',
      ['--batch', '--no-tty', '--pinentry-mode', 'loopback', '--status-fd', '1', ...args],
      { env: { PATH: process.env.PATH, GNUPGHOME: home, LC_ALL: 'C' }, timeout: 30_000 },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

/** A fresh GNUPGHOME whose agent caches no passphrase, with the exported key imported. */
async function gnupgHome(root: string, name: string, secretKey: string): Promise<string> {
  const home = path.join(root, name);
  mkdirSync(home, { mode: 0o700 });
  writeFileSync(path.join(home, 'gpg-agent.conf'), 'default-cache-ttl 0\nmax-cache-ttl 0\n');
  const imported = await gpg(home, ['--import'], secretKey);
  assert.equal(imported.code, 0, imported.stderr);
  assert.match(imported.stdout, /IMPORT_OK/);
  return home;
}

describe('cli: sealpost key export --secret, read by GnuPG', function () {
  this.timeout(120_000);
  const tmp = tmpDir('sealpost-secret-gpg-');
  const homes: string[] = [];
  after(async () => {
    for (const home of homes)
      await new Promise((r) =>
        execFile('gpgconf', ['--kill', 'all'], { env: { PATH: process.env.PATH, GNUPGHOME: home } }, r),
      );
    tmp.cleanup();
  });

  it('gpg decrypts a PGP/MIME message to her with the passphrase, and not without it', async () => {
    const data = path.join(tmp.dir, 'data');
    assert.equal((await sealpostCli(data, ['user', 'add', ANNA], 'a-long-password\n')).code, 0);
    assert.equal((await sealpostCli(data, ['key', 'generate', ANNA])).code, 0);
    const exported = await sealpostCli(
      data,
      ['key', 'export', '--secret', ANNA],
      `${PASSPHRASE}\n${PASSPHRASE}\n`,
    );
    assert.equal(exported.code, 0, exported.stderr);
    const secretKey = exported.stdout;
    assert.match(secretKey, /^-----BEGIN PGP PRIVATE KEY BLOCK-----/);
    await assert.rejects(parseSigningKey(secretKey), /locked with a passphrase/, 'not in clear');
    const publicKey = (await sealpostCli(data, ['key', 'export', ANNA])).stdout;

    // A colleague's PGP/MIME message to her sender key (what a reply without an inbound relay is).
    const pair = await generateKeyPair({ address: 'dr.weber@klinik.example', now: new Date() });
    const colleague = await parseSigningKey(pair.privateKey);
    const armored = await encryptAndSign({
      data: Buffer.from(`Content-Type: text/plain; charset=utf-8\r\n\r\n${TEXT}\r\n`, 'utf8'),
      to: [await parseEncryptionKey(publicKey)],
      signer: colleague,
      now: new Date(),
    });
    const mail = Buffer.concat(
      wrapEncrypted(
        [Buffer.from(`From: <dr.weber@klinik.example>\r\nTo: <${ANNA}>\r\nSubject: [...]\r\n`)],
        [Buffer.from(armored.replace(/\r?\n/g, '\r\n'), 'latin1')],
      ),
    );
    const messageFile = path.join(tmp.dir, 'message.asc');
    writeFileSync(messageFile, extractArmoredPayload(mail));

    const wrongHome = await gnupgHome(tmp.dir, 'wrong', secretKey);
    homes.push(wrongHome);
    for (const attempt of ['not the passphrase', '']) {
      const out = path.join(tmp.dir, `wrong-${attempt.length}.out`);
      const r = await gpg(wrongHome, ['--passphrase', attempt, '--output', out, '--decrypt', messageFile]);
      assert.notEqual(r.code, 0, `decrypted with "${attempt}":\n${r.stdout}`);
      assert.doesNotMatch(r.stdout, /DECRYPTION_OKAY/);
      assert.ok(!existsSync(out) || !readFileSync(out, 'utf8').includes(TEXT));
    }

    const rightHome = await gnupgHome(tmp.dir, 'right', secretKey);
    homes.push(rightHome);
    assert.equal((await gpg(rightHome, ['--import'], pair.publicKey)).code, 0);
    const out = path.join(tmp.dir, 'plain.out');
    const r = await gpg(rightHome, ['--passphrase', PASSPHRASE, '--output', out, '--decrypt', messageFile]);
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /DECRYPTION_OKAY/);
    assert.match(r.stdout, /GOODSIG/);
    assert.ok(readFileSync(out, 'utf8').includes(TEXT));
  });
});
