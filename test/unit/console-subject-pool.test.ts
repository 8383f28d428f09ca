import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { encryptToConsoleKey } from '../../keys/console-codes.ts';
import { generateKeyPair } from '../../keys/openpgp/index.ts';
import { testCryptoPool } from '../helpers/crypto-pool.ts';

/**
 * A sent message's subject is encrypted to her console key in a crypto pool thread (issue 17: a millisecond
 * of OpenPGP per message off the event loop). Whether it ran in the pool or in this thread, what comes back
 * is an OpenPGP message that her console key, and only it, opens to the subject as she wrote it.
 */
describe('keys/console-codes: a subject encrypted to the console key in the crypto pool', () => {
  const now = new Date();

  it('runs in a pool thread and opens with the console key to the same text as the in-thread one', async () => {
    const consoleKey = await generateKeyPair({ address: 'anna@praxis.example', now });
    const other = await generateKeyPair({ address: 'bob@praxis.example', now });
    const row = {
      user_id: 'u1',
      fingerprint: consoleKey.fingerprint,
      public_key: consoleKey.publicKey,
      locked_private_key: Buffer.alloc(0),
      kdf: '{}',
      created_at: now.getTime(),
    };
    const subject = 'Befund Müller — Kontrolle in 2 Wochen';
    const pool = testCryptoPool();
    const before = pool.completed;
    const pooled = await encryptToConsoleKey(row, subject, now, pool);
    assert.equal(pool.completed, before + 1, 'the work ran in the pool');
    const inThread = await encryptToConsoleKey(row, subject, now);
    const open = async (binary: Uint8Array, armoredKey: string) => {
      const decryptionKeys = await openpgp.readPrivateKey({ armoredKey });
      const message = await openpgp.readMessage({ binaryMessage: binary });
      const { data } = await openpgp.decrypt({ message, decryptionKeys, format: 'binary' });
      return Buffer.from(data).toString('utf8');
    };
    assert.equal(await open(pooled, consoleKey.privateKey), subject);
    assert.equal(await open(inThread, consoleKey.privateKey), subject);
    await assert.rejects(open(pooled, other.privateKey), 'another key does not open it');
    assert.ok(!Buffer.from(pooled).includes(Buffer.from('Befund')), 'no plaintext in the output');
  });
});
