import assert from 'node:assert/strict';
import { DEFAULT_KDF, newKdf } from '../../keys/access-code.ts';
import { KDF_MINIMUM, kdfSchema, metaAnswer, secretRequest } from '../../webmail/contract/pickup.ts';

/**
 * The pickup API's contract (webmail/contract/pickup.ts) is the one KDF schema of server and app: what the
 * server issues passes it, nothing weaker does, and its minimums are the server's derivation parameters.
 */
describe('pickup API contract', () => {
  it('asks for at least the parameters the server derives new codes with', () => {
    assert.deepEqual({ ...KDF_MINIMUM }, { ...DEFAULT_KDF });
  });

  it('accepts the KDF of a new code and refuses weaker or malformed ones', () => {
    const kdf = newKdf();
    assert.ok(kdfSchema.safeParse(kdf).success);
    assert.ok(!kdfSchema.safeParse({ ...kdf, memoryKiB: DEFAULT_KDF.memoryKiB / 2 }).success);
    assert.ok(!kdfSchema.safeParse({ ...kdf, iterations: 1 }).success);
    assert.ok(!kdfSchema.safeParse({ ...kdf, salt: Buffer.alloc(8).toString('base64') }).success);
    assert.ok(!kdfSchema.safeParse({ ...kdf, extra: 1 }).success);
  });

  it('refuses a request with a field it does not know', () => {
    const secret = {
      secretKind: 'passphrase',
      kdf: newKdf(),
      authKey: Buffer.alloc(32).toString('base64'),
      lockedPrivateKey: Buffer.alloc(200).toString('base64'),
    };
    assert.ok(secretRequest.safeParse(secret).success);
    assert.ok(!secretRequest.safeParse({ ...secret, role: 'admin' }).success);
  });

  it('describes the metadata answer the app parses', () => {
    const answer = {
      id: 'A'.repeat(22),
      state: 'available',
      sender: { displayName: 'Praxis' },
      createdAt: new Date(0).toISOString(),
      expiresAt: new Date(0).toISOString(),
      contact: { secretKind: 'code', locked: false, kdf: newKdf() },
      readable: true,
    };
    assert.ok(metaAnswer.safeParse(answer).success);
    assert.ok(!metaAnswer.safeParse({ ...answer, contact: { ...answer.contact, secretKind: 'x' } }).success);
  });
});
