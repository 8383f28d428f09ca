import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { testKey } from '../helpers/autocrypt.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { api, linkId, unlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * A neighbour of the planted key (issue 11, finding 1): a pickup contact registers "their own" key in the
 * pickup app, one that also carries the practice's address (or anyone else's) as a User ID. The key is
 * kept only with the contact's own User IDs — what the contact can vouch for — and a local address's key
 * stays its sender key, whatever a registered key says.
 */
const MAX = 'max@example.org';

for (const kind of testDbKinds()) {
  describe(`security: a key registered in the pickup app vouches only for the contact (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it("a key with the practice's address among its User IDs is stored with the contact's alone", async () => {
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'Vertraulich' });
      const msgs = await stack.sink.waitFor(2);
      const id = await linkId(msgs.find((m) => m.to[0] === MAX)!.raw);
      const code = await consoleCode(stack.web, MAX);
      const u = await unlock(stack.web, id, code);

      const key = await testKey([MAX, SENDER, 'chef@clinic.example']);
      const res = await api(stack.web, u, '/key', { publicKey: key.publicKey });
      assert.equal(res.status, 200);

      const rows = await stack.gw.testDb.db.kysely.selectFrom('recipient_keys').selectAll().execute();
      assert.deepEqual(
        rows.map((r) => [r.address, r.source]),
        [[MAX, 'pickup']],
      );
      const stored = await openpgp.readKey({ armoredKey: rows[0]!.public_key });
      assert.deepEqual(stored.getUserIDs(), [`<${MAX}>`]);
      const own = await stack.gw.keys.recipientKey(SENDER);
      assert.equal(own.state === 'usable' && own.source, 'sender');
    });
  });
}
