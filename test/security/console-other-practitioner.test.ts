import assert from 'node:assert/strict';
import { CONSOLE_ROUTES } from '../../webmail/console-api/table.ts';
import {
  consoleCodes,
  consoleFetch,
  consoleSignIn,
  secondPractitioner,
  type ConsoleSession,
} from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * One practitioner never sees or touches another's access codes in the console (docs/console.md), tried on
 * every route of CONSOLE_ROUTES (the contract's list; a new route without a case here fails the test).
 */
const BEN = 'ben@praxis.example';
const BEN_PASSWORD = 'ben-password-long';

for (const kind of testDbKinds()) {
  describe(`security: console, one practitioner cannot reach another's codes (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('every route answers only for the signed-in practitioner', async () => {
      await stack.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 'S', text: 'T' });
      await stack.sink.waitFor(2);
      await secondPractitioner(stack, {
        login: BEN,
        password: BEN_PASSWORD,
        contact: 'eva@example.org',
        expectMails: 4,
      });
      const anna = await consoleSignIn(stack.web);
      const ben = await consoleSignIn(stack.web, BEN, BEN_PASSWORD);
      const annas = await consoleCodes(anna);
      assert.deepEqual(
        annas.map((c) => c.contact),
        ['max@example.org'],
      );
      const annaCodeId = annas[0]!.id;

      const tried = new Set<string>();
      // Sign-out last: every other route is tried in his live session.
      const routes = [...CONSOLE_ROUTES].sort(
        (a, b) => Number(a.path.endsWith('/end')) - Number(b.path.endsWith('/end')),
      );
      for (const route of routes) {
        const path = route.path.replace(':id', annaCodeId);
        // Enrolment: Ben names Anna's client; nothing is made, and her code is neither shown nor replaced.
        const enrolBody = route.path === '/api/console/contacts' ? { address: 'max@example.org' } : undefined;
        const res = await consoleFetch(ben, route.method, path, enrolBody);
        const body = await res.text();
        assert.ok(!body.includes('max@example.org'), `${route.method} ${route.path} shows Anna's contact`);
        if (route.path === '/api/console/codes') {
          assert.equal(res.status, 200);
          assert.deepEqual(
            (JSON.parse(body) as { codes: { contact: string }[] }).codes.map((c) => c.contact),
            ['eva@example.org'],
          );
        } else if (route.path === '/api/console/codes/:id/handed-over') {
          assert.equal(res.status, 404, "Ben cannot mark Anna's code handed over");
          assert.equal((JSON.parse(body) as { code: string }).code, 'CON_NOT_FOUND');
        } else if (route.path === '/api/console/session') {
          assert.equal((JSON.parse(body) as { user: { login: string } }).user.login, BEN);
        } else if (route.path === '/api/console/totp/begin') {
          assert.equal(res.status, 200);
          assert.match(
            (JSON.parse(body) as { uri: string }).uri,
            /ben%40praxis\.example/,
            'his own enrolment',
          );
        } else if (route.path === '/api/console/totp/confirm') {
          assert.equal(res.status, 400, 'no code: nothing of anyone changes');
        } else if (route.path === '/api/console/codes/:id/new-code') {
          assert.equal(res.status, 404, "Ben cannot issue a new code for Anna's contact");
          assert.equal((JSON.parse(body) as { code: string }).code, 'CON_NOT_FOUND');
        } else if (route.path === '/api/console/account/password') {
          assert.equal(res.status, 400, 'no passwords, no key: nothing of anyone changes');
        } else if (route.path === '/api/console/contacts') {
          assert.equal(res.status, 409, "Ben cannot enrol (and so re-key) Anna's contact");
          assert.equal((JSON.parse(body) as { code: string }).code, 'CON_CONTACT_EXISTS');
        } else if (route.path === '/api/console/session/end') {
          assert.equal(res.status, 200, "Ben's own sign-out");
        }
        tried.add(`${route.method} ${route.path}`);
      }
      assert.equal(tried.size, CONSOLE_ROUTES.length);
      // Anna's code is still there, and still hers; Ben's session is over.
      assert.deepEqual(
        (await consoleCodes(anna)).map((c) => c.id),
        [annaCodeId],
      );
      assert.equal((await consoleFetch(ben, 'GET', '/api/console/codes')).status, 401);
      // Ben's console key cannot open Anna's code either (it is encrypted to hers alone).
      const ben2: ConsoleSession = await consoleSignIn(stack.web, BEN, BEN_PASSWORD);
      const raw = (await (await consoleFetch(anna, 'GET', '/api/console/codes')).json()) as {
        codes: { ciphertext: string }[];
      };
      const { decryptAndVerify } = await import('../../keys/openpgp/index.ts');
      await assert.rejects(
        decryptAndVerify({
          armored: Buffer.from(raw.codes[0]!.ciphertext, 'base64'),
          decryptionKey: ben2.privateKey,
          verificationKeys: [],
          now: new Date(),
        }),
      );
    });
  });
}
