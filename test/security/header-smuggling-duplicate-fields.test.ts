import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { ANNA } from '../helpers/inbound.ts';
import { mail, PGP_RCPT, startEdgeTargets, type EdgeTargets } from '../helpers/edge-targets.ts';

/**
 * Duplicate header fields (issue 11, findings 3 and 4): of two `From:` fields one reader shows the first,
 * another the last — so a checked first From could front for a forged second one; two `Content-Type:`
 * fields let the practice's program render a body other than the one Sealpost examined. RFC 5322 §3.6
 * allows these fields once: both listeners refuse a second one (550 5.6.0, `duplicate-field`).
 */
const TWICE = [
  [`From: ${SENDER}`, 'From: Direktion <direktion@bank.example>'],
  ['Subject: eins', 'Subject: zwei'],
  ['Content-Type: text/plain', 'Content-Type: text/html'],
  [`To: ${PGP_RCPT}`, 'To: other@clinic.example'],
  ['Message-ID: <a@praxis.example>', 'Message-ID: <b@praxis.example>'],
];

for (const kind of testDbKinds()) {
  describe(`security: header smuggling with duplicate fields (${kind})`, function () {
    this.timeout(120_000);
    let t: EdgeTargets | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('refuses a second From, Subject, Content-Type, To or Message-ID on both listeners', async () => {
      t = await startEdgeTargets(kind);
      for (const pair of TWICE) {
        const base = [`From: ${SENDER}`, `To: ${PGP_RCPT}`, 'Subject: Befund'].filter(
          (l) => !pair.some((p) => p.split(':')[0] === l.split(':')[0]),
        );
        const raw = mail([...base, ...pair]);
        const out = await t.submit(raw);
        assert.equal(out.ours, 'GW_MESSAGE_AMBIGUOUS', `${pair[0]}: ${out.text}`);
        assert.match(out.text, /\(duplicate-field\)/);
        assert.equal((await t.receive(raw)).ours, 'IN_MESSAGE_AMBIGUOUS', pair[0]);
      }
      // Fields that may repeat do.
      const repeat = mail([
        `From: ${SENDER}`,
        `To: ${PGP_RCPT}`,
        'Comments: a',
        'Comments: b',
        'Keywords: x',
        'Keywords: y',
      ]);
      assert.equal((await t.submit(repeat)).ours, 'GW_ACCEPTED');
      const received = mail([
        'Received: from a',
        'Received: from b',
        'From: chef@clinic.example',
        `To: ${ANNA}`,
      ]);
      assert.equal((await t.receive(received)).ours, 'IN_RELAYED');
    });
  });
}
