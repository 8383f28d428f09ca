import assert from 'node:assert/strict';
import { consoleFetch, consoleSignIn } from '../helpers/console.ts';
import { adminEnrol, adminSignIn, codeAt, postSignIn } from '../helpers/console-admin.ts';
import { testDbKinds } from '../helpers/db.ts';
import { dbContains } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * An admin never gets a console session without TOTP (docs/console.md): the right password alone answers
 * "enrolment required" with a new secret and opens no session; a wrong code is refused; once enrolled the
 * code is required at every sign-in; and an admin route wants a session whose sign-in passed TOTP, not
 * just a user who has the admin role now.
 */
const ADMIN = 'admin@praxis.example';
const ADMIN_PASSWORD = 'admin-password-long';
const USERS_ROUTE = '/api/console/users';

for (const kind of testDbKinds()) {
  describe(`security: console admin needs TOTP (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
      await stack.gw.users.add({ login: ADMIN, password: ADMIN_PASSWORD, isAdmin: true }, new Date());
    });
    afterEach(async () => {
      await stack.close();
    });

    const sessions = () => stack.gw.testDb.db.kysely.selectFrom('console_sessions').selectAll().execute();

    it('no session by password alone; a wrong code is refused; enrolment, then a code every time', async () => {
      const first = await postSignIn(stack.web, { login: ADMIN, password: ADMIN_PASSWORD });
      assert.equal(first.status, 401);
      assert.equal(first.json.code, 'CON_TOTP_ENROL');
      assert.match(first.json.uri ?? '', /^otpauth:\/\/totp\/Sealpost:admin%40praxis\.example\?/);
      assert.equal(first.json.session, undefined);
      assert.equal(first.cookie, '', 'no session cookie');
      assert.deepEqual(await sessions(), [], 'no session row');
      const secret = new URL(first.json.uri ?? '').searchParams.get('secret') ?? '';
      assert.equal(await dbContains(stack.gw.testDb, secret), false, 'secret sealed at rest');

      const wrong = await postSignIn(stack.web, { login: ADMIN, password: ADMIN_PASSWORD, totp: '000000' });
      assert.deepEqual([wrong.status, wrong.json.code], [401, 'CON_TOTP_WRONG']);
      const badPassword = await postSignIn(stack.web, { login: ADMIN, password: 'not-the-password' });
      assert.deepEqual([badPassword.status, badPassword.json.code], [401, 'CON_AUTH_FAILED']);
      assert.equal(badPassword.json.uri, undefined, 'no secret without the password');
      assert.deepEqual(await sessions(), []);

      const { session, totp, code } = await adminEnrol(stack.web, ADMIN, ADMIN_PASSWORD);
      assert.equal((await consoleFetch(session, 'GET', USERS_ROUTE)).status, 200);
      // Enrolled: no new secret by password, a code is required, an old or used one refused.
      const again = await postSignIn(stack.web, { login: ADMIN, password: ADMIN_PASSWORD });
      assert.deepEqual(
        [again.status, again.json.code, again.json.uri],
        [401, 'CON_TOTP_REQUIRED', undefined],
      );
      // The very code the enrolment used: a code made again now is the next step's, fresh, when a 30 s step
      // boundary passed since — and was taken (the enrolment's sign-in takes ~1.2 s: ~4 % a database).
      const used = await postSignIn(stack.web, { login: ADMIN, password: ADMIN_PASSWORD, totp: code });
      assert.deepEqual(
        [used.status, used.json.code],
        [401, 'CON_TOTP_WRONG'],
        'a used code is not taken again',
      );
      const old = totp.generate({ timestamp: Date.now() - 10 * 60_000 });
      const stale = await postSignIn(stack.web, { login: ADMIN, password: ADMIN_PASSWORD, totp: old });
      assert.equal(stale.json.code, 'CON_TOTP_WRONG');
      await adminSignIn(stack.web, ADMIN, ADMIN_PASSWORD, codeAt(totp, 1));
    });

    it('an admin route wants a session that passed TOTP, and a TOTP reset means enrolling again', async () => {
      // A practitioner signed in without TOTP, then given the admin role behind the console's back: her
      // session is still not an admin session.
      const anna = await consoleSignIn(stack.web);
      const annaRow = await stack.gw.users.find('anna@praxis.example');
      await stack.gw.users.setAdmin(annaRow!.id, true);
      assert.equal((await consoleFetch(anna, 'GET', USERS_ROUTE)).status, 403);
      const who = (await (await consoleFetch(anna, 'GET', '/api/console/session')).json()) as {
        user: { role: string };
      };
      assert.equal(who.user.role, 'user');

      // The admin resets Anna's TOTP (none here) and then her own is reset by another admin: she enrols again.
      const { session } = await adminEnrol(stack.web, ADMIN, ADMIN_PASSWORD);
      await stack.gw.users.add(
        { login: 'chef@praxis.example', password: 'chef-password-long', isAdmin: true },
        new Date(),
      );
      const chef = await adminEnrol(stack.web, 'chef@praxis.example', 'chef-password-long');
      const reset = await consoleFetch(chef.session, 'POST', '/api/console/users/totp-reset', {
        login: ADMIN,
      });
      assert.equal(reset.status, 200);
      assert.equal((await consoleFetch(session, 'GET', USERS_ROUTE)).status, 401, 'her sessions ended');
      const next = await postSignIn(stack.web, { login: ADMIN, password: ADMIN_PASSWORD });
      assert.equal(next.json.code, 'CON_TOTP_ENROL');
    });
  });
}
