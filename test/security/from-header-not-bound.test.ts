import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { mail, PGP_RCPT, startEdgeTargets, type EdgeTargets } from '../helpers/edge-targets.ts';

/**
 * The visible From is not bound to the login (issue 11, finding 4): `From: Direktion
 * <direktion@bank.example>` was accepted from anna, signed with her key, and shown next to "signature
 * verified". The header From (and Sender) must now be exactly one mailbox that is one of her addresses,
 * with no other address dressed up in the display name: 553 5.7.1 GW_FROM_NOT_ALLOWED otherwise. A message
 * without From gets hers from the envelope.
 */
const REFUSED: [string, string[]][] = [
  ['from-not-allowed', ['From: Direktion <direktion@bank.example>']],
  ['from-not-allowed', ['From: direktion@bank.example']],
  ['from-display-name', [`From: "direktion@bank.example" <${SENDER}>`]],
  ['from-display-name', [`From: "Direktion <direktion@bank.example>" <${SENDER}>`]],
  ['from-display-name', [`From: =?utf-8?q?direktion=40bank=2Eexample?= <${SENDER}>`]],
  ['from-display-name', [`From: "direktion\uff20bank.example" <${SENDER}>`]],
  ['from-display-name', [`From: "direktion@\u200bbank.example" <${SENDER}>`]],
  ['from-multiple', [`From: ${SENDER}, direktion@bank.example`]],
  ['from-group', [`From: Direktion: ${SENDER};`]],
  ['from-group', ['From: undisclosed-recipients:;']],
  ['from-comment', [`From: ${SENDER} (direktion@bank.example)`]],
  ['from-unparsable', [`From: direktion@bank.example <${SENDER}>`]],
  ['from-unparsable', [`From: "<${SENDER}>" <direktion@bank.example`]],
  ['from-empty', ['From: ']],
  ['sender-not-allowed', [`From: ${SENDER}`, 'Sender: direktion@bank.example']],
];

for (const kind of testDbKinds()) {
  describe(`security: the header From is bound to the login (${kind})`, function () {
    this.timeout(120_000);
    let t: EdgeTargets | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('refuses a From or Sender that is not one of her addresses, 553 GW_FROM_NOT_ALLOWED', async () => {
      t = await startEdgeTargets(kind);
      for (const [problem, head] of REFUSED) {
        const reply = await t.submit(mail([...head, `To: ${PGP_RCPT}`, 'Subject: Kontoauszug']));
        assert.equal(reply.code, 553, `${head.join(' / ')}: ${reply.text}`);
        assert.equal(reply.ours, 'GW_FROM_NOT_ALLOWED');
        assert.match(reply.text, /5\.7\.1/);
        assert.ok(reply.text.includes(`(${problem})`), `${head.join(' / ')}: ${reply.text}`);
      }
      assert.deepEqual(await t.gw.outbound(), [], 'nothing spooled');
      assert.match(t.gw.logText(), /"code":"GW_FROM_NOT_ALLOWED"[^\n]*"reason":"from-not-allowed"/);
    });

    it('accepts her own addresses, with a display name, and adds From when there is none', async () => {
      t = await startEdgeTargets(kind);
      await t.gw.users.addAddress(SENDER, 'praxis@praxis.example', new Date());
      for (const from of [
        `From: Anna Beispiel <${SENDER}>`,
        `From: "Beispiel, Anna (Praxis)" <${SENDER.toUpperCase()}>`,
        `From: =?utf-8?q?Anna_M=C3=BCller?= <${SENDER}>`,
        'From: Praxis <praxis@praxis.example>',
      ]) {
        const reply = await t.submit(mail([from, `To: ${PGP_RCPT}`, 'Subject: Befund']));
        assert.equal(reply.ours, 'GW_ACCEPTED', `${from}: ${reply.text}`);
      }
      const before = (await t.gw.outbound()).length;
      const reply = await t.submit(
        mail([`To: ${PGP_RCPT}`, 'Subject: ohne From', 'Message-ID: <nofrom-1@praxis.example>']),
      );
      assert.equal(reply.ours, 'GW_ACCEPTED', reply.text);
      const rows = await t.gw.outbound();
      assert.equal(rows.length, before + 1);
      const added = rows.map((r) => t!.gw.openBody(r)).filter((b) => !/^From:/im.test(b.toString('latin1')));
      assert.deepEqual(added, [], 'every copy has a From');
      const last = await simpleParser(
        t.gw.openBody(rows.find((r) => r.message_id === '<nofrom-1@praxis.example>')!),
      );
      assert.deepEqual(
        last.from?.value.map((a) => a.address),
        [SENDER],
      );

      // With her display name, however long and whatever its letters.
      const name = 'Praxis für Psychotherapie Dr. Anna Müller-Lüdenscheidt, Überörtliche Gemeinschaftspraxis';
      await t.gw.deps.db.kysely
        .updateTable('user_addresses')
        .set({ display_name: name })
        .where('address', '=', SENDER)
        .execute();
      const second = mail([`To: ${PGP_RCPT}`, 'Subject: ohne From', 'Message-ID: <nofrom-2@praxis.example>']);
      assert.equal((await t.submit(second)).ours, 'GW_ACCEPTED');
      const row = (await t.gw.outbound()).find((r) => r.message_id === '<nofrom-2@praxis.example>');
      const named = await simpleParser(t.gw.openBody(row!));
      assert.deepEqual(named.from?.value, [{ address: SENDER, name }]);
    });
  });
}
