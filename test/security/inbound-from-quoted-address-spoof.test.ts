import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import { testDbKinds } from '../helpers/db.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { peer, pgpMimeMail } from '../helpers/peers.ts';

/**
 * Whose key signed (issue 11, finding 4, inbound side). The verdict names the address whose known key
 * verified the signature, and that must be the From every reader shows. Sealpost used to take "the first
 * `<addr>`" of the From value — also one inside a quoted display name — so `From: "<known@…>"
 * <chef@bank.example>` signed with known's key was relayed as `signature=valid; signer=known@…` while the
 * practice's mail program showed chef@bank.example as the sender. The From is now read as every reader
 * reads it (keys/mime/author.ts): the signature is checked against chef's keys only, and is unknown-key.
 */
const KNOWN = 'gpg25519@example.org';
const pub = readFileSync('test/fixtures/keys/gpg25519.pub.asc', 'utf8');
const sec = readFileSync('test/fixtures/keys/gpg25519.sec.asc', 'utf8');

async function relayedVerdict(inbound: TestInbound, from: string, n: number) {
  const inner = Buffer.from('Content-Type: text/plain; charset=utf-8\r\n\r\nBitte überweisen.\r\n', 'utf8');
  const armored = await peer.gpg.encrypt({ data: inner, to: inbound.publicKeys[ANNA]!, signer: sec });
  await inbound.send({ from: 'x@bank.example', to: [ANNA] }, pgpMimeMail({ armored, from, to: ANNA }));
  const got = (await inbound.sink.waitFor(n))[n - 1]!;
  const parsed = await simpleParser(got.raw);
  return { security: String(parsed.headers.get('sealpost-security')), text: parsed.text ?? '', parsed };
}

for (const kind of testDbKinds()) {
  describe(`security: the inbound verdict names the signer the reader sees as From (${kind})`, function () {
    this.timeout(120_000);
    let inbound: TestInbound | undefined;
    afterEach(async () => {
      await inbound?.close();
      inbound = undefined;
    });

    it('a known key does not sign for a From whose display name quotes its address', async () => {
      inbound = await startTestInbound({ kind });
      await inbound.keys.importKeys(pub);

      const honest = await relayedVerdict(inbound, `GnuPG <${KNOWN}>`, 1);
      assert.match(honest.security, new RegExp(`^decrypted; signature=valid; signer=${KNOWN}; key=`));
      assert.ok(honest.text.includes(`Signiert von ${KNOWN}`));

      const spoof = await relayedVerdict(inbound, `"<${KNOWN}>" <chef@bank.example>`, 2);
      assert.deepEqual(
        spoof.parsed.from?.value.map((a) => a.address),
        ['chef@bank.example'],
        'the reader shows chef as the sender',
      );
      assert.match(spoof.security, /^decrypted; signature=unknown-key; key-id=/);
      assert.ok(!spoof.text.includes(`Signiert von ${KNOWN}`), spoof.text);
    });
  });
}
