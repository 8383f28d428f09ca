import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { rawSmtp } from '../helpers/gateway.ts';
import { ANNA, failure, startTestInbound, type TestInbound } from '../helpers/inbound.ts';

/**
 * Open relay: the inbound listener is an MX that anyone on the internet may talk to without AUTH. It must
 * take mail only for the practice's own addresses — a foreign domain gets 550 5.7.1, an unknown address of
 * a local domain 550 5.1.1 — whatever tricks the address uses, and nothing of it reaches the relay.
 */
const MAIL = 'From: a@evil.example\r\nTo: x@victim.example\r\nSubject: spam\r\n\r\nspam\r\n';

for (const kind of testDbKinds()) {
  describe(`security: the inbound listener is not an open relay (${kind})`, function () {
    this.timeout(60_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    const refused = async (rcpt: string, code: RegExp) => {
      await assert.rejects(gw!.send({ from: 'a@evil.example', to: [rcpt] }, MAIL), (err) => {
        assert.match(failure(err).response ?? '', code, rcpt);
        return true;
      });
    };

    it('refuses foreign domains (5.7.1) and unknown local addresses (5.1.1)', async () => {
      gw = await startTestInbound({ kind });
      await refused('x@victim.example', /^550 5\.7\.1 .*\[IN_RELAY_DENIED\]$/);
      await refused('anna@praxis.example.victim.example', /^550 5\.7\.1 .*\[IN_RELAY_DENIED\]$/);
      await refused('"anna@praxis.example"@victim.example', /^5\d\d /);
      await refused('nobody@praxis.example', /^550 5\.1\.1 .*\[IN_UNKNOWN_RECIPIENT\]$/);
      await refused('x%victim.example@praxis.example', /^550 5\.1\.1 .*\[IN_UNKNOWN_RECIPIENT\]$/);
      await refused('anna@praxis.example@victim.example', /^5\d\d /);
      assert.equal(gw.sink.messages.length, 0);
    });

    it('refuses source routes and AUTH, and answers RCPT to a foreign domain 550 in the raw dialogue', async () => {
      gw = await startTestInbound({ kind });
      const smtp = await rawSmtp(gw.port);
      try {
        assert.match(await smtp.command('EHLO mx.evil.example'), /^250/);
        assert.match(await smtp.command('AUTH PLAIN AGFAYg=='), /^5\d\d /);
        assert.match(await smtp.command('MAIL FROM:<a@evil.example>'), /^250/);
        assert.match(await smtp.command('RCPT TO:<@praxis.example:x@victim.example>'), /^5\d\d /);
        assert.match(await smtp.command('RCPT TO:<x@victim.example>'), /^550 5\.7\.1 /);
        assert.match(await smtp.command(`RCPT TO:<${ANNA}>`), /^250/);
      } finally {
        smtp.close();
      }
    });

    it('with inbound.localDomains, a sender address of another domain is foreign too', async () => {
      gw = await startTestInbound({ kind, config: { inbound: { localDomains: ['other.example'] } } });
      await refused(ANNA, /^550 5\.7\.1 .*\[IN_RELAY_DENIED\]$/);
      await refused('nobody@other.example', /^550 5\.1\.1 /);
      assert.equal(gw.sink.messages.length, 0);
    });

    it('keeps the recipient limit of submission (452 4.5.3)', async () => {
      gw = await startTestInbound({ kind, limits: { maxRecipients: 1 } });
      const info = await gw.send({ from: 'a@evil.example', to: [ANNA, 'bob@praxis.example'] }, MAIL);
      assert.deepEqual(info.rejected, ['bob@praxis.example']);
      const [err] = info.rejectedErrors ?? [];
      assert.match(failure(err).response ?? '', /^452 4\.5\.3 .*\[IN_TOO_MANY_RECIPIENTS\]$/);
      const [got] = await gw.sink.waitFor(1);
      assert.deepEqual(got!.to, [ANNA]);
    });
  });
}
