import assert from 'node:assert/strict';
import { autocryptHeader, clearMail, encryptedMail, testKey } from '../helpers/autocrypt.ts';
import { testDbKinds } from '../helpers/db.ts';
import { ANNA, BOB, startTestInbound, type TestInbound } from '../helpers/inbound.ts';

/**
 * A forged local signer (issue 11, finding 1): a key planted for a practice address — by an Autocrypt
 * header, or sitting in the recipient keys for any other reason — made an attacker-signed message "from"
 * that address arrive as `signature=valid; signer=<local user>`. A signature claiming a local signer is
 * valid only with that user's own sender key; a local address without one has no valid signer at all.
 */
function security(raw: Buffer): string {
  const head = raw
    .toString('utf8')
    .split('\r\n\r\n')[0]!
    .replace(/\r\n[ \t]+/g, ' ');
  return head.split('\r\n').find((l) => /^sealpost-security:/i.test(l)) ?? '';
}

for (const kind of testDbKinds()) {
  describe(`security: a message signed by a planted key never verifies as a local user (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('an Autocrypt header plants nothing, and the next forged mail "from" Anna is unknown-key', async () => {
      gw = await startTestInbound({ kind });
      const attacker = await testKey([ANNA]);
      const plant = await clearMail({
        from: ANNA,
        to: BOB,
        signer: attacker.secretKey,
        headers: [autocryptHeader(ANNA, attacker.binary)],
      });
      await gw.send({ from: ANNA, to: [BOB] }, plant);
      const forged = await encryptedMail({
        from: ANNA,
        to: BOB,
        encryptTo: gw.publicKeys[BOB]!,
        signer: attacker.secretKey,
      });
      await gw.send({ from: ANNA, to: [BOB] }, forged);
      const got = await gw.sink.waitFor(2);
      const field = security(got[1]!.raw);
      assert.match(field, /^Sealpost-Security: decrypted; signature=unknown-key; /);
      assert.doesNotMatch(got[1]!.raw.toString('utf8'), /signer=anna@praxis\.example|Signatur geprüft/);
      const own = await gw.keys.recipientKey(ANNA);
      assert.equal(own.state === 'usable' && own.source, 'sender', 'mail to Anna goes to her sender key');
    });

    it('a key in the recipient keys for a local address (even admin-imported) never verifies as that user', async () => {
      gw = await startTestInbound({ kind });
      const planted = await testKey([ANNA, 'empfang@praxis.example']);
      await gw.keys.importKeys(planted.publicKey);
      for (const from of [ANNA, 'empfang@praxis.example']) {
        const forged = await encryptedMail({
          from,
          to: BOB,
          encryptTo: gw.publicKeys[BOB]!,
          signer: planted.secretKey,
        });
        await gw.send({ from, to: [BOB] }, forged);
      }
      const got = await gw.sink.waitFor(2);
      for (const m of got) assert.match(security(m.raw), /signature=unknown-key/);
      const own = await gw.keys.recipientKey(ANNA);
      assert.equal(own.state === 'usable' && own.fingerprint !== planted.fingerprint && own.source, 'sender');
    });

    it("Anna's own sender key still verifies as Anna (the control)", async () => {
      gw = await startTestInbound({ kind });
      const anna = await gw.keys.senderKey(ANNA);
      const mail = await encryptedMail({
        from: ANNA,
        to: BOB,
        encryptTo: gw.publicKeys[BOB]!,
        signer: anna!.signer.key.armor(),
      });
      await gw.send({ from: ANNA, to: [BOB] }, mail);
      const [got] = await gw.sink.waitFor(1);
      assert.match(
        security(got!.raw),
        new RegExp(`signature=valid; signer=${ANNA}; key=${anna!.signer.fingerprint}`),
      );
    });
  });
}
