import assert from 'node:assert/strict';
import { expirePickups } from '../../worker/expire.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { api, buildReply, linkId, unlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * A pickup reply is kept for its writer's thread (issue 15) only as the OpenPGP message the browser
 * encrypted to the sender and the writer, sealed once more at rest: no clear text in the database, another
 * contact's session gets 404 for it and never sees it listed, and expiry deletes it with its pickup.
 */
for (const kind of testDbKinds()) {
  describe(`security: a kept reply is readable only by its writer (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    let offset = 0;
    beforeEach(async () => {
      offset = 0;
      stack = await startStack({ kind, clock: { now: () => new Date(Date.now() + offset) } });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('no clear text at rest, 404 for another contact, gone with its pickup', async () => {
      await stack.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 'a', text: 'a' });
      await stack.gw.transport().sendMail({ from: SENDER, to: 'eva@example.org', subject: 'b', text: 'b' });
      const msgs = await stack.sink.waitFor(4);
      const maxId = await linkId(msgs.find((m) => m.to[0] === 'max@example.org')!.raw);
      const evaId = await linkId(msgs.find((m) => m.to[0] === 'eva@example.org')!.raw);
      const code = (who: string) => consoleCode(stack.web, `${who}example.org`);
      const max = await unlock(stack.web, maxId, await code('max@'));
      const eva = await unlock(stack.web, evaId, await code('eva@'));
      const senders = (await (await api(stack.web, max, '/senders')).json()).senders as {
        publicKey: string;
      }[];
      const secret = 'Meine Diagnose bleibt unter uns';
      const message = await buildReply({
        u: max,
        senderPublicKey: senders[0]!.publicKey,
        inReplyTo: '<x@y>',
        to: SENDER,
        text: secret,
      });
      const sent = await api(stack.web, max, '/replies', { inReplyTo: maxId, message });
      assert.equal(sent.status, 202);
      const { id } = (await sent.json()) as { id: string };

      const rows = await stack.gw.testDb.db.kysely.selectFrom('pickup_replies').selectAll().execute();
      assert.equal(rows.length, 1);
      const atRest = Buffer.from(rows[0]!.ciphertext);
      assert.ok(
        !atRest.includes(secret) && !atRest.includes('BEGIN PGP MESSAGE'),
        'sealed, not even armored',
      );

      const mine = (await (await api(stack.web, max, '/replies')).json()).replies as { id: string }[];
      assert.deepEqual(
        mine.map((r) => r.id),
        [id],
      );
      assert.equal((await (await api(stack.web, max, `/replies/${id}`)).bytes()).toString(), message);
      assert.deepEqual((await (await api(stack.web, eva, '/replies')).json()).replies, []);
      assert.equal((await api(stack.web, eva, `/replies/${id}`)).status, 404);

      offset = 31 * 86_400_000;
      await expirePickups({ ...stack.gw.deps, clock: { now: () => new Date(Date.now() + offset) } });
      assert.equal(
        (await stack.gw.testDb.db.kysely.selectFrom('pickup_replies').selectAll().execute()).length,
        0,
      );
    });
  });
}
