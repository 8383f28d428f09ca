import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import https from 'node:https';
import path from 'node:path';
import { generate } from 'selfsigned';
import { adminTransportAllowed, basicCredentials, isLoopback } from '../../webmail/admin-auth.ts';
import {
  ADMIN,
  ADMIN_PASSWORD,
  basic,
  SENDER,
  SENDER_PASSWORD,
  startAdminApp,
  type AdminAnswer,
  type AdminApp,
} from '../helpers/admin-api.ts';
import { testDbKinds } from '../helpers/db.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * Attacks on the admin API's login (docs/admin-api.md "Access"): no or broken credentials, password
 * guessing (with an unknown login answered exactly like a wrong password, after the same dummy-hash
 * check), a sender trying admin functions, an admin password sent in clear over the network, and
 * passwords in the logs.
 */
const KEY_CHANGES = '/api/admin/key-changes';
const REALM = 'Basic realm="Sealpost admin"';

function json(answer: AdminAnswer) {
  return { status: answer.status, body: answer.body, realm: answer.headers['www-authenticate'] };
}

/** The log lines with this code, parsed. */
function events(a: AdminApp, code: string): Record<string, unknown>[] {
  return a
    .logText()
    .split('\n')
    .filter((l) => l.includes(`"code":"${code}"`))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

describe('security: admin API transport (which requests may carry an admin password)', () => {
  const cases: [secure: boolean, ip: string | undefined, allowed: boolean][] = [
    [false, '127.0.0.1', true],
    [false, '127.45.6.7', true],
    [false, '::1', true],
    [false, '::ffff:127.0.0.1', true],
    [false, '::FFFF:127.0.0.1', true],
    [false, '10.0.0.5', false],
    [false, '192.168.1.20', false],
    [false, '203.0.113.9', false],
    [false, '::ffff:10.0.0.1', false],
    [false, '2001:db8::1', false],
    [false, 'fe80::1', false],
    [false, '::', false],
    [false, '0.0.0.0', false],
    [false, '127.0.0.1.evil.example', false],
    [false, '', false],
    [false, undefined, false], // no peer address (a Unix socket): unknown origin
    [true, '203.0.113.9', true], // TLS from anywhere
    [true, undefined, true],
  ];
  for (const [secure, ip, allowed] of cases) {
    it(`${secure ? 'https' : 'http'} from ${ip === undefined ? '(no address)' : JSON.stringify(ip)}: ${allowed ? 'allowed' : 'refused'}`, () => {
      assert.equal(adminTransportAllowed({ secure, ip }), allowed);
    });
  }

  it('isLoopback is false for anything that is not an IP address', () => {
    for (const v of ['localhost', '127.0.0.256', '127.1', ' 127.0.0.1'])
      assert.equal(isLoopback(v), false, v);
  });

  it('reads Basic credentials strictly', () => {
    assert.deepEqual(basicCredentials(basic('Admin@Praxis.Example', 'pa:ss wörd')), {
      login: 'admin@praxis.example',
      password: 'pa:ss wörd',
    });
    for (const header of [
      undefined,
      '',
      'Bearer abc',
      'Basic',
      'Basic !!!',
      `Basic ${Buffer.from('no-colon').toString('base64')}`,
      `Basic ${Buffer.from(':password-only').toString('base64')}`,
      basic('a@b.example', 'x'.repeat(1025)),
    ])
      assert.equal(basicCredentials(header), undefined, String(header));
  });
});

for (const kind of testDbKinds()) {
  describe(`security: admin API login (${kind})`, function () {
    this.timeout(120_000);
    let a: AdminApp;
    afterEach(async () => {
      await a.close();
    });

    it('asks for credentials (401 with the Basic realm) when there are none or they are unreadable', async () => {
      a = await startAdminApp({ kind });
      for (const authorization of [undefined, 'Bearer abc', 'Basic !!!', `Basic ${btoa('no-colon')}`]) {
        const r = await a.request('GET', KEY_CHANGES, authorization ? { headers: { authorization } } : {});
        assert.equal(r.status, 401, authorization);
        assert.equal(r.body.code, 'ADM_AUTH_REQUIRED');
        assert.equal(r.headers['www-authenticate'], REALM);
        assert.equal(r.body.keyChanges, undefined);
      }
      assert.equal(events(a, 'ADM_AUTH_FAILED').length, 0, 'no credentials is not a failed login');
    });

    it('answers a wrong password and an unknown login alike; the unknown one went through the dummy hash', async () => {
      a = await startAdminApp({ kind });
      const wrong = await a.request('GET', KEY_CHANGES, { auth: [ADMIN, 'wrong-password-1'] });
      const unknown = await a.request('GET', KEY_CHANGES, {
        auth: ['ghost@praxis.example', 'wrong-password-2'],
      });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.code, 'ADM_AUTH_FAILED');
      assert.deepEqual(json(unknown), json(wrong), 'nothing tells the two apart');
      assert.deepEqual(
        events(a, 'ADM_AUTH_FAILED').map((e) => [e.user, e.reason]),
        [
          [ADMIN, 'bad-password'],
          // logged only after UserStore.authenticate checked the password against the dummy hash
          ['ghost@praxis.example', 'unknown-user'],
        ],
      );
    });

    it('refuses a disabled admin with the right password like a wrong one', async () => {
      a = await startAdminApp({ kind });
      await a.testDb.db.kysely.updateTable('users').set({ disabled: 1 }).where('login', '=', ADMIN).execute();
      const r = await a.request('GET', KEY_CHANGES, { auth: [ADMIN, ADMIN_PASSWORD] });
      assert.equal(r.status, 401);
      assert.equal(r.body.code, 'ADM_AUTH_FAILED');
      assert.equal(events(a, 'ADM_AUTH_FAILED')[0]!.reason, 'disabled');
    });

    it('gives a sender who is no admin 403, and tells nothing about the role before the password is right', async () => {
      a = await startAdminApp({ kind });
      const forbidden = await a.request('GET', KEY_CHANGES, { auth: [SENDER, SENDER_PASSWORD] });
      assert.equal(forbidden.status, 403);
      assert.equal(forbidden.body.code, 'ADM_FORBIDDEN');
      assert.equal(forbidden.body.keyChanges, undefined);
      const explain = await a.request('GET', `/api/admin/explain?from=${SENDER}&to=x@example.org`, {
        auth: [SENDER, SENDER_PASSWORD],
      });
      assert.equal(explain.status, 403);
      const wrong = await a.request('GET', KEY_CHANGES, { auth: [SENDER, 'wrong-password-3'] });
      assert.equal(wrong.status, 401);
      assert.equal(wrong.body.code, 'ADM_AUTH_FAILED');
    });

    it('limits failed logins per IP: after N failures even the right password gets 429', async () => {
      a = await startAdminApp({ kind, limits: { authFailuresPerIp: 3, authFailuresPerAccount: 100 } });
      const ok = await a.request('GET', KEY_CHANGES, { auth: [ADMIN, ADMIN_PASSWORD] });
      assert.equal(ok.status, 200, 'a good login does not count');
      const forbidden = await a.request('GET', KEY_CHANGES, { auth: [SENDER, SENDER_PASSWORD] });
      assert.equal(forbidden.status, 403, 'a valid non-admin login does not count');
      for (let i = 0; i < 3; i++) {
        const r = await a.request('GET', KEY_CHANGES, { auth: [`guess${i}@praxis.example`, `guess-${i}`] });
        assert.equal(r.status, 401);
      }
      const limited = await a.request('GET', KEY_CHANGES, { auth: [ADMIN, ADMIN_PASSWORD] });
      assert.equal(limited.status, 429);
      assert.equal(limited.body.code, 'ADM_RATE_LIMITED');
      assert.equal(limited.body.keyChanges, undefined);
      assert.equal(events(a, 'ADM_AUTH_FAILED').length, 3, 'the limited attempt was not even checked');
      assert.equal(events(a, 'ADM_RATE_LIMITED').length, 1);
    });

    it('shares the SMTP login limits: a stranger’s guesses make his own address wait, not the admin’s', async () => {
      a = await startAdminApp({ kind, limits: { authFailuresPerAccountIp: 3 } });
      for (let i = 0; i < 3; i++) {
        const r = await a.request('GET', KEY_CHANGES, {
          auth: [ADMIN, `guess-${i}`],
          localAddress: '127.0.0.2',
        });
        assert.equal(r.status, 401);
      }
      const waiting = await a.request('GET', KEY_CHANGES, {
        auth: [ADMIN, ADMIN_PASSWORD],
        localAddress: '127.0.0.2',
      });
      assert.equal(waiting.status, 429);
      assert.equal(waiting.body.code, 'ADM_RATE_LIMITED');
      assert.ok(Number(waiting.headers['retry-after']) > 0);
      assert.equal((await a.request('GET', KEY_CHANGES, { auth: [ADMIN, ADMIN_PASSWORD] })).status, 200);
    });

    it('refuses plain HTTP from where it cannot tell the peer is local (403), before looking at the password', async () => {
      a = await startAdminApp({ kind });
      const tmp = tmpDir('sealpost-admin-sock-');
      const pems = await generate([{ name: 'commonName', value: 'sealpost.test' }], {
        keyType: 'ec',
        curve: 'P-256',
      });
      const plainSock = path.join(tmp.dir, 'plain.sock');
      const tlsSock = path.join(tmp.dir, 'tls.sock');
      const plain = http.createServer(a.app).listen(plainSock);
      const tls = https.createServer({ key: pems.private, cert: pems.cert }, a.app).listen(tlsSock);
      await Promise.all([once(plain, 'listening'), once(tls, 'listening')]);
      const ask = (secure: boolean) =>
        new Promise<{ status: number; code: unknown }>((resolve, reject) => {
          const options = {
            socketPath: secure ? tlsSock : plainSock,
            path: KEY_CHANGES,
            headers: { authorization: basic(ADMIN, ADMIN_PASSWORD), host: 'sealpost.test' },
            rejectUnauthorized: false,
          };
          const req = (secure ? https : http).request(options, (res) => {
            let text = '';
            res.on('data', (c: Buffer) => (text += c.toString('utf8')));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, code: JSON.parse(text).code }));
          });
          req.on('error', reject);
          req.end();
        });
      try {
        // A Unix socket has no peer address: plain HTTP there is refused even with the right password …
        assert.deepEqual(await ask(false), { status: 403, code: 'ADM_TLS_REQUIRED' });
        assert.equal(events(a, 'ADM_TLS_REQUIRED').length, 1);
        assert.equal(events(a, 'ADM_AUTH_OK').length, 0, 'the password was not checked');
        // … and the same request over TLS is served.
        assert.equal((await ask(true)).status, 200);
        // Over loopback TCP, plain HTTP is fine (a TLS proxy on this machine), and proxy headers change nothing.
        const loopback = await a.request('GET', KEY_CHANGES, {
          auth: [ADMIN, ADMIN_PASSWORD],
          headers: { 'x-forwarded-for': '203.0.113.9', 'x-forwarded-proto': 'http' },
        });
        assert.equal(loopback.status, 200);
      } finally {
        plain.closeAllConnections();
        tls.closeAllConnections();
        await Promise.all([
          new Promise((resolve) => plain.close(resolve)),
          new Promise((resolve) => tls.close(resolve)),
        ]);
        tmp.cleanup();
      }
    });

    it('never writes a password or the Authorization header to the log', async () => {
      a = await startAdminApp({ kind, limits: { authFailuresPerIp: 2, authFailuresPerAccount: 100 } });
      const attempts: [string, string][] = [
        [ADMIN, ADMIN_PASSWORD],
        [SENDER, SENDER_PASSWORD],
        [ADMIN, 'secret-guess-one'],
        ['ghost@praxis.example', 'secret-guess-two'],
        [ADMIN, ADMIN_PASSWORD], // limited now
      ];
      for (const auth of attempts) await a.request('GET', KEY_CHANGES, { auth });
      const log = a.logText();
      for (const [login, password] of attempts) {
        assert.ok(!log.includes(password), `password of ${login} in the log`);
        assert.ok(!log.includes(basic(login, password).slice(6)), 'an Authorization header in the log');
      }
      for (const code of ['ADM_AUTH_OK', 'ADM_FORBIDDEN', 'ADM_AUTH_FAILED', 'ADM_RATE_LIMITED'])
        assert.ok(events(a, code).length > 0, `${code} logged`);
    });
  });
}
