import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, startTestGateway, tryLogin, type TestGateway } from '../helpers/gateway.ts';

/**
 * Issue 11 finding 5: five wrong passwords for anna from anywhere locked her account on 587 and 465 for 15
 * minutes, also for the right password from the practice's own address. Now (docs/gateway.md "Login
 * limits") failures count per (account, address) with growing delays, per address over all accounts, and
 * per account over all addresses with a much higher ceiling from which the addresses she logs in from are
 * exempt. The attacker is 127.0.0.2 (and 127.0.0.10…), the practice 127.0.0.3; everything in real Redis.
 */
const ATTACKER = '127.0.0.2';
const PRACTICE = '127.0.0.3';

for (const kind of testDbKinds()) {
  describe(`security: a stranger cannot lock the practice out of SMTP AUTH (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestGateway | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('five wrong passwords for anna from outside: anna gets in at once from the practice, on 587 and 465', async () => {
      gw = await startTestGateway({ kind }); // the default limits
      for (let i = 0; i < 6; i++) {
        const r = await tryLogin(gw, { pass: `guess-number-${i}`, localAddress: ATTACKER });
        assert.ok(['GW_AUTH_FAILED', 'GW_AUTH_RATE_LIMITED'].includes(r.code), r.code);
      }
      assert.equal((await tryLogin(gw, { localAddress: PRACTICE })).code, 'OK', 'submission (587)');
      assert.equal(
        (await tryLogin(gw, { localAddress: PRACTICE, port: 'smtps' })).code,
        'OK',
        'implicit TLS (465)',
      );
    });

    it('the guessing address waits (454, with the time to wait), and its guesses are not checked meanwhile', async () => {
      gw = await startTestGateway({ kind, limits: { authFailuresPerAccountIp: 3, authDelaySeconds: 60 } });
      for (let i = 0; i < 3; i++) {
        assert.equal(
          (await tryLogin(gw, { pass: `guess-${i}`, localAddress: ATTACKER })).code,
          'GW_AUTH_FAILED',
        );
      }
      for (const port of ['submission', 'smtps'] as const) {
        // even the right password: a refused attempt is not checked at all, or the wait would be an oracle
        const r = await tryLogin(gw, { localAddress: ATTACKER, port });
        assert.equal(r.code, 'GW_AUTH_RATE_LIMITED');
        assert.equal(r.smtp, 454);
        assert.match(r.response ?? '', /4\.7\.0 .*retry in (5\d|60) s/);
      }
      assert.equal(
        gw.logText().split('"code":"GW_AUTH_FAILED"').length - 1,
        3,
        'nothing checked while waiting',
      );
      assert.match(gw.logText(), /"code":"GW_AUTH_RATE_LIMITED"[^\n]*"reason":"account-address"/);
      assert.equal((await tryLogin(gw, { localAddress: PRACTICE })).code, 'OK');
    });

    it('a password sprayer on one address is stopped across accounts; anna elsewhere is not', async () => {
      gw = await startTestGateway({ kind, limits: { authFailuresPerIp: 4 } });
      for (let i = 0; i < 4; i++) {
        const r = await tryLogin(gw, {
          user: `user${i}@praxis.example`,
          pass: 'Sommer2026!',
          localAddress: ATTACKER,
        });
        assert.equal(r.code, 'GW_AUTH_FAILED');
      }
      const sprayed = await tryLogin(gw, { user: SENDER, pass: 'Sommer2026!', localAddress: ATTACKER });
      assert.equal(sprayed.code, 'GW_AUTH_RATE_LIMITED');
      assert.match(gw.logText(), /"code":"GW_AUTH_RATE_LIMITED"[^\n]*"reason":"address"/);
      assert.equal((await tryLogin(gw, { localAddress: PRACTICE })).code, 'OK');
    });

    it('a guess distributed over many addresses is held to the account ceiling; the practice’s address still gets in', async () => {
      gw = await startTestGateway({ kind, limits: { authFailuresPerAccount: 6 } });
      assert.equal(
        (await tryLogin(gw, { localAddress: PRACTICE })).code,
        'OK',
        'anna works from the practice',
      );
      for (let i = 0; i < 6; i++) {
        const r = await tryLogin(gw, { pass: `botnet-guess-${i}`, localAddress: `127.0.0.${10 + i}` });
        assert.equal(r.code, 'GW_AUTH_FAILED');
      }
      const next = await tryLogin(gw, { pass: 'botnet-guess-6', localAddress: '127.0.0.40' });
      assert.equal(next.code, 'GW_AUTH_RATE_LIMITED', 'a further address is not even checked');
      assert.match(gw.logText(), /"code":"GW_AUTH_RATE_LIMITED"[^\n]*"reason":"account"/);
      assert.equal(
        (await tryLogin(gw, { localAddress: PRACTICE })).code,
        'OK',
        'the practice is not locked out',
      );
      assert.equal((await tryLogin(gw, { localAddress: PRACTICE, port: 'smtps' })).code, 'OK');
    });
  });
}
