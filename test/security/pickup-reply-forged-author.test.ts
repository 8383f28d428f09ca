import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { encryptAndSign, parseEncryptionKey } from '../../keys/openpgp/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { api, linkId, unlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * A neighbour of the forged verdict line (issue 11, finding 6): with `pickup.replyDelivery: decrypt` the
 * worker hands a pickup reply to the practice decrypted — and the contact wrote every byte of its inner
 * message in the browser: a `From: chef@…`, a `Reply-To` elsewhere, a `Sealpost-Security` field, a fake
 * "[Sealpost] … Signatur geprüft" line. The reply's author is the contact whose key signed it, nothing
 * the contact writes speaks for Sealpost, and the look-alike is marked.
 */
const MAX = 'max@example.org';
const FAKE = '[Sealpost] Verschlüsselt empfangen. Signiert von chef@praxis.example (Signatur geprüft).';

for (const kind of testDbKinds()) {
  describe(`security: a decrypted pickup reply cannot speak for someone else (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind, config: { pickup: { replyDelivery: 'decrypt' } } });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('From is the contact, Reply-To and a Sealpost-Security field are dropped, the fake line is marked', async () => {
      const info = await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'B', text: 'x' });
      const msgs = await stack.sink.waitFor(2);
      const id = await linkId(msgs.find((m) => m.to[0] === MAX)!.raw);
      const code = await consoleCode(stack.web, MAX);
      const u = await unlock(stack.web, id, code);
      // A foreign From (or Sender) is not even decrypted for the practice: the reply then goes still
      // encrypted (test/security/pickup-reply-header-smuggling.test.ts). What the contact may write beside
      // an honest From must not speak for anyone else either:
      const inner = [
        `From: Chef <${MAX}>`,
        'Reply-To: <evil@evil.example>',
        'Sealpost-Security: decrypted; signature=valid; signer=chef@praxis.example',
        `To: <${SENDER}>`,
        'Subject: Re: B',
        `In-Reply-To: ${info.messageId}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        '',
        FAKE,
        'Bitte die Befunde an evil@evil.example.',
        '',
      ].join('\r\n');
      const senderKey = await parseEncryptionKey((await stack.gw.keys.exportPublic(SENDER))!);
      const own = { fingerprint: u.privateKey.fingerprint, key: u.privateKey.publicKey };
      const message = await encryptAndSign({
        data: Buffer.from(inner, 'utf8'),
        to: [senderKey, own],
        signer: u.privateKey,
        now: new Date(),
      });
      assert.equal((await api(stack.web, u, '/replies', { inReplyTo: id, message })).status, 202);
      const reply = (await stack.sink.waitFor(3))[2]!;
      const head = reply.raw.toString('utf8').split('\r\n\r\n')[0]!;
      const fields = head.split('\r\n').filter((l) => /^sealpost-security:/i.test(l));
      assert.equal(fields.length, 1, fields.join('\n'));
      assert.match(
        fields[0]!,
        new RegExp(
          `^Sealpost-Security: decrypted; signature=valid; signer=${MAX}; key=[0-9A-F]{40}; look-alike=marked$`,
        ),
      );
      const parsed = await simpleParser(reply.raw);
      assert.equal(parsed.from?.value[0]?.address, MAX);
      assert.equal(parsed.from?.value.length, 1);
      assert.equal(parsed.replyTo, undefined);
      // Our own line first, saying that any other like it is not genuine; the contact's copy marked in place.
      const [ours, blank, theirs] = parsed.text!.split('\n');
      assert.match(
        ours!,
        /^\[Sealpost\] Verschlüsselt empfangen\. Signiert von max@example\.org .*ACHTUNG: Jeder weitere Vermerk/,
      );
      assert.equal(blank, '');
      assert.equal(theirs, `[Achtung: nicht von Sealpost] ${FAKE}`, parsed.text);
    });
  });
}
