import assert from 'node:assert/strict';
import { CODE_KDF as SERVER_CODE_KDF, DEFAULT_KDF, newKdf } from '../../keys/access-code.ts';
import {
  CODE_KDF,
  KDF_MINIMUM,
  kdfSchema,
  metaAnswer,
  secretRequest,
  storedKdfSchema,
} from '../../webmail/contract/pickup.ts';

/**
 * The pickup API's contract (webmail/contract/pickup.ts) is the one KDF schema of server and app: what the
 * server issues passes it, nothing weaker does, and its minimums are the server's derivation parameters.
 */
describe('pickup API contract', () => {
  it('asks for at least the parameters the server derives new codes with', () => {
    assert.deepEqual({ ...KDF_MINIMUM }, { ...DEFAULT_KDF });
    assert.deepEqual({ ...CODE_KDF }, { ...SERVER_CODE_KDF });
  });

  it("derives an issued code with one pass and a person's secret with three, both 64 MiB (issue 17)", () => {
    const code = newKdf('code');
    const passphrase = newKdf('passphrase');
    assert.equal(code.iterations, 1);
    assert.equal(passphrase.iterations, 3);
    assert.equal(code.memoryKiB, 65536);
    assert.equal(passphrase.memoryKiB, 65536);
    assert.deepEqual(newKdf().iterations, 3); // the stronger setting unless the secret is known to be a code
    // A code's cost is stored and read back; an upload (a chosen passphrase) may not use it.
    assert.ok(storedKdfSchema.safeParse(code).success);
    assert.ok(storedKdfSchema.safeParse(passphrase).success); // contacts stored before: t=3 keeps working
    assert.ok(!kdfSchema.safeParse(code).success);
    assert.ok(!storedKdfSchema.safeParse({ ...code, iterations: 0 }).success);
    assert.ok(!storedKdfSchema.safeParse({ ...code, memoryKiB: 32768 }).success);
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
    const code = { ...answer, contact: { ...answer.contact, kdf: newKdf('code') } };
    assert.ok(metaAnswer.safeParse(code).success);
    // The app never derives a passphrase with a code's cost, whatever a server sends.
    assert.ok(
      !metaAnswer.safeParse({ ...code, contact: { ...code.contact, secretKind: 'passphrase' } }).success,
    );
  });
});
