import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Explanation } from '../../keys/index.ts';
import { generateKeyPair } from '../../keys/openpgp/index.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * `sealpost explain` and `sealpost key changes|approve|reject` as an admin runs them: the real command in
 * a child process, on a fresh SQLite data folder (discovery off: no network in tests).
 */
function sealpost(
  dataDir: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/sealpost.mjs', ...args],
      {
        env: {
          PATH: process.env.PATH,
          SEALPOST_DATA_DIR: dataDir,
          SEALPOST_DISCOVERY: 'off',
          SEALPOST_LOG_LEVEL: 'warn',
        },
        timeout: 60_000,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}

describe('cli: sealpost explain and key changes', function () {
  this.timeout(120_000);
  const tmp = tmpDir('sealpost-cli-');
  after(() => tmp.cleanup());

  it('explains per recipient (key, source, rule, reply) without sending; refuses bad input with usage', async () => {
    const dir = tmp.dir;
    assert.equal((await sealpost(dir, ['user', 'add', 'anna@praxis.example'], 'a-long-password\n')).code, 0);
    assert.equal((await sealpost(dir, ['key', 'generate', 'anna@praxis.example'])).code, 0);
    const colleague = await generateKeyPair({ address: 'dr.weber@klinik.example', now: new Date() });
    const file = path.join(dir, 'colleague.asc');
    writeFileSync(file, colleague.publicKey);
    assert.equal((await sealpost(dir, ['key', 'import', file])).code, 0);
    assert.equal((await sealpost(dir, ['policy', 'set', 'praxis.example', 'plain'])).code, 0);
    assert.equal((await sealpost(dir, ['policy', 'set', 'spam.example', 'reject'])).code, 0);

    const text = await sealpost(dir, [
      'explain',
      '--from',
      'anna@praxis.example',
      '--to',
      'Dr.Weber@Klinik.example',
      '--to',
      'kollegin@praxis.example',
      '--to',
      'x@spam.example',
      '--to',
      'client@example.org',
    ]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /dr\.weber@klinik\.example: PGP — 250 2\.0\.0/);
    assert.match(text.stdout, new RegExp(`key: +${colleague.fingerprint} \\(usable, from admin\\)`));
    assert.match(text.stdout, /kollegin@praxis\.example: PLAIN/);
    assert.match(text.stdout, /x@spam\.example: REJECT — 550 5\.7\.1 \[GW_POLICY_REJECT\]/);
    assert.match(text.stdout, /client@example\.org: PICKUP/);

    const json = await sealpost(dir, [
      'explain',
      '--json',
      '--from',
      'anna@praxis.example',
      '--to',
      'client@example.org',
    ]);
    const answer = JSON.parse(json.stdout) as Explanation;
    assert.equal(answer.recipients[0]?.verdict, 'pickup');
    assert.equal(answer.recipients[0]?.discovery, 'off');
    assert.equal(answer.senderKey !== null, true);

    const noSender = await sealpost(dir, [
      'explain',
      '--json',
      '--from',
      'bob@praxis.example',
      '--to',
      'client@example.org',
    ]);
    assert.equal((JSON.parse(noSender.stdout) as Explanation).blocked?.code, 'GW_NO_SENDER_KEY');

    const bad = await sealpost(dir, ['explain', '--from', 'anna@praxis.example', '--to', 'not-an-address']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--to: expected an e-mail address/);
    const none = await sealpost(dir, ['explain', '--from', 'anna@praxis.example']);
    assert.equal(none.code, 2);
  });

  it('lists key changes and refuses to decide an unknown one', async () => {
    const dir = tmp.dir;
    const list = await sealpost(dir, ['key', 'changes']);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /no key changes wait for a decision/);
    const unknown = await sealpost(dir, ['key', 'approve', '6f1c7c3e-0d7b-4b8e-9a55-2b9f0c1d2e3f']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /no such key change/);
    const malformed = await sealpost(dir, ['key', 'reject', 'nope']);
    assert.equal(malformed.code, 2);
  });
});
