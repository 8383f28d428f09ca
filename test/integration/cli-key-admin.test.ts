import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import { generateKeyPair } from '../../keys/openpgp/index.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * `sealpost key generate|rotate|revoke|export|drop|pin` in a child process on a data folder of its own: the
 * same key-store functions as the admin console (docs/admin-console.md), printed for a person.
 */
const ANNA = 'anna@praxis.example';
const KARL = 'karl@kanzlei.example';
const FPR = /[0-9A-F]{40}/g;

describe('cli: sealpost key rotate, revoke, pin, drop', function () {
  this.timeout(180_000);
  const tmp = tmpDir('sealpost-cli-keys-');
  after(() => tmp.cleanup());

  it('rotates, revokes (export then carries the revocation), drops a pinned key; refuses what does not fit', async () => {
    const dir = tmp.dir;
    const run = (...args: string[]) => sealpostCli(dir, args);
    const early = await run('key', 'rotate', ANNA);
    assert.notEqual(early.code, 0);
    assert.match(early.stderr, /no active sender key/);
    const generated = await run('key', 'generate', ANNA);
    assert.equal(generated.code, 0, generated.stderr);
    const [first] = generated.stdout.match(FPR)!;
    const rotated = await run('key', 'rotate', ANNA);
    assert.equal(rotated.code, 0, rotated.stderr);
    const [second, kept] = rotated.stdout.match(FPR)!;
    assert.equal(kept, first, 'the earlier key is kept');
    assert.notEqual(second, first);

    const revoked = await run('key', 'revoke', ANNA);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.match(revoked.stdout, new RegExp(`revoked sender key ${second}`));
    const exported = await run('key', 'export', ANNA);
    assert.equal(exported.code, 0, exported.stderr);
    const key = await openpgp.readKey({ armoredKey: exported.stdout });
    assert.equal(key.getFingerprint().toUpperCase(), second);
    assert.ok(await key.isRevoked(), 'exported with its revocation');
    const again = await run('key', 'revoke', second!);
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /already revoked/);
    const bad = await run('key', 'revoke', 'not-a-key');
    assert.notEqual(bad.code, 0);

    // A pinned recipient key: pin again is refused, drop stops using it, an import brings it back.
    const karl = await generateKeyPair({ address: KARL, now: new Date() });
    const file = path.join(dir, 'karl.asc');
    writeFileSync(file, karl.publicKey);
    assert.equal((await run('key', 'import', file)).code, 0);
    const pinAgain = await run('key', 'pin', KARL, karl.fingerprint);
    assert.notEqual(pinAgain.code, 0);
    assert.match(pinAgain.stderr, /already pinned/);
    const dropped = await run('key', 'drop', KARL, karl.fingerprint);
    assert.equal(dropped.code, 0, dropped.stderr);
    const list = await run('key', 'list');
    assert.match(list.stdout, new RegExp(`sender\\s+${ANNA}\\s+${second}\\s+generated\\s+revoked`));
    assert.match(list.stdout, new RegExp(`sender\\s+${ANNA}\\s+${first}\\s+generated\\s+retired`));
    assert.match(list.stdout, new RegExp(`recipient\\s+${KARL}\\s+${karl.fingerprint}\\s+admin\\s+dropped`));
    assert.notEqual((await run('key', 'drop', KARL, karl.fingerprint)).code, 0);
  });
});
