import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import * as OTPAuth from 'otpauth';
import type { Browser } from 'playwright-core';
import { accessible, newPage, screenshot, SCREENSHOTS, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * The admin's users screen in Chromium through the real stack (docs/console.md): an admin without TOTP
 * signs in → the app shows the enrolment QR code and URI → she signs in with the first code → the admin
 * navigation → /console/users → adds a user with a typed password → that user sends through SMTP AUTH
 * (accepted, delivered to the sink).
 */
const ADMIN = 'chef@praxis.example';
const ADMIN_PASSWORD = 'chef-password-long';
const NEW = 'bea@praxis.example';
const NEW_PASSWORD = 'bea-password-long';
const [kind] = testDbKinds();

describe('console in Chromium: the admin enrols TOTP and adds a user, who then sends', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  for (const width of [360, 1280]) {
    it(`at ${width} px: enrolment at first sign-in → /console/users → add → SMTP accepted`, async () => {
      await stack.gw.users.add({ login: ADMIN, password: ADMIN_PASSWORD, isAdmin: true }, new Date());
      const { page, problems, context } = await newPage(browser, { width });
      await page.goto(`${stack.web}/console/users`); // a deep link: sign-in first, then the screen
      await page.locator('input[autocomplete="username"]').fill(ADMIN);
      await page.locator('input[autocomplete="current-password"]').fill(ADMIN_PASSWORD);
      await page.keyboard.press('Enter');
      const enrol = page.locator('[data-testid="totp-enrol"]');
      await enrol.waitFor({ timeout: 60_000 });
      const uri = (await enrol.locator('code').innerText()).trim();
      assert.match(uri, /^otpauth:\/\/totp\/Sealpost:chef%40praxis\.example\?/);
      assert.ok(
        await enrol
          .locator('img')
          .getAttribute('src')
          .then((s) => s?.startsWith('data:image/png')),
      );
      await screenshot(page, `console-admin-enrol-${width}`);
      await accessible(page, 'enrolment');
      const totp = OTPAuth.URI.parse(uri) as OTPAuth.TOTP;
      await page.locator('input[autocomplete="one-time-code"]').fill(totp.generate());
      await page.keyboard.press('Enter');

      const list = page.locator('[data-testid="user-list"]');
      await list.waitFor({ timeout: 60_000 });
      assert.equal(await page.locator('nav a[href="/console/users"]').getAttribute('aria-current'), 'page');
      await page.locator('#new-login').fill(NEW);
      await page.locator('#new-password').fill(NEW_PASSWORD);
      await page.getByRole('button', { name: 'Hinzufügen' }).click();
      await page.locator(`[data-testid="user-row"][data-login="${NEW}"]`).waitFor({ timeout: 60_000 });
      await screenshot(page, `console-users-${width}`);
      await accessible(page, 'users');
      assert.deepEqual(problems.errors, []);
      await context.close();

      const audit = await stack.gw.testDb.db.kysely
        .selectFrom('audit')
        .selectAll()
        .where('action', '=', 'user.add')
        .execute();
      assert.deepEqual(
        audit.map((a) => [a.actor, a.subject]),
        [[ADMIN, NEW]],
      );
      // She sends as herself through SMTP AUTH with the password the admin typed: accepted.
      await stack.gw.keys.generateSenderKey(NEW);
      const before = stack.sink.messages.length;
      const info = await stack.gw
        .transport({ user: NEW, pass: NEW_PASSWORD })
        .sendMail({ from: NEW, to: 'max@example.org', subject: 'S', text: 'T' });
      assert.match(info.response ?? '', /^250 /);
      await stack.sink.waitFor(before + 1);
    });
  }

  after(() => {
    const shot = path.join(SCREENSHOTS, 'console-users-1280.png');
    if (!existsSync(shot)) return;
    mkdirSync('docs/screenshots/console', { recursive: true });
    copyFileSync(shot, 'docs/screenshots/console/users.png');
  });
});
