import assert from 'node:assert/strict';
import { decryptAndVerify, parseSigningKey, type SigningKey } from '../../keys/openpgp/index.ts';
import { consoleCodes, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { dbContains, SENDER } from '../helpers/gateway.ts';
import { startPrivateRedis } from '../helpers/redis.ts';
import { redisContents } from '../helpers/redis-scan.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Invariants 2 and 6 for the console (docs/console.md): an access code kept for the practitioner is in no
 * mail, no readable row (database file and WAL included), not in Redis and not in the logs; and with all
 * the server has — the master key, every private key it holds — it does not decrypt. Only her password
 * (through her console key) opens it.
 */
const MAX = 'max@example.org';

for (const kind of testDbKinds()) {
  describe(`security: console access codes unreadable at rest (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    let cleanupRedis: () => Promise<void>;
    beforeEach(async () => {
      const priv = await startPrivateRedis(false);
      cleanupRedis = priv.cleanup;
      stack = await startStack({ kind, redis: { socketPath: priv.redis.socketPath } });
    });
    afterEach(async () => {
      await stack.close();
      await cleanupRedis();
    });

    it('no mail, row, WAL, Redis key or log line holds the code; the master key does not open it', async () => {
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'S', text: 'T' });
      const msgs = await stack.sink.waitFor(2);
      const s = await consoleSignIn(stack.web);
      const [line] = await consoleCodes(s);
      assert.ok(line);
      const secrets = [line.code, line.code.replace(/-/g, '')];
      const redis = await redisContents(stack.redis);
      const logs = stack.gw.logText();
      for (const secret of secrets) {
        assert.ok(!msgs.some((m) => m.raw.includes(Buffer.from(secret))), `a mail holds ${secret}`);
        assert.equal(await dbContains(stack.gw.testDb, secret), false, `database holds ${secret}`);
        assert.ok(!redis.includes(Buffer.from(secret)), `Redis holds ${secret}`);
        assert.ok(!logs.includes(secret), `logs hold ${secret}`);
      }

      // Everything the server has: unseal the row with the master key, try every private key it holds.
      const { db } = stack.gw.testDb;
      const row = await db.kysely.selectFrom('console_codes').selectAll().executeTakeFirstOrThrow();
      const unsealed = stack.gw.deps.sealer.open('console', row.ciphertext, row.id);
      assert.ok(!unsealed.includes(Buffer.from(line.code)), 'unsealed, it is still OpenPGP ciphertext');
      const keys: SigningKey[] = [];
      for (const k of await db.kysely.selectFrom('sender_keys').selectAll().execute()) {
        const armored = stack.gw.deps.sealer.open('sender-private-key', k.sealed_private_key, k.fingerprint);
        keys.push(await parseSigningKey(armored.toString('utf8')));
      }
      assert.ok(keys.length > 0);
      for (const key of keys) {
        await assert.rejects(
          decryptAndVerify({ armored: unsealed, decryptionKey: key, verificationKeys: [], now: new Date() }),
        );
      }
      const consoleKey = await db.kysely.selectFrom('console_keys').selectAll().executeTakeFirstOrThrow();
      assert.ok(!Buffer.from(consoleKey.locked_private_key).includes(Buffer.from('-----BEGIN PGP')));
      // Her key, unlocked with her password in the helper as in the browser, does open it.
      const opened = await decryptAndVerify({
        armored: unsealed,
        decryptionKey: s.privateKey,
        verificationKeys: [],
        now: new Date(),
      });
      assert.equal(Buffer.from(opened.data).toString('utf8'), line.code);
    });
  });
}
