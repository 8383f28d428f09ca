import assert from 'node:assert/strict';
import { decryptAndVerify, parseSigningKey, type SigningKey } from '../../keys/openpgp/index.ts';
import { consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { dbContains, SENDER } from '../helpers/gateway.ts';
import { startPrivateRedis } from '../helpers/redis.ts';
import { redisContents } from '../helpers/redis-scan.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Invariant 2 for her sent list (docs/console.md "Sent messages"): the subject kept for the practitioner
 * is in no readable row (database file and WAL included), not in Redis and not in the logs; and with all the
 * server has — the master key, every private key it holds — it does not decrypt. Only her console key does.
 */
const MAX = 'max@example.org';
const COLLEAGUE = 'kollegin@klinik.example';
const SUBJECT = 'Befund Zyxwvu-4711';

for (const kind of testDbKinds()) {
  describe(`security: sent subjects unreadable at rest (${kind})`, function () {
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

    it('no row, WAL, Redis key or log line holds the subject; the master key does not open it', async () => {
      await stack.gw.addRecipient(COLLEAGUE);
      await stack.gw
        .transport()
        .sendMail({ from: SENDER, to: [COLLEAGUE, MAX], subject: SUBJECT, text: 'T' });
      await stack.sink.waitFor(3);
      const s = await consoleSignIn(stack.web);
      // Delivered copies drop their bodies; wait until the spool holds none of this message.
      for (let i = 0; i < 50 && (await stack.gw.outbound()).some((r) => r.status === 'queued'); i++) {
        await new Promise((r) => setTimeout(r, 100));
      }
      const redis = await redisContents(stack.redis);
      const logs = stack.gw.logText();
      for (const secret of [SUBJECT, 'Zyxwvu-4711']) {
        assert.equal(await dbContains(stack.gw.testDb, secret), false, `database holds ${secret}`);
        assert.ok(!redis.includes(Buffer.from(secret)), `Redis holds ${secret}`);
        assert.ok(!logs.includes(secret), `logs hold ${secret}`);
      }
      const { db } = stack.gw.testDb;
      const row = await db.kysely.selectFrom('sent_subjects').selectAll().executeTakeFirstOrThrow();
      const unsealed = stack.gw.deps.sealer.open('console', row.ciphertext, `subject:${row.batch_id}`);
      assert.ok(!unsealed.includes(Buffer.from('Zyxwvu')), 'unsealed, it is still OpenPGP ciphertext');
      // Everything the server has: every private key it holds.
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
      const opened = await decryptAndVerify({
        armored: unsealed,
        decryptionKey: s.privateKey,
        verificationKeys: [],
        now: new Date(),
      });
      assert.equal(Buffer.from(opened.data).toString('utf8'), SUBJECT);
    });
  });
}
