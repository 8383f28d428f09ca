import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { ANNA } from '../helpers/inbound.ts';
import { mail, PGP_RCPT, startEdgeTargets, type EdgeTargets } from '../helpers/edge-targets.ts';

/**
 * NUL smuggling (issue 11, finding 3): a reader written in C stops at a NUL where ours goes on, so
 * `Subject: hi\0Bcc: …` is one field to us and a cut one to the next. Neither listener offers BINARYMIME,
 * so 7bit/8bit data never hold a NUL (RFC 2045 §2.7–2.8): both refuse it anywhere, 550 5.6.0.
 */
for (const kind of testDbKinds()) {
  describe(`security: header smuggling with NUL (${kind})`, function () {
    this.timeout(120_000);
    let t: EdgeTargets | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('refuses a NUL in the header or the body on both listeners, and goes on', async () => {
      t = await startEdgeTargets(kind);
      const inHeader = mail([`From: ${SENDER}`, `To: ${PGP_RCPT}`, 'Subject: Befund\0Bcc: x@evil.example']);
      const inBody = mail([`From: ${SENDER}`, `To: ${PGP_RCPT}`, 'Subject: Befund'], 'Text\0mehr\r\n');
      for (const raw of [inHeader, inBody]) {
        const out = await t.submit(raw);
        assert.equal(out.code, 550, out.text);
        assert.equal(out.ours, 'GW_MESSAGE_AMBIGUOUS');
        assert.equal((await t.receive(raw)).ours, 'IN_MESSAGE_AMBIGUOUS');
      }
      assert.deepEqual(await t.gw.outbound(), []);
      assert.equal(t.inbound.sink.messages.length, 0);
      assert.match(t.gw.logText(), /"reason":"nul"/);
      const clean = mail([`From: ${SENDER}`, `To: ${PGP_RCPT}`, 'Subject: Befund']);
      assert.equal((await t.submit(clean)).ours, 'GW_ACCEPTED');
      assert.equal(
        (await t.receive(mail(['From: chef@clinic.example', `To: ${ANNA}`, 'Subject: x']))).ours,
        'IN_RELAYED',
      );
    });
  });
}
