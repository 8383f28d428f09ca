import assert from 'node:assert/strict';
import { decryptAndVerify } from '../../keys/openpgp/index.ts';
import { assertNowhereAtRest, assertServerKeysCannotOpen, privateRedisStack } from '../helpers/at-rest.ts';
import { consoleCodes, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';

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
    const current = privateRedisStack(kind);

    it('no mail, row, WAL, Redis key or log line holds the code; the master key does not open it', async () => {
      const stack = current();
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'S', text: 'T' });
      const msgs = await stack.sink.waitFor(2);
      const s = await consoleSignIn(stack.web);
      const [line] = await consoleCodes(s);
      assert.ok(line);
      const secrets = [line.code, line.code.replace(/-/g, '')];
      for (const secret of secrets) {
        assert.ok(!msgs.some((m) => m.raw.includes(Buffer.from(secret))), `a mail holds ${secret}`);
      }
      await assertNowhereAtRest(stack, secrets);

      // Everything the server has: unseal the row with the master key, try every private key it holds.
      const { db } = stack.gw.testDb;
      const row = await db.kysely.selectFrom('console_codes').selectAll().executeTakeFirstOrThrow();
      const unsealed = stack.gw.deps.sealer.open('console', row.ciphertext, row.id);
      assert.ok(!unsealed.includes(Buffer.from(line.code)), 'unsealed, it is still OpenPGP ciphertext');
      await assertServerKeysCannotOpen(stack, unsealed);
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
