import assert from 'node:assert/strict';
import { CONSOLE_ROUTES } from '../../webmail/console-api/table.ts';
import { consoleCodes, consoleFetch, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * A stolen console session (cookie and header key) stops working at sign-out, on every route; the server
 * keeps only the hash of the secret, so the database cannot hand it out either.
 */
const [kind] = testDbKinds();

describe('security: console session after sign-out', function () {
  this.timeout(120_000);
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack({ kind: kind! });
  });
  afterEach(async () => {
    await stack.close();
  });

  it('the copied cookie and key are refused everywhere once she signed out', async () => {
    await stack.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 'S', text: 'T' });
    await stack.sink.waitFor(2);
    const s = await consoleSignIn(stack.web);
    const [code] = await consoleCodes(s);
    assert.ok(code);
    const stolen = { web: s.web, cookie: s.cookie, key: s.key };
    assert.equal((await consoleFetch(stolen, 'GET', '/api/console/codes')).status, 200, 'works before');
    const sessions = await stack.gw.testDb.db.kysely.selectFrom('console_sessions').selectAll().execute();
    assert.ok(sessions.every((r) => !r.token_hash.includes(s.key) && !s.cookie.includes(r.token_hash)));

    const out = await consoleFetch(s, 'POST', '/api/console/session/end');
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /sp_console=;/);
    for (const route of CONSOLE_ROUTES) {
      const res = await consoleFetch(stolen, route.method, route.path.replace(':id', code.id));
      assert.equal(res.status, 401, `${route.method} ${route.path}`);
      assert.equal(((await res.json()) as { code: string }).code, 'CON_AUTH_REQUIRED');
    }
    // The code was not touched by the stolen session's attempts.
    assert.deepEqual(
      (await consoleCodes(await consoleSignIn(stack.web))).map((c) => c.id),
      [code.id],
    );
  });
});
