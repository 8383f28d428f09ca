import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import {
  rawSmtp,
  replyCode,
  SENDER,
  SENDER_PASSWORD,
  startTestGateway,
  tryLogin,
  type TestGateway,
} from '../helpers/gateway.ts';

/**
 * Attacks on submission AUTH and the envelope sender (DESIGN.md "The gateway pipeline", steps 1 and 2):
 * credentials in clear, password guessing, sending as someone else, mail without a login.
 */
type SmtpErr = { responseCode?: number; response?: string };
const rejectsWith = (code: string, smtp: number) => (err: SmtpErr) => {
  assert.equal(replyCode(err.response), code, err.response);
  assert.equal(err.responseCode, smtp);
  return true;
};
const plain = (user: string, pass: string) => Buffer.from(`\0${user}\0${pass}`).toString('base64');

for (const kind of testDbKinds()) {
  describe(`security: submission auth (${kind})`, () => {
    let gw: TestGateway | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('offers no AUTH and refuses it before STARTTLS, so that no password crosses in clear', async () => {
      gw = await startTestGateway({ kind });
      const smtp = await rawSmtp(gw.ports.submissionPort);
      try {
        assert.match(smtp.greeting, /^220 sealpost\.test /);
        const ehlo = await smtp.command('EHLO client.example');
        assert.match(ehlo, /STARTTLS/);
        assert.doesNotMatch(ehlo, /AUTH/);
        assert.match(ehlo, /SIZE \d+/);
        const auth = await smtp.command(`AUTH PLAIN ${plain(SENDER, SENDER_PASSWORD)}`);
        assert.match(auth, /^5\d\d /);
        const mail = await smtp.command(`MAIL FROM:<${SENDER}>`);
        assert.match(mail, /^530 /);
        assert.equal(replyCode(mail), 'GW_AUTH_REQUIRED');
        assert.match(await smtp.command('VRFY anna'), /^5\d\d /);
      } finally {
        smtp.close();
      }
      assert.ok(!gw.logText().includes(SENDER_PASSWORD));
    });

    it('answers a wrong password with 535 and never logs the password', async () => {
      gw = await startTestGateway({ kind });
      const session = await gw.session();
      try {
        await assert.rejects(session.login(SENDER, 'wrong-password-123'), rejectsWith('GW_AUTH_FAILED', 535));
      } finally {
        session.close();
      }
      await assert.rejects(
        gw.transport({ user: 'nobody@praxis.example', pass: 'whatever-123' }).sendMail({
          envelope: { from: SENDER, to: ['x@y.example'] },
          raw: 'Subject: x\r\n\r\nx',
        }),
        rejectsWith('GW_AUTH_FAILED', 535),
      );
      const log = gw.logText();
      assert.ok(log.includes('GW_AUTH_FAILED') && log.includes(SENDER));
      assert.ok(!log.includes('wrong-password-123') && !log.includes('whatever-123'));
    });

    it('makes one (account, address) wait after N failed logins with 454, even with the right password', async () => {
      gw = await startTestGateway({ kind, limits: { authFailuresPerAccountIp: 3, authFailuresPerIp: 100 } });
      for (let i = 0; i < 3; i++) {
        const s = await gw.session();
        await assert.rejects(s.login(SENDER, `guess-number-${i}`), rejectsWith('GW_AUTH_FAILED', 535));
        s.close();
      }
      const s = await gw.session();
      try {
        await assert.rejects(s.login(SENDER, SENDER_PASSWORD), rejectsWith('GW_AUTH_RATE_LIMITED', 454));
      } finally {
        s.close();
      }
      // the same account from another address is not slowed (test/security/auth-lockout-from-outside.test.ts)
      assert.equal((await tryLogin(gw, { localAddress: '127.0.0.3' })).code, 'OK');
    });

    it('refuses an IP after N failed logins across accounts with 454', async () => {
      gw = await startTestGateway({ kind, limits: { authFailuresPerAccount: 100, authFailuresPerIp: 3 } });
      for (const user of ['a@praxis.example', 'b@praxis.example', 'c@praxis.example']) {
        const s = await gw.session();
        await assert.rejects(s.login(user, 'guess-password'), rejectsWith('GW_AUTH_FAILED', 535));
        s.close();
      }
      const s = await gw.session();
      try {
        await assert.rejects(s.login(SENDER, SENDER_PASSWORD), rejectsWith('GW_AUTH_RATE_LIMITED', 454));
      } finally {
        s.close();
      }
    });

    it("refuses MAIL FROM another user's address with 553", async () => {
      gw = await startTestGateway({ kind });
      await gw.users.add({ login: 'bert@praxis.example', password: 'bert-password-1' }, new Date());
      await gw.keys.generateSenderKey('bert@praxis.example');
      await gw.addRecipient('bob@clinic.example');
      for (const from of ['bert@praxis.example', 'chef@praxis.example', 'ANNA@praxis.example.evil']) {
        await assert.rejects(
          gw
            .transport()
            .sendMail({ envelope: { from, to: ['bob@clinic.example'] }, raw: 'Subject: x\r\n\r\nx' }),
          rejectsWith('GW_SENDER_NOT_ALLOWED', 553),
        );
      }
      // the null sender is for bounces, not for people
      const s = await gw.session();
      try {
        await s.login();
        await assert.rejects(
          s.send({ from: '', to: ['bob@clinic.example'] }, 'Subject: x\r\n\r\nx'),
          rejectsWith('GW_SENDER_NOT_ALLOWED', 553),
        );
      } finally {
        s.close();
      }
      assert.equal((await gw.outbound()).length, 0);
    });

    it('refuses MAIL FROM without AUTH, after STARTTLS too', async () => {
      gw = await startTestGateway({ kind });
      await gw.addRecipient('bob@clinic.example');
      const s = await gw.session();
      try {
        await assert.rejects(
          s.send({ from: SENDER, to: ['bob@clinic.example'] }, 'Subject: x\r\n\r\nx'),
          rejectsWith('GW_AUTH_REQUIRED', 530),
        );
      } finally {
        s.close();
      }
      assert.equal((await gw.outbound()).length, 0);
    });

    it('refuses a syntactically bad envelope address with 501', async () => {
      gw = await startTestGateway({ kind });
      await gw.users.addAddress(SENDER, 'anna@praxis', new Date()).catch(() => undefined);
      await assert.rejects(
        gw.transport().sendMail({
          envelope: { from: 'anna@praxis', to: ['bob@clinic.example'] },
          raw: 'Subject: x\r\n\r\nx',
        }),
        rejectsWith('GW_BAD_ADDRESS', 501),
      );
    });
  });
}
