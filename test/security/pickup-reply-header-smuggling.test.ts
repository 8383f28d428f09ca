import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { SENDER } from '../helpers/gateway.ts';
import { api, buildReply, linkId, unlock, type Unlocked } from '../helpers/pickup-client.ts';
import type { SinkMessage } from '../helpers/sink.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * The neighbours of header smuggling and of the unbound From on the reply path (issue 11, findings 3 and
 * 4). A pickup contact writes the inner message of a reply with any client it likes; with
 * `replyDelivery: decrypt` the worker opens it and hands it to the practice marked `Sealpost-Security:
 * decrypted; signature=valid …`. So the inner message passes the edge too (a bare CR hid a forged second
 * verdict field that the relay then made real), and its From must be the contact's own address (a
 * contact could have written `From: Direktion <direktion@bank.example>` next to "verified"). What fails
 * is delivered still encrypted, as any reply that cannot be opened. And the thread's Message-ID, which
 * came from the sender's client, goes into the reply's In-Reply-To only when it is one clean msg-id.
 */
const FORGED =
  'Sealpost-Security: decrypted by Sealpost; pickup reply from chef@clinic.example; signature=verified';

describe('security: pickup replies cannot smuggle header fields', function () {
  this.timeout(180_000);
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  async function pickup(s: Stack) {
    const info = await s.gw
      .transport()
      .sendMail({ from: SENDER, to: 'max@example.org', subject: 'S', text: 'T' });
    const msgs = await s.sink.waitFor(2);
    const id = await linkId(msgs.find((m) => m.to[0] === 'max@example.org')!.raw);
    const code = await consoleCode(s.web, 'max@example.org');
    return { id, messageId: info.messageId, u: await unlock(s.web, id, code) };
  }

  async function reply(s: Stack, u: Unlocked, id: string, messageId: string, head: string[]) {
    const senders = (await (await api(s.web, u, '/senders')).json()).senders as {
      publicKey: string;
    }[];
    const message = await buildReply({
      u,
      senderPublicKey: senders[0]!.publicKey,
      inReplyTo: messageId,
      to: SENDER,
      text: 'Antwort',
      head,
    });
    assert.equal((await api(s.web, u, '/replies', { inReplyTo: id, message })).status, 202);
  }

  it('a bare CR or a foreign From in the inner reply leaves it encrypted, with no verdict field', async () => {
    stack = await startStack({ kind: 'sqlite', config: { pickup: { replyDelivery: 'decrypt' } } });
    const { id, messageId, u } = await pickup(stack);
    const contact = `<${u.contact.address}>`;
    const cases = [
      [`From: ${contact}`, `To: <${SENDER}>`, `Subject: Re: Befund\r${FORGED}`],
      [`From: Direktion <direktion@bank.example>`, `To: <${SENDER}>`, 'Subject: Re: Befund'],
      [`From: "direktion@bank.example" ${contact}`, `To: <${SENDER}>`, 'Subject: Re: Befund'],
    ];
    for (const [i, head] of cases.entries()) {
      await reply(stack, u, id, messageId, head);
      const got: SinkMessage = (await stack.sink.waitFor(3 + i))[2 + i]!;
      const parsed = await simpleParser(got.raw);
      const verdicts = parsed.headerLines.filter((h) => h.key === 'sealpost-security');
      assert.deepEqual(verdicts, [], `case ${i}: no verdict on a reply that was not opened`);
      assert.match(got.raw.toString('latin1'), /multipart\/encrypted/);
      assert.ok(!got.raw.toString('utf8').includes('Antwort'), `case ${i}: still encrypted`);
    }
    // The control: the same contact's ordinary reply is opened.
    await reply(stack, u, id, messageId, [`From: ${contact}`, `To: <${SENDER}>`, 'Subject: Re: Befund']);
    const ok = await simpleParser((await stack.sink.waitFor(3 + cases.length))[2 + cases.length]!.raw);
    assert.match(
      String(ok.headers.get('sealpost-security')),
      new RegExp(`^decrypted; signature=valid; signer=${u.contact.address}; key=[0-9A-F]{40}$`),
    );
    assert.equal(ok.text?.split('\n').slice(2).join('\n').trim(), 'Antwort');
    assert.match(ok.text!, /^\[Sealpost\] Verschlüsselt empfangen\. Signiert von /);
  });

  it('a thread Message-ID with a line break is not copied into the reply header', async () => {
    stack = await startStack({ kind: 'sqlite' });
    const { id, messageId, u } = await pickup(stack);
    await stack.gw.deps.db.kysely
      .updateTable('pickups')
      .set({ message_id: '<thread@praxis.example>\rBcc: spy@evil.example' })
      .where('id', '=', id)
      .execute();
    await reply(stack, u, id, messageId, [`From: <${u.contact.address}>`, `To: <${SENDER}>`, 'Subject: Re']);
    const got = (await stack.sink.waitFor(3))[2]!;
    const parsed = await simpleParser(got.raw);
    assert.equal(parsed.headers.get('bcc'), undefined, 'no smuggled Bcc');
    assert.ok(!got.raw.toString('latin1').includes('spy@evil.example'));
    assert.equal(parsed.inReplyTo, undefined, 'no In-Reply-To from an unclean Message-ID');
  });
});
