import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { testDbKinds } from '../helpers/db.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { fixtureAddress, fixturePublicKey, fixtureSecretKey } from '../helpers/keys.ts';
import { peer } from '../helpers/peers.ts';

/**
 * A colleague who still encrypts to a sender's earlier key (docs/admin-console.md "Sender keys"): after a
 * rotation, and after a revocation, the inbound listener decrypts with every key the address has had
 * (GnuPG encrypts, as a colleague's mail program would).
 */
function crlf(lines: string[]): string {
  return lines.join('\r\n') + '\r\n';
}

for (const kind of testDbKinds()) {
  describe(`inbound: replies to a rotated or revoked sender key still open (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('decrypts a reply to the key rotated away, then to the revoked one', async () => {
      gw = await startTestInbound({ kind, config: { inbound: { language: 'en' } } });
      await gw.keys.importKeys(fixturePublicKey('gpg25519'));
      const from = fixtureAddress('gpg25519');
      const earlier = gw.publicKeys[ANNA]!;
      const rotated = await gw.keys.generateSenderKey(ANNA, undefined, { action: 'sender-key.rotated' });
      const send = async (to: string, text: string) => {
        const armored = await peer.gpg.encrypt({
          data: Buffer.from(`${text}\n`, 'utf8'),
          to,
          signer: fixtureSecretKey('gpg25519'),
        });
        await gw!.send(
          { from, to: [ANNA] },
          crlf([`From: <${from}>`, `To: <${ANNA}>`, 'Subject: re', '', armored]),
        );
      };
      await send(earlier, 'Reply 4711 to the earlier key');
      const [first] = await gw.sink.waitFor(1);
      assert.match((await simpleParser(first!.raw)).text ?? '', /Reply 4711 to the earlier key/);
      await gw.keys.revokeSenderKey(rotated.fingerprint);
      await send(rotated.publicKey, 'Reply 4712 to the revoked key');
      const got = await gw.sink.waitFor(2);
      const second = await simpleParser(got[1]!.raw);
      assert.match(second.text ?? '', /^\[Sealpost\] Received encrypted\. Signed by gpg25519@example\.org/);
      assert.match(second.text ?? '', /Reply 4712 to the revoked key/);
    });
  });
}
