import assert from 'node:assert/strict';
import path from 'node:path';
import Database from 'better-sqlite3';
import { sealpostCli } from '../helpers/cli.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * `sealpost key export --secret` writes the private sender key only locked with a passphrase: an empty
 * passphrase (an empty line, or no input at all) and two that differ are refused with a code and exit
 * code 65, and nothing resembling a key reaches stdout or stderr. The control: the same command with a
 * passphrase given twice writes a locked key.
 */
const ANNA = 'anna@praxis.example';
const KEY_MATERIAL = /BEGIN PGP|PRIVATE KEY/;

describe('security: the secret-key export refuses an empty passphrase', function () {
  this.timeout(120_000);
  const tmp = tmpDir('sealpost-secret-');
  before(async () => {
    assert.equal((await sealpostCli(tmp.dir, ['user', 'add', ANNA], 'a-long-password\n')).code, 0);
    assert.equal((await sealpostCli(tmp.dir, ['key', 'generate', ANNA])).code, 0);
  });
  after(() => tmp.cleanup());

  for (const [name, input] of [
    ['two empty lines', '\n\n'],
    ['no input at all', ''],
    ['an empty first line', '\nsecret\n'],
  ] as const) {
    it(`refuses ${name}: CLI_PASSPHRASE_EMPTY, exit 65, no key`, async () => {
      const r = await sealpostCli(tmp.dir, ['key', 'export', '--secret', ANNA], input);
      assert.equal(r.code, 65, r.stderr);
      assert.match(r.stderr, /CLI_PASSPHRASE_EMPTY/);
      assert.equal(r.stdout, '');
      assert.doesNotMatch(r.stderr, KEY_MATERIAL);
    });
  }

  it('refuses two passphrases that differ: CLI_PASSPHRASE_MISMATCH, exit 65, no key', async () => {
    const r = await sealpostCli(
      tmp.dir,
      ['key', 'export', '--secret', ANNA],
      'correct horse\ncorrect hors\n',
    );
    assert.equal(r.code, 65, r.stderr);
    assert.match(r.stderr, /CLI_PASSPHRASE_MISMATCH/);
    assert.equal(r.stdout, '');
    assert.doesNotMatch(r.stderr, KEY_MATERIAL);
  });

  it('the control: a passphrase given twice writes a locked private key and an audit line, no key in logs', async () => {
    const r = await sealpostCli(
      tmp.dir,
      ['key', 'export', '--secret', ANNA],
      'correct horse\ncorrect horse\n',
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^-----BEGIN PGP PRIVATE KEY BLOCK-----\r?\n/);
    assert.match(r.stderr, /KEY_SECRET_EXPORTED/);
    assert.doesNotMatch(r.stderr, KEY_MATERIAL);
    assert.doesNotMatch(r.stderr, /correct horse/);
    const db = new Database(path.join(tmp.dir, 'sealpost.db'), { readonly: true });
    try {
      const rows = db.prepare("SELECT * FROM audit WHERE action = 'key.export-secret'").all() as Record<
        string,
        unknown
      >[];
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.subject, ANNA);
      assert.match(String(rows[0]!.detail), /^[0-9A-F]{40}$/, 'the fingerprint, nothing of the key');
    } finally {
      db.close();
    }
  });
});
