import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import { consoleFetch, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { dbContains, SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * The console's optional second factor (docs/console.md): once she confirmed a code, a sign-in needs the
 * password and a fresh TOTP code; a wrong one counts as a failed login, a used one is never accepted
 * again, enrolment cannot be restarted over an enabled factor, and the secret is not readable at rest.
 */

async function signInRaw(web: string, body: Record<string, string>) {
  const res = await fetch(`${web}/api/console/session`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ login: SENDER, password: SENDER_PASSWORD, ...body }),
  });
  return { status: res.status, code: ((await res.json()) as { code?: string }).code };
}

for (const kind of testDbKinds()) {
  describe(`security: console two-factor sign-in (TOTP) (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('enrols by QR, then needs a fresh code at every sign-in', async () => {
      const s = await consoleSignIn(stack.web);
      const begin = await consoleFetch(s, 'POST', '/api/console/totp/begin');
      assert.equal(begin.status, 200);
      const { uri, qr } = (await begin.json()) as { uri: string; qr: string };
      assert.match(uri, /^otpauth:\/\/totp\/Sealpost:anna%40praxis\.example\?/);
      assert.match(qr, /^data:image\/png;base64,/);
      const totp = OTPAuth.URI.parse(uri) as OTPAuth.TOTP;
      assert.equal(await dbContains(stack.gw.testDb, totp.secret.base32), false, 'secret sealed at rest');

      // Not on until confirmed: a wrong code is refused, the sign-in still needs none.
      const wrong = await consoleFetch(s, 'POST', '/api/console/totp/confirm', { totp: '000000' });
      assert.equal(wrong.status, 401);
      assert.equal((await signInRaw(stack.web, {})).status, 200);
      const now = Date.now();
      const confirm = await consoleFetch(s, 'POST', '/api/console/totp/confirm', {
        totp: totp.generate({ timestamp: now }),
      });
      assert.equal(confirm.status, 200);
      const again = await consoleFetch(s, 'POST', '/api/console/totp/begin');
      assert.equal(again.status, 409, 'no new enrolment over an enabled factor');

      assert.deepEqual(await signInRaw(stack.web, {}), { status: 401, code: 'CON_TOTP_REQUIRED' });
      const bad = totp.generate({ timestamp: now - 10 * 60_000 });
      assert.deepEqual(await signInRaw(stack.web, { totp: bad }), { status: 401, code: 'CON_TOTP_WRONG' });
      const fresh = totp.generate({ timestamp: now + 30_000 });
      assert.equal((await signInRaw(stack.web, { totp: fresh })).status, 200);
      assert.deepEqual(
        await signInRaw(stack.web, { totp: fresh }),
        { status: 401, code: 'CON_TOTP_WRONG' },
        'a used code is never accepted again',
      );
      const actions = await stack.gw.testDb.db.kysely
        .selectFrom('audit')
        .select(['action', 'ip'])
        .where('actor', '=', SENDER)
        .execute();
      assert.ok(actions.some((a) => a.action === 'console.totp.enabled' && a.ip));
      assert.ok(actions.filter((a) => a.action === 'console.sign-in-failed').length >= 2);
    });
  });
}
