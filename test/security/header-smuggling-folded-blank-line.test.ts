import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { ANNA } from '../helpers/inbound.ts';
import { mail, PGP_RCPT, startEdgeTargets, type EdgeTargets } from '../helpers/edge-targets.ts';

/**
 * Folded-line tricks (issue 11, finding 3): a continuation line of white space only is a continuation to
 * us, mailparser and postal-mime, but the end of the header to readers that trim before they look (the
 * fields after it then become body, or the body's first lines fields). Both listeners refuse it; ordinary
 * folding (CRLF and a space or tab before more text) passes and stays one field for every reader.
 */
for (const kind of testDbKinds()) {
  describe(`security: header smuggling with a white-space-only folded line (${kind})`, function () {
    this.timeout(120_000);
    let t: EdgeTargets | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('refuses a blank continuation line, accepts real folding', async () => {
      t = await startEdgeTargets(kind);
      for (const blank of [' ', '\t', '  \t ']) {
        const raw = mail([
          `From: ${SENDER}`,
          `Subject: Befund\r\n${blank}`,
          `To: ${PGP_RCPT}`,
          'X-Injected: y',
        ]);
        const out = await t.submit(raw);
        assert.equal(out.ours, 'GW_MESSAGE_AMBIGUOUS', out.text);
        assert.match(out.text, /\(blank-continuation\)/);
        assert.equal((await t.receive(raw)).ours, 'IN_MESSAGE_AMBIGUOUS');
      }
      const folded = mail([
        `From: Anna\r\n Beispiel <${SENDER}>`,
        `To:\r\n\t${PGP_RCPT}`,
        'Subject: Befund\r\n für Sie',
      ]);
      assert.equal((await t.submit(folded)).ours, 'GW_ACCEPTED');
      assert.equal(
        (await t.receive(mail(['From: chef@clinic.example', `To: ${ANNA}`, 'Subject: a\r\n b']))).ours,
        'IN_RELAYED',
      );
    });
  });
}
