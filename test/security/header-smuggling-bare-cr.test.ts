import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import { testDbKinds } from '../helpers/db.ts';
import {
  replyCode,
  SENDER,
  SENDER_PASSWORD,
  startTestGateway,
  type TestGateway,
} from '../helpers/gateway.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { peer, pgpMimeMail } from '../helpers/peers.ts';
import { rawSmtpSession } from '../helpers/raw-smtp.ts';

/**
 * Header smuggling with a bare CR (issue 11, finding 3; DESIGN.md invariant 8). Our header parser splits
 * lines on LF; nodemailer turns a bare CR into CRLF when it relays. So `To: x\rX-Injected: y` was one
 * field to Sealpost and two to the next hop — outbound in the clear outer header of a PGP copy, inbound a
 * forged second `Sealpost-Security` verdict. Both listeners now refuse a bare CR in the header section
 * (550 5.6.0), and a decrypted payload's bare CR is a line end before its fields are looked at.
 * The attack bytes go over a raw SMTP client: nodemailer would normalise them on the way in.
 */
const FORGED = 'Sealpost-Security: decrypted; signature=valid; signer=chef@clinic.example; key=ABCD';
const PGP_RCPT = 'bob@clinic.example';

function securityFields(headerLines: readonly { key: string; line: string }[]): string[] {
  return headerLines.filter((h) => h.key === 'sealpost-security').map((h) => h.line);
}

for (const kind of testDbKinds()) {
  describe(`security: header smuggling with a bare CR (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestGateway | undefined;
    let inbound: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      await inbound?.close();
      gw = undefined;
      inbound = undefined;
    });

    it('submission: a bare CR in To is refused 550 GW_MESSAGE_AMBIGUOUS, nothing is spooled', async () => {
      gw = await startTestGateway({ kind });
      await gw.addRecipient(PGP_RCPT);
      const smtp = await rawSmtpSession(gw.ports.submissionPort, {
        starttls: true,
        auth: { user: SENDER, pass: SENDER_PASSWORD },
      });
      try {
        const attack = [
          `From: ${SENDER}`,
          `To: ${PGP_RCPT}\rX-Injected: y`,
          'Subject: Befund',
          '',
          'Text',
          '',
        ].join('\r\n');
        const reply = await smtp.send({ from: SENDER, to: [PGP_RCPT] }, attack);
        assert.equal(reply.code, 550, reply.text);
        assert.equal(replyCode(reply.text), 'GW_MESSAGE_AMBIGUOUS');
        assert.match(reply.text, /5\.6\.0/);
        assert.deepEqual(await gw.outbound(), [], 'nothing spooled');
        assert.match(gw.logText(), /"code":"GW_MESSAGE_AMBIGUOUS"[^\n]*"reason":"bare-cr"/);

        // CR CR LF: a relay makes it CRLF CRLF, an empty line that would end the header early.
        const early = `From: ${SENDER}\r\nSubject: a\r\r\nTo: ${PGP_RCPT}\r\n\r\nText\r\n`;
        assert.equal(
          replyCode((await smtp.send({ from: SENDER, to: [PGP_RCPT] }, early)).text),
          'GW_MESSAGE_AMBIGUOUS',
        );

        const ok = `From: ${SENDER}\r\nTo: ${PGP_RCPT}\r\nSubject: Befund\r\n\r\nText\r\n`;
        const after = await smtp.send({ from: SENDER, to: [PGP_RCPT] }, ok);
        assert.equal(replyCode(after.text), 'GW_ACCEPTED', 'the session goes on');
      } finally {
        smtp.close();
      }
    });

    it('inbound: a forged verdict behind a bare CR is refused 550 IN_MESSAGE_AMBIGUOUS', async () => {
      inbound = await startTestInbound({ kind });
      const smtp = await rawSmtpSession(inbound.port, { starttls: true });
      try {
        const attack = [
          'From: chef@clinic.example',
          `To: ${ANNA}`,
          `Subject: Befund\r${FORGED}`,
          '',
          'Bitte an mich.',
          '',
        ].join('\r\n');
        const reply = await smtp.send({ from: 'chef@clinic.example', to: [ANNA] }, attack);
        assert.equal(reply.code, 550, reply.text);
        assert.equal(replyCode(reply.text), 'IN_MESSAGE_AMBIGUOUS');
        const clean = attack.replace('\r' + FORGED, '');
        assert.equal(
          replyCode((await smtp.send({ from: 'chef@clinic.example', to: [ANNA] }, clean)).text),
          'IN_RELAYED',
        );
        const arrived = await inbound.sink.waitFor(1);
        assert.equal(arrived.length, 1, 'only the clean message reached the practice');
        const parsed = await simpleParser(arrived[0]!.raw);
        assert.deepEqual(securityFields(parsed.headerLines), ['Sealpost-Security: not-encrypted']);
      } finally {
        smtp.close();
      }
    });

    it('inbound, inside the encryption: a bare CR in a protected Subject forges no verdict', async () => {
      inbound = await startTestInbound({ kind });
      const payload = Buffer.from(
        [
          'Content-Type: text/plain; charset=utf-8; protected-headers="v1"',
          `Subject: Befund\r${FORGED}`,
          '',
          'Bitte an mich.',
          '',
        ].join('\r\n'),
        'latin1',
      );
      const armored = await peer.gpg.encrypt({ data: payload, to: inbound.publicKeys[ANNA]! });
      const mail = pgpMimeMail({ armored, from: 'chef@clinic.example', to: ANNA });
      const smtp = await rawSmtpSession(inbound.port, { starttls: true });
      try {
        const reply = await smtp.send({ from: 'chef@clinic.example', to: [ANNA] }, mail);
        assert.equal(replyCode(reply.text), 'IN_RELAYED');
      } finally {
        smtp.close();
      }
      const [got] = await inbound.sink.waitFor(1);
      const parsed = await simpleParser(got!.raw);
      assert.deepEqual(securityFields(parsed.headerLines), ['Sealpost-Security: decrypted; signature=none']);
      assert.equal(parsed.subject, 'Befund');
    });
  });
}
