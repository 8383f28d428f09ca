import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { replyCode, SENDER, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { freshKeyPair } from '../helpers/keys.ts';

/**
 * Fail closed (invariant 1, docs/admin-console.md "Sender keys"): a revoked sender key never signs again.
 * With her only key revoked, a message of hers to a PGP recipient or a pickup contact is refused with a
 * temporary 451 GW_NO_SENDER_KEY at RCPT — nothing is stored or queued, nothing leaves signed by the
 * revoked key or unsigned — and her address still gets no other key (invariant 7). A new key lets the
 * client's retry through.
 */
const EVA = 'eva@example.org';
const MAX = 'max@example.org';

for (const kind of testDbKinds()) {
  describe(`security: a revoked sender key never signs (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestGateway;
    beforeEach(async () => {
      gw = await startTestGateway({ kind });
    });
    afterEach(async () => {
      await gw.close();
    });

    it('refuses 451 to a PGP recipient and a pickup contact after the revocation; a new key takes the retry', async () => {
      await gw.keys.importKeys((await freshKeyPair(EVA)).publicKey);
      const revoked = await gw.keys.revokeSenderKey(SENDER);
      for (const to of [EVA, MAX]) {
        const session = await gw.session();
        await session.login();
        const raw = `From: ${SENDER}\r\nTo: ${to}\r\nSubject: S\r\n\r\nT\r\n`;
        await assert.rejects(session.send({ from: SENDER, to: [to] }, raw), (err: { response?: string }) => {
          assert.equal(replyCode(err.response), 'GW_NO_SENDER_KEY', String(err.response));
          assert.match(err.response ?? '', /^451 /);
          return true;
        });
        session.close();
      }
      const { kysely } = gw.testDb.db;
      assert.equal((await kysely.selectFrom('outbound').selectAll().execute()).length, 0, 'nothing queued');
      assert.equal((await kysely.selectFrom('pickups').selectAll().execute()).length, 0, 'no pickup');
      const own = await gw.keys.recipientKey(SENDER);
      assert.deepEqual(own, {
        state: 'unusable',
        problem: 'revoked',
        fingerprint: revoked.fingerprint,
        source: 'sender',
      });

      const fresh = await gw.keys.generateSenderKey(SENDER);
      assert.notEqual(fresh.fingerprint, revoked.fingerprint);
      const info = await gw.transport().sendMail({ from: SENDER, to: EVA, subject: 'S', text: 'T' });
      assert.match(String(info.response), /^250 /);
    });
  });
}
