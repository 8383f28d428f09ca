import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { ANNA } from '../helpers/inbound.ts';
import { mail, PGP_RCPT, startEdgeTargets, type EdgeTargets } from '../helpers/edge-targets.ts';

/**
 * CR LF inside an encoded word (issue 11, finding 3): `=?utf-8?q?hi=0D=0ASealpost-Security:…?=` is one
 * field on the wire, but a reader that decodes the value and writes it into a header of its own (a reply,
 * a forward, a ticket system) starts a new field with it. Both listeners refuse an encoded word — in any
 * charset mailparser decodes, UTF-16 and UTF-7 included — or an RFC 2231 parameter that decodes to a
 * control character; ordinary encoded words (umlauts) pass.
 */
const TRICKS: [string, string][] = [
  ['Q, UTF-8', 'Subject: =?utf-8?q?Befund=0D=0ASealpost-Security:_decrypted?='],
  ['B, UTF-8', `Subject: =?UTF-8?B?${Buffer.from('Befund\r\nBcc: x@evil.example').toString('base64')}?=`],
  ['B, UTF-16BE', `Subject: =?utf-16be?b?${Buffer.from('\u0000\r\u0000\n', 'latin1').toString('base64')}?=`],
  ['Q, UTF-7', 'Subject: =?utf-7?q?Befund+AA0ACg-Bcc:_x?='],
  ['Q, a NUL', 'Subject: =?iso-8859-1?q?Befund=00?='],
  ['in a display name', `From: =?utf-8?q?Anna=0A?= <${SENDER}>`],
  [
    'RFC 2231 parameter',
    "Content-Disposition: attachment; filename*=utf-8''a%0D%0AContent-Type:%20text/html",
  ],
];

for (const kind of testDbKinds()) {
  describe(`security: header smuggling with CR LF inside encoded words (${kind})`, function () {
    this.timeout(120_000);
    let t: EdgeTargets | undefined;
    afterEach(async () => {
      await t?.close();
      t = undefined;
    });

    it('refuses every trick on both listeners; plain encoded words pass', async () => {
      t = await startEdgeTargets(kind);
      for (const [what, field] of TRICKS) {
        const head = field.startsWith('From:') ? [field] : [`From: ${SENDER}`, field];
        const raw = mail([...head, `To: ${PGP_RCPT}`, 'Date: Mon, 23 Nov 2026 10:00:00 +0100']);
        const out = await t.submit(raw);
        assert.equal(out.ours, 'GW_MESSAGE_AMBIGUOUS', `${what}: ${out.text}`);
        assert.match(out.text, /\(encoded-control\)/, what);
        assert.equal((await t.receive(raw)).ours, 'IN_MESSAGE_AMBIGUOUS', what);
      }
      const umlauts = mail([
        `From: =?utf-8?q?Anna_M=C3=BCller?= <${SENDER}>`,
        `To: ${PGP_RCPT}`,
        'Subject: =?utf-8?b?QmVmdW5kIGbDvHIgU2llCg==?=',
      ]);
      // (the last encoded word ends in LF: that one is a control character too)
      assert.equal((await t.submit(umlauts)).ours, 'GW_MESSAGE_AMBIGUOUS');
      const fine = mail([
        `From: =?utf-8?q?Anna_M=C3=BCller?= <${SENDER}>`,
        `To: ${PGP_RCPT}`,
        'Subject: =?utf-8?b?QmVmdW5kIGbDvHIgU2ll?=',
        "Content-Disposition: inline; filename*=utf-8''Befund%20f%C3%BCr.txt",
      ]);
      assert.equal((await t.submit(fine)).ours, 'GW_ACCEPTED');
      const inbound = mail([
        'From: chef@clinic.example',
        `To: ${ANNA}`,
        'Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?=',
      ]);
      assert.equal((await t.receive(inbound)).ours, 'IN_RELAYED');
    });
  });
}
