import assert from 'node:assert/strict';
import { decryptAndVerify } from '../../keys/openpgp/index.ts';
import { assertNowhereAtRest, assertServerKeysCannotOpen, privateRedisStack } from '../helpers/at-rest.ts';
import { consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';

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
    const current = privateRedisStack(kind);

    it('no row, WAL, Redis key or log line holds the subject; the master key does not open it', async () => {
      const stack = current();
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
      await assertNowhereAtRest(stack, [SUBJECT, 'Zyxwvu-4711']);
      const { db } = stack.gw.testDb;
      const row = await db.kysely.selectFrom('sent_subjects').selectAll().executeTakeFirstOrThrow();
      const unsealed = stack.gw.deps.sealer.open('console', row.ciphertext, `subject:${row.batch_id}`);
      assert.ok(!unsealed.includes(Buffer.from('Zyxwvu')), 'unsealed, it is still OpenPGP ciphertext');
      // Everything the server has: every private key it holds.
      await assertServerKeysCannotOpen(stack, unsealed);
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
