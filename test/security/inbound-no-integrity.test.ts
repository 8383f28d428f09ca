import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { peer, pgpMimeMail } from '../helpers/peers.ts';

/**
 * EFAIL (CBC/CFB gadgets): ciphertext without integrity protection (SED, no MDC) can be modified so that
 * the decrypted text exfiltrates itself. Sealpost never decrypts such a message: it goes on untouched,
 * with a warning in its Sealpost-Security field. GnuPG makes one with `--rfc2440`.
 */
const SECRET = 'Therapieverlauf 4711 vertraulich';

for (const kind of testDbKinds()) {
  describe(`security: a message without integrity protection is not decrypted (${kind})`, function () {
    this.timeout(60_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('relays gpg --rfc2440 (SED without MDC) untouched, marked reason=no-integrity', async () => {
      gw = await startTestInbound({ kind });
      const armored = await peer.gpg.encrypt({
        data: Buffer.from(`Content-Type: text/plain\r\n\r\n${SECRET}\r\n`),
        to: gw.publicKeys[ANNA]!,
        noIntegrity: true,
      });
      const mail = pgpMimeMail({ armored, from: 'colleague@clinic.example', to: ANNA });
      await gw.send({ from: 'colleague@clinic.example', to: [ANNA] }, mail);
      const [got] = await gw.sink.waitFor(1);
      assert.ok(!got!.raw.includes(SECRET));
      assert.match(got!.raw.toString('latin1'), /^Sealpost-Security: not-decrypted; reason=no-integrity\r$/m);
      assert.ok(got!.raw.includes(mail.subarray(mail.indexOf('From:'))), 'the original, untouched');
    });

    it('still decrypts the same message made with integrity protection (the control)', async () => {
      gw = await startTestInbound({ kind });
      const armored = await peer.gpg.encrypt({
        data: Buffer.from(`Content-Type: text/plain\r\n\r\n${SECRET}\r\n`),
        to: gw.publicKeys[ANNA]!,
      });
      await gw.send(
        { from: 'colleague@clinic.example', to: [ANNA] },
        pgpMimeMail({ armored, from: 'colleague@clinic.example', to: ANNA }),
      );
      const [got] = await gw.sink.waitFor(1);
      assert.ok(got!.raw.includes(SECRET));
    });
  });
}
