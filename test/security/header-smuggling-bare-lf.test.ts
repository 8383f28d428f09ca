import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import PostalMime from 'postal-mime';
import { decryptAndVerify } from '../../keys/openpgp/index.ts';
import { splitMessage } from '../../keys/mime/mime.ts';
import { testDbKinds } from '../helpers/db.ts';
import {
  replyCode,
  SENDER,
  SENDER_PASSWORD,
  startTestGateway,
  type TestGateway,
} from '../helpers/gateway.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { rawSmtpSession } from '../helpers/raw-smtp.ts';

/**
 * A bare LF (issue 11, finding 3). Unlike a bare CR it is a line end for every reader — our parser,
 * nodemailer (which sends it as CRLF), mailparser, postal-mime — so a mail from a Unix tool that writes LF
 * only is accepted. But the copies Sealpost builds must carry the lines the relay carries: the edge rewrites
 * every bare LF to CRLF, so that the encrypted payload (which no relay normalises) holds the same lines as
 * the clear outer header, and a field after a bare LF is a field (and is stripped, when it is a forged
 * verdict) for every reader.
 */
const PGP_RCPT = 'bob@clinic.example';
const FORGED = 'Sealpost-Security: decrypted; signature=valid; signer=chef@clinic.example; key=ABCD';

function armor(copy: Buffer): string {
  const m = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(copy.toString('latin1'));
  assert.ok(m, 'an armored message');
  return m[0];
}

function hasBareLf(bytes: Buffer): boolean {
  for (let i = bytes.indexOf(0x0a); i >= 0; i = bytes.indexOf(0x0a, i + 1))
    if (bytes[i - 1] !== 0x0d) return true;
  return false;
}

for (const kind of testDbKinds()) {
  describe(`security: header smuggling with a bare LF (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestGateway | undefined;
    let inbound: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      await inbound?.close();
      gw = undefined;
      inbound = undefined;
    });

    it('submission: LF-only mail is accepted and its encrypted payload has the same CRLF lines', async () => {
      gw = await startTestGateway({ kind });
      const bob = await gw.addRecipient(PGP_RCPT);
      const smtp = await rawSmtpSession(gw.ports.submissionPort, {
        starttls: true,
        auth: { user: SENDER, pass: SENDER_PASSWORD },
      });
      try {
        const raw = `From: ${SENDER}\nTo: ${PGP_RCPT}\r\nSubject: Befund\nX-Note: y\n\nZeile 1\nZeile 2\n`;
        const reply = await smtp.send({ from: SENDER, to: [PGP_RCPT] }, raw);
        assert.equal(replyCode(reply.text), 'GW_ACCEPTED', reply.text);
      } finally {
        smtp.close();
      }
      const [row] = await gw.outbound();
      const copy = gw.openBody(row!);
      const { data } = await decryptAndVerify({
        armored: armor(copy),
        decryptionKey: bob.privateKey,
        verificationKeys: [],
        now: new Date(),
      });
      const payload = Buffer.from(data);
      assert.ok(!hasBareLf(payload), 'the payload has CRLF line ends only');
      assert.ok(!hasBareLf(copy), 'the copy has CRLF line ends only');
      const ours = splitMessage(payload).fields.map((f) => f.lower);
      const theirs = (await simpleParser(payload)).headerLines.map((h) => h.key);
      const postal = (await PostalMime.parse(payload)).headers.map((h) => h.key);
      assert.ok(ours.includes('x-note'));
      assert.deepEqual(ours, theirs, 'mailparser sees the same fields');
      assert.deepEqual(ours, postal, 'postal-mime sees the same fields');
      assert.match(payload.toString('utf8'), /\r\n\r\nZeile 1\r\nZeile 2\r\n/);
    });

    it('inbound: a forged verdict behind a bare LF is a field, and is stripped', async () => {
      inbound = await startTestInbound({ kind });
      const smtp = await rawSmtpSession(inbound.port, { starttls: true });
      try {
        const raw = `From: chef@clinic.example\r\nTo: ${ANNA}\r\nSubject: Befund\n${FORGED}\r\n\r\nText\r\n`;
        const reply = await smtp.send({ from: 'chef@clinic.example', to: [ANNA] }, raw);
        assert.equal(replyCode(reply.text), 'IN_RELAYED', reply.text);
      } finally {
        smtp.close();
      }
      const [got] = await inbound.sink.waitFor(1);
      const fields = (await simpleParser(got!.raw)).headerLines.filter((h) => h.key === 'sealpost-security');
      assert.deepEqual(
        fields.map((h) => h.line),
        ['Sealpost-Security: not-encrypted'],
      );
    });
  });
}
