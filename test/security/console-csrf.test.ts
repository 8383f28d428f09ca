import assert from 'node:assert/strict';
import { CONSOLE_ROUTES } from '../../webmail/console-api/table.ts';
import { consoleCodes, consoleFetch, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * CSRF on the console (docs/console.md): every POST from another origin is refused (403 CON_BAD_ORIGIN),
 * and so is a POST a form could send (not JSON: 415), with a live session and before anything changes.
 * The cookie is HttpOnly and SameSite=Strict, scoped to /api/console.
 */
const [kind] = testDbKinds();

describe('security: console CSRF', function () {
  this.timeout(120_000);
  let stack: Stack;
  beforeEach(async () => {
    stack = await startStack({ kind: kind! });
  });
  afterEach(async () => {
    await stack.close();
  });

  it('refuses cross-origin and non-JSON POSTs on every route; the session cookie is strict', async () => {
    await stack.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 'S', text: 'T' });
    await stack.sink.waitFor(2);
    const res = await fetch(`${stack.web}/api/console/session`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ login: SENDER, password: SENDER_PASSWORD }),
    });
    const setCookie = res.headers.get('set-cookie') ?? '';
    assert.match(setCookie, /HttpOnly/i);
    assert.match(setCookie, /SameSite=Strict/i);
    assert.match(setCookie, /Path=\/api\/console/i);
    await res.body?.cancel();

    const s = await consoleSignIn(stack.web);
    const [code] = await consoleCodes(s);
    assert.ok(code);
    const posts = CONSOLE_ROUTES.filter((r) => r.method === 'POST').map((r) =>
      r.path.replace(':id', code.id),
    );
    for (const path of [...posts, '/api/console/session']) {
      const evil = await consoleFetch(s, 'POST', path, {}, { origin: 'https://evil.example' });
      assert.equal(evil.status, 403, path);
      assert.equal(((await evil.json()) as { code: string }).code, 'CON_BAD_ORIGIN');
      const form = await fetch(`${stack.web}${path}`, {
        method: 'POST',
        headers: {
          cookie: s.cookie,
          'sealpost-console': s.key,
          'content-type': 'application/x-www-form-urlencoded',
        },
        body: 'x=1',
      });
      assert.equal(form.status, 415, path);
    }
    // Nothing changed: the code waits, the session lives.
    assert.deepEqual(
      (await consoleCodes(s)).map((c) => c.id),
      [code.id],
    );
    // Without the header key (what a cross-site request would have at most: the cookie), nothing answers.
    const cookieOnly = await fetch(`${stack.web}/api/console/codes`, { headers: { cookie: s.cookie } });
    assert.equal(cookieOnly.status, 401);
  });
});
