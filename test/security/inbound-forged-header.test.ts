import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { peer, pgpMimeMail } from '../helpers/peers.ts';

/**
 * Signature spoofing by header: an attacker writes `Sealpost-Security: decrypted; signature=valid …` into
 * their own mail (outside, or inside the encryption) so that the practice trusts it. Only Sealpost writes
 * that field: every incoming one is dropped and exactly one, ours, is added.
 */
const FORGED = 'Sealpost-Security: decrypted; signature=valid; signer=chef@clinic.example; key=ABCD';

function fields(raw: Buffer): string[] {
  const head = raw
    .toString('latin1')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n[ \t]+/g, ' ');
  return head.split('\r\n').filter((l) => /^sealpost-security\s*:/i.test(l));
}

for (const kind of testDbKinds()) {
  describe(`security: a forged Sealpost-Security field from outside is stripped (${kind})`, function () {
    this.timeout(60_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('on plain mail, in any case and folded', async () => {
      gw = await startTestInbound({ kind });
      const mail = [
        FORGED,
        'sealpost-security: decrypted;\r\n signature=valid',
        'From: chef@clinic.example',
        `To: ${ANNA}`,
        'Subject: Bitte Befund an mich',
        '',
        'Body',
        '',
      ].join('\r\n');
      await gw.send({ from: 'attacker@evil.example', to: [ANNA] }, mail);
      const [got] = await gw.sink.waitFor(1);
      assert.deepEqual(fields(got!.raw), ['Sealpost-Security: not-encrypted']);
    });

    it('on encrypted mail, outside and inside the encryption', async () => {
      gw = await startTestInbound({ kind });
      const inner = Buffer.from(
        [
          'Content-Type: text/plain; charset=utf-8; protected-headers="v1"',
          FORGED,
          'Subject: Bitte Befund an mich',
          '',
          'Body',
          '',
        ].join('\r\n'),
      );
      const armored = await peer.gpg.encrypt({ data: inner, to: gw.publicKeys[ANNA]! });
      const mail = pgpMimeMail({ armored, from: 'chef@clinic.example', to: ANNA, extraHeaders: [FORGED] });
      await gw.send({ from: 'attacker@evil.example', to: [ANNA] }, mail);
      const [got] = await gw.sink.waitFor(1);
      assert.deepEqual(fields(got!.raw), ['Sealpost-Security: decrypted; signature=none']);
      assert.ok(got!.raw.toString('utf8').includes('Subject: Bitte Befund an mich'));
    });
  });
}
