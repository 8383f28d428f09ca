import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { ContactStore } from '../../keys/index.ts';
import { decryptAndVerify, generateKeyPair } from '../../keys/openpgp/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { extractArmoredPayload } from '../helpers/interop.ts';
import {
  api,
  buildReply,
  linkId,
  mailText,
  metadata,
  readMessage,
  tryUnlock,
  unlock,
} from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * Secure pickup through the real stack (gateway → spool → worker → SMTP sink; webmail API), with the
 * browser's side done in Node by the shared derivation (the Chromium tests drive the real app).
 */
const MAX = 'max@example.org';
const SUBJECT = 'Ihr Befund – vertraulich';
const BODY = 'Sehr geehrter Herr Max, anbei der Befund. Vertraulich!';

for (const kind of testDbKinds()) {
  describe(`pickup: keyless recipients read in the browser (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    const send = (extra: Record<string, unknown> = {}) =>
      stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: SUBJECT, text: BODY, ...extra });
    async function firstPickup(attachment?: Buffer) {
      const info = await send(
        attachment ? { attachments: [{ filename: 'befund.pdf', content: attachment }] } : {},
      );
      assert.match(String(info.response), /^250 /);
      const msgs = await stack.sink.waitFor(2);
      const notification = msgs.find((m) => m.to[0] === MAX)!;
      const receipt = msgs.find((m) => m.to[0] === SENDER)!;
      return {
        id: await linkId(notification.raw),
        code: await consoleCode(stack.web, MAX),
        notification,
        receipt,
        info,
      };
    }

    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it("accepts, notifies the recipient without content, and keeps the code for the sender's console", async () => {
      const { notification, receipt, id } = await firstPickup();
      const n = await mailText(notification.raw);
      assert.match(n.subject, /Vertrauliche Nachricht von/);
      assert.ok(!n.text.includes(SUBJECT) && !n.subject.includes('Befund'), 'no subject in the notification');
      assert.ok(!notification.raw.toString('latin1').includes('Befund'));
      assert.match(n.text, new RegExp(`${stack.web}/p/${id}`));
      assert.doesNotMatch(n.text, /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/, 'no code in the notification');
      const r = await mailText(receipt.raw);
      // The code waits in her console (docs/console.md); the receipt only links there.
      assert.doesNotMatch(r.text, /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/, 'no code in the receipt');
      assert.match(r.text, new RegExp(`^${stack.web}/console$`, 'm'));
      assert.match(await consoleCode(stack.web, MAX), /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/);
      assert.ok(!r.text.includes('Befund'), 'no subject in the receipt');
      assert.equal(receipt.from, '', 'the receipt is sent with the null sender');
      const meta = await metadata(stack.web, id);
      assert.equal(meta.status, 200);
      assert.equal((meta.body.contact as { secretKind: string }).secretKind, 'code');
      assert.ok(!JSON.stringify(meta.body).includes('Befund'));
    });

    it('unlocks with the code (any case, no dashes), decrypts and verifies; the attachment matches', async () => {
      const pdf = randomBytes(30_000);
      const { id, code } = await firstPickup(pdf);
      const u = await unlock(stack.web, id, code.replace(/-/g, ' ').toLowerCase());
      const list = (await (await api(stack.web, u, '/messages')).json()).messages as { id: string }[];
      assert.deepEqual(
        list.map((m) => m.id),
        [id],
      );
      const msg = await readMessage(stack.web, u, id);
      assert.ok(msg.verified, 'signed by the sender');
      assert.equal(msg.parsed.subject, SUBJECT);
      assert.equal(msg.parsed.text?.trim(), BODY);
      assert.ok(Buffer.from(msg.parsed.attachments[0]!.content).equals(pdf));
    });

    it('sends no second receipt and keeps one inbox for later messages', async () => {
      const { id, code } = await firstPickup();
      await send({ subject: 'Zweite Nachricht' });
      const all = await stack.sink.waitFor(3);
      assert.equal(all.filter((m) => m.to[0] === SENDER).length, 1, 'one receipt only');
      const u = await unlock(stack.web, id, code);
      const list = (await (await api(stack.web, u, '/messages')).json()).messages as unknown[];
      assert.equal(list.length, 2);
    });

    it('locks after five wrong codes; the right code is refused then; unlock clears it', async () => {
      const { id, code } = await firstPickup();
      const wrong = code.startsWith('2') ? '3333-3333-33' : '2222-2222-22';
      for (let left = 4; left >= 1; left--) {
        const r = await tryUnlock(stack.web, id, wrong);
        assert.equal(r.status, 401);
        assert.equal(r.body.code, 'PU_BAD_CODE');
        assert.equal(r.body.attemptsLeft, left);
      }
      assert.equal((await tryUnlock(stack.web, id, wrong)).status, 423);
      const right = await tryUnlock(stack.web, id, code);
      assert.equal(right.status, 423);
      assert.equal(right.body.code, 'PU_LOCKED');
      assert.equal(((await metadata(stack.web, id)).body.contact as { locked: boolean }).locked, true);
      await new ContactStore({ db: stack.gw.testDb.db.kysely, clock: stack.gw.deps.clock }).unlock(
        MAX,
        'test',
      );
      assert.equal((await tryUnlock(stack.web, id, code)).status, 200);
    });

    it('a new code makes a new key: old messages are marked unreadable, new ones open', async () => {
      const { id, code } = await firstPickup();
      const contacts = new ContactStore({
        db: stack.gw.testDb.db.kysely,
        clock: stack.gw.deps.clock,
        crypto: stack.gw.deps.crypto,
      });
      const again = await contacts.reissue(MAX, 'test');
      assert.ok(again);
      assert.deepEqual(
        again.stale.map((s) => s.id),
        [id],
      );
      assert.equal((await tryUnlock(stack.web, id, code)).status, 401);
      assert.equal((await metadata(stack.web, id)).body.readable, false);
      await send({ subject: 'Neu' });
      const msgs = await stack.sink.waitFor(3);
      const id2 = await linkId(msgs.filter((m) => m.to[0] === MAX)[1]!.raw);
      const u = await unlock(stack.web, id2, again.code);
      assert.equal((await readMessage(stack.web, u, id2)).parsed.subject, 'Neu');
    });

    it('relays a reply with an attachment to the sender as PGP/MIME, threaded', async () => {
      const { id, code, info } = await firstPickup();
      const u = await unlock(stack.web, id, code);
      const senders = (await (await api(stack.web, u, '/senders')).json()).senders as {
        address: string;
        publicKey: string;
      }[];
      const attachment = randomBytes(20_000);
      const message = await buildReply({
        u,
        senderPublicKey: senders[0]!.publicKey,
        inReplyTo: info.messageId,
        to: SENDER,
        text: 'Danke, Max',
        attachment: { name: 'antwort.bin', bytes: attachment },
      });
      const res = await api(stack.web, u, '/replies', { inReplyTo: id, message });
      assert.equal(res.status, 202);
      const msgs = await stack.sink.waitFor(3);
      const reply = msgs[2]!;
      assert.deepEqual(reply.to, [SENDER]);
      const outer = await simpleParser(reply.raw);
      assert.equal(outer.subject, '[...]');
      assert.equal(outer.inReplyTo, info.messageId);
      const anna = (await stack.gw.keys.senderKey(SENDER))!;
      const opened = await decryptAndVerify({
        armored: extractArmoredPayload(reply.raw),
        decryptionKey: anna.signer,
        verificationKeys: [{ fingerprint: u.privateKey.fingerprint, key: u.privateKey.publicKey }],
        now: new Date(),
      });
      assert.ok(opened.verified, 'signed by the contact key');
      const inner = await simpleParser(Buffer.from(opened.data));
      assert.equal(inner.text?.trim(), 'Danke, Max');
      assert.ok(Buffer.from(inner.attachments[0]!.content).equals(attachment));
    });

    it('refuses a reply that is not encrypted to the sender', async () => {
      const { id, code } = await firstPickup();
      const u = await unlock(stack.web, id, code);
      const stranger = await generateKeyPair({ address: 'x@y.org', now: new Date() });
      const message = await buildReply({
        u,
        senderPublicKey: stranger.publicKey,
        inReplyTo: '<a@b>',
        to: SENDER,
        text: 'x',
      });
      const res = await api(stack.web, u, '/replies', { inReplyTo: id, message });
      assert.equal(res.status, 400);
      assert.equal((await res.json()).code, 'PU_REPLY_INVALID');
      const garbage = await api(stack.web, u, '/replies', { inReplyTo: id, message: 'hello' });
      assert.equal(garbage.status, 400);
    });

    it('an own key registered in the pickup sends the next message as PGP/MIME', async () => {
      const { id, code } = await firstPickup();
      const u = await unlock(stack.web, id, code);
      const own = await generateKeyPair({ address: MAX, now: new Date() });
      const res = await api(stack.web, u, '/key', { publicKey: own.publicKey });
      assert.equal(res.status, 200);
      const foreign = await generateKeyPair({ address: 'other@example.org', now: new Date() });
      assert.equal((await api(stack.web, u, '/key', { publicKey: foreign.publicKey })).status, 400);
      await send({ subject: 'Jetzt mit Schlüssel' });
      const msgs = await stack.sink.waitFor(3);
      assert.match(msgs[2]!.raw.toString('latin1'), /multipart\/encrypted/);
    });

    it('logout ends the session; requests without one get 401; POSTs need JSON from our origin', async () => {
      const { id, code } = await firstPickup();
      const u = await unlock(stack.web, id, code);
      assert.match(u.cookie, /^sp_session=/);
      assert.equal((await api(stack.web, { cookie: '', sessionKey: '' }, '/messages')).status, 401);
      const form = await fetch(`${stack.web}/api/pickup/${id}/unlock`, { method: 'POST', body: 'authKey=x' });
      assert.equal(form.status, 415);
      const cross = await fetch(`${stack.web}/api/pickup/${id}/unlock`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', origin: 'https://evil.example' },
        body: '{}',
      });
      assert.equal(cross.status, 403);
      assert.equal((await api(stack.web, u, '/logout', {})).status, 200);
      assert.equal((await api(stack.web, u, '/messages')).status, 401);
    });
  });
}
