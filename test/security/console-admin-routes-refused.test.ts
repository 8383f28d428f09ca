import assert from 'node:assert/strict';
import { CONSOLE_ROUTES } from '../../webmail/console-api/table.ts';
import { consoleFetch, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Every admin row of the console's route table (CONSOLE_ROUTES, generated: a new admin route is tried
 * without a line here) is refused with 401 to no session and with 403 to a practitioner's session, and
 * changes nothing: the number of users and audit entries stays as it was (docs/console.md).
 */
const MAX = 'max@example.org';
const ADMIN_ROWS = CONSOLE_ROUTES.filter((r) => r.role === 'admin');

for (const kind of testDbKinds()) {
  describe(`security: console admin routes refused to a practitioner and to no session (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('answers 401 without a session and 403 to a practitioner, on every admin row', async () => {
      assert.ok(ADMIN_ROWS.length >= 8, 'the admin rows are in the table');
      const db = stack.gw.testDb.db.kysely;
      const count = async () => ({
        users: (await db.selectFrom('users').select('id').execute()).length,
        audit: (await db.selectFrom('audit').select('id').execute()).length,
        contacts: await db.selectFrom('contacts').select(['address', 'locked']).execute(),
      });
      const anna = await consoleSignIn(stack.web);
      // A pickup contact the contacts routes would unlock, re-key or erase.
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'x', text: 'x' });
      const before = await count();
      assert.equal(before.contacts.length, 1);
      const body = { login: 'anna@praxis.example', on: true, admin: true, address: MAX };
      for (const route of ADMIN_ROWS) {
        const none = await consoleFetch(
          { web: stack.web, cookie: '', key: '' },
          route.method,
          route.path,
          body,
        );
        assert.equal(none.status, 401, `${route.method} ${route.path} without a session`);
        assert.equal(((await none.json()) as { code: string }).code, 'CON_AUTH_REQUIRED');
        const practitioner = await consoleFetch(anna, route.method, route.path, body);
        assert.equal(practitioner.status, 403, `${route.method} ${route.path} for a practitioner`);
        assert.equal(((await practitioner.json()) as { code: string }).code, 'CON_FORBIDDEN');
      }
      assert.deepEqual(await count(), before, 'nothing changed, not even the audit trail');
      const me = (await (await consoleFetch(anna, 'GET', '/api/console/session')).json()) as {
        user: { role: string };
      };
      assert.equal(me.user.role, 'user', 'still a practitioner');
    });
  });
}
