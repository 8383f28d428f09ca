import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { inThreadSignEncrypt, pooledOpenInbound, pooledSignEncrypt } from '../../keys/index.ts';
import {
  decryptAndVerify,
  generateKeyPair,
  parseEncryptionKey,
  parseSigningKey,
  STREAM_THRESHOLD,
} from '../../keys/openpgp/index.ts';
import { testCryptoPool } from '../helpers/crypto-pool.ts';

/**
 * keys/sign-encrypt.ts (issue 17): a copy signed and encrypted in a crypto pool thread is the same kind of
 * OpenPGP message as one made in this thread: the recipient decrypts it and the signature verifies, armored
 * (PGP/MIME) and binary (a pickup), and the keys cross the thread boundary as bytes without losing what
 * makes them keys (a locked signer is refused).
 */
describe('keys/sign-encrypt: OpenPGP in the crypto pool', () => {
  const now = new Date();
  let keys: Awaited<ReturnType<typeof material>>;
  async function material() {
    const sender = await generateKeyPair({ address: 'anna@praxis.example', now });
    const recipient = await generateKeyPair({ address: 'dr.weber@klinik.example', now });
    return {
      signer: await parseSigningKey(sender.privateKey),
      senderPublic: await parseEncryptionKey(sender.publicKey),
      recipient: await parseEncryptionKey(recipient.publicKey),
      recipientPrivate: await parseSigningKey(recipient.privateKey),
    };
  }
  before(async () => {
    keys = await material();
  });

  async function opened(chunks: Buffer[], armored: boolean) {
    const joined = Buffer.concat(chunks);
    return decryptAndVerify({
      armored: armored ? joined.toString('latin1') : joined,
      decryptionKey: keys.recipientPrivate,
      verificationKeys: [keys.senderPublic],
      now,
    });
  }

  for (const format of ['armored-crlf', 'binary'] as const) {
    it(`${format}: runs in a pool thread, decrypts and verifies byte for byte`, async () => {
      const pool = testCryptoPool();
      const signEncrypt = pooledSignEncrypt(pool);
      const data = randomBytes(50 * 1024);
      const parts = [data.subarray(0, 1000), data.subarray(1000)];
      const before = pool.completed;
      const out = await signEncrypt({ parts, to: [keys.recipient], signer: keys.signer, now }, format);
      assert.equal(pool.completed, before + 1, 'the work ran in the pool');
      assert.ok(data.subarray(0, 1000).length === 1000, 'the caller still holds its parts');
      const text = Buffer.concat(out).toString('latin1');
      if (format === 'armored-crlf') {
        assert.match(text, /^-----BEGIN PGP MESSAGE-----\r\n/);
        assert.ok(!/[^\r]\n/.test(text), 'CRLF line ends only');
      }
      const result = await opened(out, format === 'armored-crlf');
      assert.ok(Buffer.from(result.data).equals(data));
      assert.equal(result.verified, true);
    });
  }

  it('keeps a message above the streaming threshold in this thread (never held twice)', async () => {
    const pool = testCryptoPool();
    const data = randomBytes(STREAM_THRESHOLD + 1);
    const before = pool.completed;
    const out = await pooledSignEncrypt(pool)(
      { parts: [data], to: [keys.recipient], signer: keys.signer, now },
      'binary',
    );
    assert.equal(pool.completed, before);
    assert.ok(Buffer.from((await opened(out, false)).data).equals(data));
  });

  it('fails closed: no keys, or a signer that is not one, is an error and no output', async () => {
    const signEncrypt = pooledSignEncrypt(testCryptoPool());
    const input = { parts: [Buffer.from('x')], to: [], signer: keys.signer, now };
    await assert.rejects(signEncrypt(input, 'armored-crlf'), /no encryption keys/);
    const notASigner = { ...keys.signer, key: keys.recipient.key as unknown as typeof keys.signer.key };
    await assert.rejects(signEncrypt({ ...input, to: [keys.recipient], signer: notASigner }, 'armored-crlf'));
    assert.equal(inThreadSignEncrypt, pooledSignEncrypt({ ...testCryptoPool(), threads: 0 }));
  });

  it('decrypts and verifies an inbound message in a pool thread, with the same verdicts', async () => {
    const pool = testCryptoPool();
    const data = randomBytes(20 * 1024);
    const armored = Buffer.concat(
      await pooledSignEncrypt(pool)(
        { parts: [data], to: [keys.recipient], signer: keys.signer, now },
        'armored-crlf',
      ),
    ).toString('latin1');
    const open = pooledOpenInbound(pool);
    const input = {
      armored,
      decryptionKeys: [keys.recipientPrivate],
      verificationKeys: [keys.senderPublic],
      now,
      maxDecompressedBytes: 1024 * 1024,
    };
    const before = pool.completed;
    const result = await open(input);
    assert.equal(pool.completed, before + 1);
    assert.ok(result.ok);
    assert.ok(Buffer.from(result.data).equals(data));
    assert.deepEqual(result.signature, { state: 'valid', fingerprint: keys.senderPublic.fingerprint });
    assert.deepEqual(result.forKeys, [keys.recipientPrivate.fingerprint]);
    // Without the sender's key the signature is not called valid; to another key it is not for us.
    const unknown = await open({ ...input, verificationKeys: [] });
    assert.ok(unknown.ok && unknown.signature.state === 'unknown-key');
    const notOurs = await open({ ...input, decryptionKeys: [keys.signer] });
    assert.deepEqual(notOurs, { ok: false, problem: 'not-for-us' });
  });
});
