import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { simpleParser } from 'mailparser';
import { decryptAndVerify, parseEncryptionKey } from '../../keys/openpgp/index.ts';
import type { Workers } from '../../worker/index.ts';
import { SENDER, startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { extractArmoredPayload, gpgDecryptVerify, sqDecryptVerify } from '../helpers/interop.ts';
import { sharedRedis, uniquePrefix } from '../helpers/redis.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { testDbKinds } from '../helpers/db.ts';

/**
 * The whole path as a practice uses it: nodemailer (the mail client) → STARTTLS + AUTH → gateway →
 * database spool → BullMQ → worker → a real SMTP server standing in for the colleague's MX. What arrives
 * must decrypt and verify with openpgp.js, GnuPG and Sequoia, with the real subject inside only and the
 * HTML part and the attachment byte for byte.
 */
const COLLEAGUE = 'dr.weber@klinik.example';
const SUBJECT = 'Befund Müller – Termin nächste Woche';
const HTML = '<p>Grüße aus der Praxis — <b>vertraulich</b> ✓</p>';
const TEXT = 'Grüße aus der Praxis — vertraulich ✓';

function headerBlock(raw: Buffer): string {
  const text = raw.toString('latin1');
  const end = text.search(/\r?\n\r?\n/);
  return text.slice(0, end);
}

for (const kind of testDbKinds()) {
  describe(`end to end: mail client to the recipient's server (${kind})`, function () {
    this.timeout(120_000);
    let sink: Sink;
    let gw: TestGateway;
    let workers: Workers;

    beforeEach(async () => {
      sink = await startSink();
      const redis = await sharedRedis();
      const queuePrefix = uniquePrefix();
      // One composition (cli/sealpost.ts): the gateway and the worker share the queue, as in production.
      gw = await startTestGateway({
        kind,
        redis,
        config: { relay: sink.relayUrl, queuePrefix },
        services: ['worker'],
      });
      workers = gw.sealpost.workers!;
      await workers.start();
    });

    afterEach(async () => {
      await workers.close();
      await gw.close();
      await sink.close();
    });

    it('delivers signed PGP/MIME that openpgp.js, gpg and sq decrypt and verify', async () => {
      const colleague = await gw.addRecipient(COLLEAGUE);
      const attachment = randomBytes(50_000);
      const info = await gw.transport().sendMail({
        from: `Praxis Anna Berg <${SENDER}>`,
        to: COLLEAGUE,
        subject: SUBJECT,
        text: TEXT,
        html: HTML,
        attachments: [
          { filename: 'befund-ärztlich.pdf', content: attachment, contentType: 'application/pdf' },
        ],
      });
      assert.match(String(info.response), /^250 /);
      const [received] = await sink.waitFor(1);
      assert.ok(received);
      assert.deepEqual(received.to, [COLLEAGUE]);
      assert.equal(received.from, SENDER);
      assert.ok(received.secure, 'delivered over TLS');

      // Outside: routing headers, the obscured subject, nothing of the content.
      const outer = headerBlock(received.raw);
      assert.match(outer, /^Subject: \[\.\.\.\]$/m);
      assert.match(outer, /^Content-Type: multipart\/encrypted; protocol="application\/pgp-encrypted"/m);
      assert.match(outer, /^Autocrypt: addr=anna@praxis\.example; prefer-encrypt=mutual; keydata=/m);
      assert.match(
        outer,
        new RegExp(`^Message-ID: ${String(info.messageId).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'),
      );
      assert.ok(!received.raw.includes(Buffer.from('Befund')), 'subject text outside');
      assert.ok(!received.raw.includes(attachment.subarray(0, 32)), 'attachment bytes outside');

      const senderPublic = (await gw.keys.exportPublic(SENDER))!;
      const armored = extractArmoredPayload(received.raw);

      // openpgp.js (our own reading), gpg and sq (other implementations) must agree.
      const ours = await decryptAndVerify({
        armored,
        decryptionKey: colleague.privateKey,
        verificationKeys: [await parseEncryptionKey(senderPublic)],
        now: new Date(),
      });
      assert.ok(ours.verified, 'openpgp.js verifies the signature');
      const viaGpg = await gpgDecryptVerify({
        message: received.raw,
        recipientSecretKeyArmored: colleague.privateKey.key.armor(),
        senderPublicKeyArmored: senderPublic,
      });
      assert.ok(viaGpg.goodSignature, `gpg: ${viaGpg.diagnostics}`);
      const viaSq = await sqDecryptVerify({
        message: received.raw,
        recipientSecretKeyArmored: colleague.privateKey.key.armor(),
        senderPublicKeyArmored: senderPublic,
      });
      assert.ok(viaSq.goodSignature, `sq: ${viaSq.diagnostics}`);
      assert.ok(Buffer.from(ours.data).equals(viaGpg.plaintext), 'gpg plaintext equals openpgp.js plaintext');
      assert.ok(Buffer.from(ours.data).equals(viaSq.plaintext), 'sq plaintext equals openpgp.js plaintext');

      // Inside: the original entity with protected headers; the real subject; HTML and attachment exact.
      const inner = Buffer.from(ours.data);
      const innerHead = headerBlock(inner);
      assert.match(innerHead, /hp="cipher"/);
      assert.match(innerHead, /protected-headers="v1"/);
      assert.match(innerHead, /^HP-Outer: Subject: \[\.\.\.\]$/m);
      const parsed = await simpleParser(inner);
      assert.equal(parsed.subject, SUBJECT);
      assert.equal(parsed.messageId, info.messageId);
      assert.equal(parsed.html, HTML);
      assert.equal(parsed.text?.trim(), TEXT);
      assert.equal(parsed.attachments.length, 1);
      assert.equal(parsed.attachments[0]!.filename, 'befund-ärztlich.pdf');
      assert.ok(parsed.attachments[0]!.content.equals(attachment), 'attachment byte for byte');

      // The sender's own key can read the copy too (the sent folder stays readable to the practice).
      const senderKey = (await gw.keys.senderKey(SENDER))!;
      const forSender = await decryptAndVerify({
        armored,
        decryptionKey: senderKey.signer,
        verificationKeys: [await parseEncryptionKey(senderPublic)],
        now: new Date(),
      });
      assert.ok(Buffer.from(forSender.data).equals(inner));

      const rows = await gw.outbound();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.status, 'delivered');
    });

    it('a large message (spooled in chunks, streamed to the relay) arrives as a small one would', async () => {
      const colleague = await gw.addRecipient(COLLEAGUE);
      const send = async (attachment: Buffer) => {
        const info = await gw.transport().sendMail({
          from: SENDER,
          to: COLLEAGUE,
          subject: SUBJECT,
          text: TEXT,
          attachments: [{ filename: 'scan.pdf', content: attachment, contentType: 'application/pdf' }],
        });
        assert.match(String(info.response), /^250 /);
      };
      const big = randomBytes(3_500_000);
      await send(big);
      const [row] = await gw.outbound();
      assert.ok(row && row.chunks >= 4, `spooled in chunks (${row?.chunks})`);
      assert.equal(row.body.length, 0);
      await send(randomBytes(20_000));
      // Delivered in either order (two jobs): tell them apart by size.
      const [large, small] = [...(await sink.waitFor(2))].sort((a, b) => b.raw.length - a.raw.length);
      assert.ok(large && small && large.raw.length > 3_500_000 && small.raw.length < 100_000);

      // The same message layout either way: the header fields and the MIME parts around the armor.
      const skeleton = (raw: Buffer) =>
        raw
          .toString('latin1')
          .replace(/sealpost-[0-9a-f]{24}/g, 'BOUNDARY')
          .replace(/-----BEGIN PGP MESSAGE-----[\s\S]*-----END PGP MESSAGE-----/, 'ARMOR')
          .replace(/^(Date|Message-ID): .*$/gm, '$1: …');
      assert.equal(skeleton(large.raw), skeleton(small.raw));

      const senderPublic = (await gw.keys.exportPublic(SENDER))!;
      const viaGpg = await gpgDecryptVerify({
        message: large.raw,
        recipientSecretKeyArmored: colleague.privateKey.key.armor(),
        senderPublicKeyArmored: senderPublic,
      });
      assert.ok(viaGpg.goodSignature, `gpg: ${viaGpg.diagnostics}`);
      const parsed = await simpleParser(viaGpg.plaintext);
      assert.equal(parsed.subject, SUBJECT);
      assert.ok(parsed.attachments[0]!.content.equals(big), 'attachment byte for byte');

      // Delivered (marked just after the relay's 250): the row keeps no chunk.
      for (let i = 0; (await gw.outbound()).find((r) => r.id === row.id)?.status !== 'delivered'; i++) {
        assert.ok(i < 400, 'marked delivered');
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const left = await gw.testDb.db.kysely.selectFrom('outbound_chunks').selectAll().execute();
      assert.equal(left.length, 0);
    });

    it('sends one copy per recipient, and a Bcc recipient appears in no copy', async () => {
      const to = 'a@klinik.example';
      const cc = 'b@klinik.example';
      const bcc = 'hidden@klinik.example';
      const keys = new Map<string, Awaited<ReturnType<TestGateway['addRecipient']>>>();
      for (const address of [to, cc, bcc]) keys.set(address, await gw.addRecipient(address));
      const info = await gw.transport().sendMail({ from: SENDER, to, cc, bcc, subject: 'Dreier', text: 'x' });
      assert.deepEqual([...(info.accepted as string[])].sort(), [to, bcc, cc].sort());
      const received = await sink.waitFor(3);
      assert.equal(received.length, 3);
      const senderPublic = await parseEncryptionKey((await gw.keys.exportPublic(SENDER))!);
      for (const message of received) {
        assert.equal(message.to.length, 1, 'one envelope recipient per copy');
        const rcpt = message.to[0]!;
        assert.ok(!/^bcc:/im.test(headerBlock(message.raw)));
        const plain = await decryptAndVerify({
          armored: extractArmoredPayload(message.raw),
          decryptionKey: keys.get(rcpt)!.privateKey,
          verificationKeys: [senderPublic],
          now: new Date(),
        });
        const inner = Buffer.from(plain.data).toString('utf8');
        assert.ok(!inner.includes(bcc), `the copy for ${rcpt} must not name the Bcc recipient`);
      }
    });
  });
}
