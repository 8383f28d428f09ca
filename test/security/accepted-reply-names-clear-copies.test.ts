import assert from 'node:assert/strict';
import { ACCEPTED_GROUPS } from '../../core/errors.ts';
import { PolicyRuleStore } from '../../core/policy-rules.ts';
import { testDbKinds } from '../helpers/db.ts';
import { replyCode, SENDER, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * A clear delivery was answered "Accepted, encrypted and queued" (issue 11, finding 6c): the sender's
 * mail program told her a copy was encrypted that went out in clear under a `plain` rule. The 250 now
 * has its own code when a rule lets copies go in clear (GW_ACCEPTED_PLAIN), and says per verdict group
 * how many copies go which way.
 */
const PGP = 'bob@clinic.example';
const PLAIN = 'orders@lab.example';
const PICKUP = 'max@example.org';

for (const kind of testDbKinds()) {
  describe(`security: the 250 says which copies go in clear (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestGateway | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('GW_ACCEPTED_PLAIN with the counts when a plain rule applies; GW_ACCEPTED otherwise', async () => {
      gw = await startTestGateway({ kind });
      await gw.addRecipient(PGP);
      await new PolicyRuleStore(gw.deps.db.kysely).set({ match: 'lab.example', action: 'plain' }, new Date());
      const send = async (to: string[]) =>
        String(
          (await gw!.transport().sendMail({ from: SENDER, to, subject: 'Befund', text: 'Text' })).response,
        );

      const mixed = await send([PGP, PLAIN, PICKUP]);
      assert.equal(replyCode(mixed), 'GW_ACCEPTED_PLAIN', mixed);
      assert.ok(mixed.startsWith('250 2.0.0'), mixed);
      for (const group of ['pgp', 'plain', 'pickup'] as const)
        assert.ok(mixed.includes(`1 ${ACCEPTED_GROUPS[group]}`), `${group}: ${mixed}`);

      const clearOnly = await send([PLAIN]);
      assert.equal(replyCode(clearOnly), 'GW_ACCEPTED_PLAIN');
      assert.ok(!clearOnly.includes(ACCEPTED_GROUPS.pgp));

      const encrypted = await send([PGP, PICKUP]);
      assert.equal(replyCode(encrypted), 'GW_ACCEPTED', encrypted);
      assert.ok(!encrypted.includes(ACCEPTED_GROUPS.plain), encrypted);
      assert.ok(encrypted.includes(`1 ${ACCEPTED_GROUPS.pgp}`), encrypted);
    });
  });
}
