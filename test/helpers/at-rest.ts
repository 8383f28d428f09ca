import assert from 'node:assert/strict';
import { decryptAndVerify, parseSigningKey, type SigningKey } from '../../keys/openpgp/index.ts';
import { dbContains } from './gateway.ts';
import { startPrivateRedis } from './redis.ts';
import { redisContents } from './redis-scan.ts';
import { startStack, type Stack } from './stack.ts';
import type { TestDbKind } from './db.ts';

/**
 * What the at-rest security tests share (invariants 2, 4 and 6): a stack on a Redis of its own (so that a
 * scan of Redis sees this test's keys only), the scan of every place a secret could rest, and "everything
 * the server has" — each private key it holds — tried on a ciphertext.
 */

/** A fresh stack on a private Redis for each test of the suite; the getter returns the current one. */
export function privateRedisStack(kind: TestDbKind): () => Stack {
  let stack: Stack | undefined;
  let cleanupRedis: (() => Promise<void>) | undefined;
  beforeEach(async () => {
    const priv = await startPrivateRedis(false);
    cleanupRedis = priv.cleanup;
    stack = await startStack({ kind, redis: { socketPath: priv.redis.socketPath } });
  });
  afterEach(async () => {
    await stack?.close();
    await cleanupRedis?.();
  });
  return () => {
    if (!stack) throw new Error('no stack outside a test');
    return stack;
  };
}

/** No database row (file and WAL included), Redis key or log line holds any of the secrets. */
export async function assertNowhereAtRest(stack: Stack, secrets: readonly string[]): Promise<void> {
  const redis = await redisContents(stack.redis);
  const logs = stack.gw.logText();
  for (const secret of secrets) {
    assert.equal(await dbContains(stack.gw.testDb, secret), false, `database holds ${secret}`);
    assert.ok(!redis.includes(Buffer.from(secret)), `Redis holds ${secret}`);
    assert.ok(!logs.includes(secret), `logs hold ${secret}`);
  }
}

/** Every private key the server holds (the sender keys, unsealed with the master key). */
async function serverPrivateKeys(stack: Stack): Promise<SigningKey[]> {
  const keys: SigningKey[] = [];
  const rows = await stack.gw.testDb.db.kysely.selectFrom('sender_keys').selectAll().execute();
  for (const k of rows) {
    const armored = stack.gw.deps.sealer.open('sender-private-key', k.sealed_private_key, k.fingerprint);
    keys.push(await parseSigningKey(armored.toString('utf8')));
  }
  assert.ok(keys.length > 0, 'the server holds at least one private key');
  return keys;
}

/** With every private key the server holds, the (unsealed) ciphertext does not decrypt. */
export async function assertServerKeysCannotOpen(stack: Stack, ciphertext: Uint8Array): Promise<void> {
  for (const key of await serverPrivateKeys(stack)) {
    await assert.rejects(
      decryptAndVerify({ armored: ciphertext, decryptionKey: key, verificationKeys: [], now: new Date() }),
      'a key the server holds opens it',
    );
  }
}
