import assert from 'node:assert/strict';
import { readFileSync, existsSync } from 'node:fs';
import { simpleParser } from 'mailparser';
import {
  encryptAndSign,
  generateKeyPair,
  parseEncryptionKey,
  parseSigningKey,
} from '../../keys/openpgp/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { until } from '../helpers/lifecycle.ts';
import { consoleCode } from '../helpers/console.ts';
import { api, buildReply, linkId, unlock, type Unlocked } from '../helpers/pickup-client.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Issue 13, "replies she can read": a reply written on the pickup page reaches the practice's own mail
 * server (SEALPOST_INBOUND_RELAY, over TLS) decrypted with her sender key, carrying the same
 * `Sealpost-Security` verdict field and visible line as an encrypted reply from a colleague through the
 * inbound listener — `signature=valid` for the contact's key, `unknown-key` for a reply signed by any
 * other key. Without an inbound relay the reply goes out PGP/MIME to her key, as before. Everything real:
 * gateway, worker, webmail, Redis, the database, and two SMTP sinks (the delivery relay, the practice).
 */
const MAX = 'max@example.org';
const TEXT = 'Antwort im Klartext für die Praxis';

for (const kind of testDbKinds()) {
  describe(`pickup reply to the practice's own mail server (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack | undefined;
    let practice: Sink | undefined;
    afterEach(async () => {
      await stack?.close();
      await practice?.close();
      stack = practice = undefined;
    });

    async function opened(s: Stack): Promise<{ id: string; messageId: string; u: Unlocked }> {
      const info = await s.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'T' });
      const msgs = await s.sink.waitFor(2);
      const id = await linkId(msgs.find((m) => m.to[0] === MAX)!.raw);
      const code = await consoleCode(s.web, MAX);
      return { id, messageId: info.messageId, u: await unlock(s.web, id, code) };
    }

    async function senderKey(s: Stack, u: Unlocked): Promise<string> {
      const body = (await (await api(s.web, u, '/senders')).json()) as { senders: { publicKey: string }[] };
      return body.senders[0]!.publicKey;
    }

    async function withPractice(): Promise<Stack> {
      practice = await startSink();
      stack = await startStack({ kind, config: { inboundRelay: practice.relayUrl } });
      return stack;
    }

    it('arrives decrypted over TLS with signature=valid for the contact key, as an inbound reply', async () => {
      const s = await withPractice();
      const { id, messageId, u } = await opened(s);
      const message = await buildReply({
        u,
        senderPublicKey: await senderKey(s, u),
        inReplyTo: messageId,
        to: SENDER,
        text: TEXT,
      });
      assert.equal((await api(s.web, u, '/replies', { inReplyTo: id, message })).status, 202);
      const [got] = await practice!.waitFor(1);
      assert.ok(got!.secure, 'delivered to the practice over TLS');
      assert.deepEqual(got!.to, [SENDER]);
      const head = got!.raw.toString('utf8').split('\r\n\r\n')[0]!.split('\r\n');
      const fields = head.filter((l) => /^sealpost-security:/i.test(l));
      assert.deepEqual(fields, [
        `Sealpost-Security: decrypted; signature=valid; signer=${MAX}; key=${u.contact.fingerprint}`,
      ]);
      const parsed = await simpleParser(got!.raw);
      assert.equal(parsed.from?.value[0]?.address, MAX);
      assert.equal(parsed.inReplyTo, messageId);
      const [line, blank, ...text] = parsed.text!.split('\n');
      const grouped = u.contact.fingerprint.replace(/(.{4})(?=.)/g, '$1 ');
      assert.equal(
        line,
        `[Sealpost] Verschlüsselt empfangen. Signiert von ${MAX} (Schlüssel ${grouped}, Signatur geprüft).`,
      );
      assert.equal(blank, '');
      assert.equal(text.join('\n').trim(), TEXT);
      // Only the practice's server got it: the delivery relay holds the notification and the receipt.
      assert.equal(s.sink.messages.length, 2);
      assert.match(String(parsed.messageId), /^<.+>$/);
    });

    it('keeps its spool Message-ID when delivered again, and nothing decrypted is left at rest', async () => {
      const s = await withPractice();
      const { id, messageId, u } = await opened(s);
      const message = await buildReply({
        u,
        senderPublicKey: await senderKey(s, u),
        inReplyTo: messageId,
        to: SENDER,
        text: TEXT,
      });
      assert.equal((await api(s.web, u, '/replies', { inReplyTo: id, message })).status, 202);
      const [first] = await practice!.waitFor(1);
      const replyRow = async () => (await s.gw.outbound()).find((r) => r.kind === 'reply')!;
      await until(
        'the reply is recorded as delivered',
        async () => (await replyRow()).status === 'delivered',
      );
      const row = await replyRow();
      assert.equal((await simpleParser(first!.raw)).messageId, row.message_id);
      // The same row once more (a retry whose first attempt the database never recorded): the same id.
      await s.gw.deps.db.kysely
        .updateTable('outbound')
        .set({ status: 'queued', body: s.gw.deps.sealer.seal('spool', [Buffer.from(message)], row.id) })
        .where('id', '=', row.id)
        .execute();
      await until('a new delivery job', async () => (await s.workers.reconcile()).added === 1);
      const again = (await practice!.waitFor(2))[1]!;
      assert.equal((await simpleParser(again.raw)).messageId, row.message_id);
      await until('delivered again', async () => (await replyRow()).status === 'delivered');
      // Decrypted for this attempt only: not in the database (file, WAL) nor in the data folder's outbox.
      const file = s.gw.testDb.file;
      // (The decrypted copy's own header says `signature=valid` in clear; its text may be base64.)
      for (const f of file ? [file, `${file}-wal`] : []) {
        if (!existsSync(f)) continue;
        const bytes = readFileSync(f);
        for (const needle of [TEXT, 'signature=valid', 'Verschlüsselt empfangen'])
          assert.ok(!bytes.includes(Buffer.from(needle, 'utf8')), `${needle} in ${f}`);
      }
    });

    it('a reply signed by another key than the contact key is marked unknown-key, not valid', async () => {
      const s = await withPractice();
      const { id, messageId, u } = await opened(s);
      const other = await generateKeyPair({ address: MAX, now: new Date() });
      const forger = await parseSigningKey(other.privateKey);
      const inner = [
        `From: <${MAX}>`,
        `To: <${SENDER}>`,
        'Subject: Re: Befund',
        `In-Reply-To: ${messageId}`,
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=utf-8',
        '',
        TEXT,
        '',
      ].join('\r\n');
      const message = await encryptAndSign({
        data: Buffer.from(inner, 'utf8'),
        to: [
          await parseEncryptionKey(await senderKey(s, u)),
          { fingerprint: u.privateKey.fingerprint, key: u.privateKey.publicKey },
        ],
        signer: forger,
        now: new Date(),
      });
      assert.equal((await api(s.web, u, '/replies', { inReplyTo: id, message })).status, 202);
      const [got] = await practice!.waitFor(1);
      const parsed = await simpleParser(got!.raw);
      const verdict = String(parsed.headers.get('sealpost-security'));
      assert.match(verdict, /^decrypted; signature=unknown-key; key-id=[0-9A-F]{16}$/);
      assert.ok(other.fingerprint.endsWith(verdict.slice(-16)), 'names the key that really signed');
      assert.doesNotMatch(got!.raw.toString('utf8'), /signature=valid|Signatur geprüft/);
      assert.match(
        parsed.text!,
        /^\[Sealpost\] Verschlüsselt empfangen\. Signiert mit einem unbekannten Schlüssel/,
      );
    });

    it('a reply that cannot be opened for her reaches the practice still encrypted, marked not-decrypted', async () => {
      const s = await withPractice();
      const { id, messageId, u } = await opened(s);
      // An inner From that is not the contact: never decrypted for the practice (pickup.md "Replies").
      const message = await buildReply({
        u,
        senderPublicKey: await senderKey(s, u),
        inReplyTo: messageId,
        to: SENDER,
        text: TEXT,
        head: ['From: Direktion <direktion@bank.example>', `To: <${SENDER}>`, 'Subject: Re: Befund'],
      });
      assert.equal((await api(s.web, u, '/replies', { inReplyTo: id, message })).status, 202);
      const [got] = await practice!.waitFor(1);
      const head = got!.raw.toString('latin1').split('\r\n\r\n')[0]!.split('\r\n');
      assert.deepEqual(
        head.filter((l) => /^sealpost-security:/i.test(l)),
        ['Sealpost-Security: not-decrypted; reason=failed'],
      );
      assert.match(got!.raw.toString('latin1'), /Content-Type: multipart\/encrypted;/);
      assert.doesNotMatch(got!.raw.toString('utf8'), /Antwort im Klartext|direktion@bank/);
    });

    it('without an inbound relay the reply goes out PGP/MIME to her key, as before', async () => {
      stack = await startStack({ kind });
      const s = stack;
      const { id, messageId, u } = await opened(s);
      const message = await buildReply({
        u,
        senderPublicKey: await senderKey(s, u),
        inReplyTo: messageId,
        to: SENDER,
        text: TEXT,
      });
      assert.equal((await api(s.web, u, '/replies', { inReplyTo: id, message })).status, 202);
      const got = (await s.sink.waitFor(3))[2]!;
      assert.deepEqual(got.to, [SENDER]);
      const raw = got.raw.toString('utf8');
      assert.match(raw, /Content-Type: multipart\/encrypted;/);
      assert.match(raw, /-----BEGIN PGP MESSAGE-----/);
      assert.doesNotMatch(raw, /Sealpost-Security|Antwort im Klartext/);
    });
  });
}
