import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  deriveKeys as serverDerive,
  lockPrivateKey as serverLock,
  unlockPrivateKey as serverUnlock,
} from '../../keys/access-code.ts';
import { deriveKeys } from '../../webmail/pickup/src/lib/kdf.ts';
import { lockPrivateKey, unlockPrivateKey } from '../../webmail/pickup/src/lib/lock.ts';

/**
 * The app's key derivation and locked-key format (WebCrypto AES-256-GCM) against the server's
 * (node:crypto), both ways: docs/pickup.md is one format, whoever wrote it.
 */
describe('pickup app: Argon2id and the locked private key', () => {
  it('derives the reference vector of the argon2 CLI (as the server does)', async () => {
    const salt = Buffer.from('sealpost-vector!');
    const kdf = {
      alg: 'argon2id' as const,
      salt: salt.toString('base64'),
      memoryKiB: 65536,
      iterations: 3,
      parallelism: 1,
    };
    const keys = await deriveKeys('7F3KQ9XD2M', kdf, salt);
    // echo -n 7F3KQ9XD2M | argon2 'sealpost-vector!' -id -t 3 -k 65536 -p 1 -l 64 -r
    assert.equal(
      Buffer.concat([keys.authKey, keys.lockKey]).toString('hex'),
      '79f8a614da6c7fcba81a16b5a039eba07c621f6bc23f93d3411c7013986971fa' +
        '5c1e5b6d9a560f1359c59d61031525a3c44bd0f99025bb96fd92af667452bbe8',
    );
    const server = await serverDerive('Blaue Wolken über Köln', kdf);
    const app = await deriveKeys('Blaue Wolken u\u0308ber Ko\u0308ln', kdf, salt);
    assert.ok(server.lockKey.equals(app.lockKey), 'a passphrase is NFC on both sides');
  });

  it('opens what the server locked, and the server opens what the app locked', async () => {
    const key = randomBytes(420);
    const lockKey = randomBytes(32);
    const byServer = serverLock(key, lockKey, 'c-1');
    assert.ok(Buffer.from(await unlockPrivateKey(byServer, lockKey, 'c-1')).equals(key));
    const byApp = await lockPrivateKey(key, lockKey, 'c-1');
    assert.equal(byApp.length, 12 + 420 + 16, 'iv ‖ ciphertext ‖ tag');
    assert.ok(serverUnlock(byApp, lockKey, 'c-1').equals(key));
    const again = await lockPrivateKey(key, lockKey, 'c-1');
    assert.ok(!Buffer.from(again.subarray(0, 12)).equals(Buffer.from(byApp.subarray(0, 12))), 'a fresh IV');
  });

  it('refuses a wrong key, another contact, a changed byte, a short blob', async () => {
    const key = randomBytes(300);
    const lockKey = randomBytes(32);
    const locked = await lockPrivateKey(key, lockKey, 'c-1');
    await assert.rejects(unlockPrivateKey(locked, randomBytes(32), 'c-1'));
    await assert.rejects(unlockPrivateKey(locked, lockKey, 'c-2'), 'bound to the contact id');
    for (const at of [0, 12, locked.length - 1]) {
      const bad = Uint8Array.from(locked);
      bad[at]! ^= 0x01;
      await assert.rejects(unlockPrivateKey(bad, lockKey, 'c-1'), `byte ${at}`);
    }
    await assert.rejects(unlockPrivateKey(locked.subarray(0, 20), lockKey, 'c-1'));
    await assert.rejects(lockPrivateKey(key, randomBytes(16), 'c-1'), 'AES-256 only');
  });
});
