import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { decryptAndVerify } from '../../keys/openpgp/index.ts';
import { assertNowhereAtRest, assertServerKeysCannotOpen, privateRedisStack } from '../helpers/at-rest.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { linkId, unlock } from '../helpers/pickup-client.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * Invariant 4, the server cannot read pickups. For a stored pickup the database rows, Redis and the logs
 * hold no plaintext and no access code; and with everything the server has — the master key, every row,
 * every sender's private key — the pickup does not decrypt. Only the code (the recipient's secret) opens it.
 */
const MAX = 'max@example.org';

for (const kind of testDbKinds()) {
  describe(`security: the server cannot read pickups (${kind})`, function () {
    this.timeout(120_000);
    const current = privateRedisStack(kind);

    it('keeps content and code out of the database, Redis and logs; only the code decrypts', async () => {
      const stack = current();
      const marker = `Geheim-${randomBytes(6).toString('hex')}`;
      const fileName = `diagnose-${randomBytes(4).toString('hex')}.pdf`;
      const attachment = Buffer.from(`PDF ${marker} ${randomBytes(16).toString('hex')}`);
      await stack.gw.transport().sendMail({
        from: SENDER,
        to: MAX,
        subject: `Betreff ${marker}`,
        text: `Text ${marker}`,
        attachments: [{ filename: fileName, content: attachment }],
      });
      const msgs = await stack.sink.waitFor(2);
      const code = await consoleCode(stack.web, MAX);
      const id = await linkId(msgs.find((m) => m.to[0] === MAX)!.raw);
      await stack.workers.reconcile(); // settles: both notices are delivered, their bodies dropped
      const { db } = stack.gw.testDb;
      await waitFor(async () => {
        const rows = await db.kysely.selectFrom('outbound').select('status').execute();
        return rows.every((r) => r.status === 'delivered');
      });

      const secrets = [marker, fileName, code, code.replace(/-/g, '')];
      await assertNowhereAtRest(stack, secrets);

      // Everything the server has: unseal the pickup and try every private key it holds.
      const row = await db.kysely.selectFrom('pickups').selectAll().executeTakeFirstOrThrow();
      const ciphertext = stack.gw.deps.sealer.open('pickup', row.ciphertext, row.id);
      assert.ok(!ciphertext.includes(Buffer.from(marker)), 'the unsealed pickup is still OpenPGP ciphertext');
      await assertServerKeysCannotOpen(stack, ciphertext);
      const contact = await db.kysely.selectFrom('contacts').selectAll().executeTakeFirstOrThrow();
      assert.ok(!Buffer.from(contact.locked_private_key).includes(Buffer.from('-----BEGIN PGP')));

      // The recipient's code does open it.
      const u = await unlock(stack.web, id, code);
      const opened = await decryptAndVerify({
        armored: ciphertext,
        decryptionKey: u.privateKey,
        verificationKeys: [],
        now: new Date(),
      });
      assert.ok(Buffer.from(opened.data).includes(Buffer.from(marker)));
    });
  });
}

async function waitFor(check: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error('timed out');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
