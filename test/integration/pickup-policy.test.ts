import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { SENDER } from '../helpers/gateway.ts';
import { api, buildReply, linkId, tryUnlock, unlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/** Pickup options: replies decrypted into the practice's mailbox; the per-IP limit of wrong codes. */
describe('pickup options', function () {
  this.timeout(120_000);
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
  });

  async function pickup(s: Stack) {
    const info = await s.gw
      .transport()
      .sendMail({ from: SENDER, to: 'max@example.org', subject: 'S', text: 'T' });
    const msgs = await s.sink.waitFor(2);
    return {
      id: await linkId(msgs.find((m) => m.to[0] === 'max@example.org')!.raw),
      code: await consoleCode(s.web, 'max@example.org'),
      messageId: info.messageId,
    };
  }

  it('replyDelivery decrypt: the reply arrives readable, marked by Sealpost, signature verified', async () => {
    stack = await startStack({ kind: 'sqlite', config: { pickup: { replyDelivery: 'decrypt' } } });
    const { id, code, messageId } = await pickup(stack);
    const u = await unlock(stack.web, id, code);
    const senders = (await (await api(stack.web, u, '/senders')).json()).senders as {
      publicKey: string;
    }[];
    const attachment = randomBytes(5000);
    const message = await buildReply({
      u,
      senderPublicKey: senders[0]!.publicKey,
      inReplyTo: messageId,
      to: SENDER,
      text: 'Antwort im Klartext für die Praxis',
      attachment: { name: 'a.bin', bytes: attachment },
    });
    assert.equal((await api(stack.web, u, '/replies', { inReplyTo: id, message })).status, 202);
    const reply = (await stack.sink.waitFor(3))[2]!;
    assert.ok(reply.secure, 'delivered over TLS');
    const parsed = await simpleParser(reply.raw);
    assert.match(
      String(parsed.headers.get('sealpost-security')),
      new RegExp(`^decrypted; signature=valid; signer=${u.contact.address}; key=[0-9A-F]{40}$`),
    );
    const [line, blank, ...text] = parsed.text!.split('\n');
    assert.match(line!, /^\[Sealpost\] Verschlüsselt empfangen\. Signiert von max@example\.org /);
    assert.equal(blank, '');
    assert.equal(text.join('\n').trim(), 'Antwort im Klartext für die Praxis');
    assert.ok(Buffer.from(parsed.attachments[0]!.content).equals(attachment));
    assert.equal(parsed.inReplyTo, messageId);
  });

  it('limits wrong codes per IP address across contacts: then even the right code waits (429)', async () => {
    stack = await startStack({ kind: 'sqlite', config: { pickup: { unlockAttemptsPerIp: 3 } } });
    const { id, code } = await pickup(stack);
    for (let i = 0; i < 2; i++) assert.equal((await tryUnlock(stack.web, id, '2222-2222-22')).status, 401);
    assert.equal((await tryUnlock(stack.web, id, code)).status, 200, 'a right code does not count');
    assert.equal((await tryUnlock(stack.web, id, '2222-2222-22')).status, 401);
    const limited = await tryUnlock(stack.web, id, code);
    assert.equal(limited.status, 429);
    assert.equal(limited.body.code, 'PU_TOO_MANY_WRONG_CODES');
  });
});
