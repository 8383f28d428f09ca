import assert from 'node:assert/strict';
import * as OTPAuth from 'otpauth';
import type { Browser } from 'playwright-core';
import { accessible, newPage, screenshot, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { consoleCodes, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { mailText } from '../helpers/pickup-client.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * The practitioner's console in Chromium through the real stack (docs/console.md): a mail to a keyless
 * recipient via SMTP → the receipt at the sink holds no code and links to /console → she signs in (the
 * fields password managers know) → the code is on the first screen, as text on the contact's line →
 * the client opens the pickup with it → "handed over" → gone, from the screen and from the server.
 */
const MAX = 'max@example.org';
const CODE = /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/;
const [kind] = testDbKinds();

describe('console in Chromium: access codes that never travel by e-mail', function () {
  this.timeout(180_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  for (const width of [360, 1280]) {
    it(`at ${width} px: receipt without code → sign in → code on the first screen → pickup → handed over`, async () => {
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'Hallo.' });
      const msgs = await stack.sink.waitFor(2);
      const receipt = await mailText(msgs.find((m) => m.to[0] === SENDER)!.raw);
      assert.doesNotMatch(receipt.text, CODE, 'no access code in the receipt');
      const consoleUrl = `${stack.web}/console`;
      assert.match(receipt.text, new RegExp(`^${consoleUrl}$`, 'm'), 'the receipt links to the console');

      const { page, problems, context } = await newPage(browser, { width });
      const res = await page.goto(consoleUrl);
      assert.match(res!.headers()['content-security-policy'] ?? '', /script-src 'self' 'wasm-unsafe-eval'/);
      assert.equal(await page.locator('html').getAttribute('lang'), 'de');
      const deep = await fetch(`${stack.web}/console/codes`); // every /console/… URL is the app
      assert.equal(deep.status, 200);
      assert.match(deep.headers.get('content-security-policy') ?? '', /frame-ancestors 'none'/);
      await deep.body?.cancel();
      await page.locator('input[autocomplete="username"]').fill(SENDER);
      await page.locator('input[autocomplete="current-password"]').fill(SENDER_PASSWORD);
      await screenshot(page, `console-sign-in-${width}`);
      await accessible(page, 'sign-in');
      await page.keyboard.press('Enter'); // keyboard only
      const line = page.locator('[data-testid="code-line"]', { hasText: MAX });
      await line.waitFor({ timeout: 60_000 });
      const text = await line.innerText();
      const code = CODE.exec(text)?.[0];
      assert.ok(code, `the code is on the line with ${MAX}: ${text}`);
      assert.ok(text.indexOf(MAX) < text.indexOf(code), 'the code right after the contact');
      await screenshot(page, `console-codes-${width}`);
      await accessible(page, 'codes');

      // The client opens the pickup with the code she read out.
      const client = await newPage(browser, { width });
      const notification = await mailText(msgs.find((m) => m.to[0] === MAX)!.raw);
      const link = /https?:\/\/\S+\/p\/[A-Za-z0-9_-]{22}/.exec(notification.text)![0];
      await unlockInBrowser(client.page, link, code);
      await client.context.close();

      await line.getByRole('button', { name: 'Weitergegeben' }).click();
      await page.getByTestId('no-codes').waitFor();
      await screenshot(page, `console-handed-over-${width}`);
      const again = await consoleCodes(await consoleSignIn(stack.web));
      assert.deepEqual(again, [], 'gone from the server');
      assert.deepEqual(problems.errors, []);
      assert.ok(
        problems.requests.every(
          (u) => u.startsWith(stack.web) || u.startsWith('blob:') || u.startsWith('data:'),
        ),
        'no third-party request',
      );
      await context.close();
    });
  }

  it('two-factor sign-in: enrol by QR code, then the one-time-code field at the next sign-in', async () => {
    const { page, problems, context } = await newPage(browser, { width: 390 });
    await page.goto(`${stack.web}/console`);
    await page.locator('input[autocomplete="username"]').fill(SENDER);
    await page.locator('input[autocomplete="current-password"]').fill(SENDER_PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('button', { name: 'Zwei-Faktor-Anmeldung einrichten' }).click();
    const uri = await page.locator('.uri code').innerText();
    assert.ok(await page.locator('img[src^="data:image/png"]').isVisible(), 'the QR code is shown');
    await screenshot(page, 'console-totp-enrol-390');
    await accessible(page, 'TOTP enrolment');
    const totp = OTPAuth.URI.parse(uri) as OTPAuth.TOTP;
    const now = Date.now();
    await page.locator('#enrol-code[autocomplete="one-time-code"]').fill(totp.generate({ timestamp: now }));
    await page.keyboard.press('Enter');
    await page.getByTestId('totp-on').waitFor();
    await page.getByRole('button', { name: 'Abmelden' }).click();

    await page.locator('input[autocomplete="username"]').fill(SENDER);
    await page.locator('input[autocomplete="current-password"]').fill(SENDER_PASSWORD);
    await page.keyboard.press('Enter');
    const otp = page.locator('input[autocomplete="one-time-code"]');
    await otp.waitFor();
    await screenshot(page, 'console-totp-sign-in-390');
    await otp.fill(totp.generate({ timestamp: now + 30_000 }));
    await page.locator('input[autocomplete="current-password"]').fill(SENDER_PASSWORD);
    await page.keyboard.press('Enter');
    await page.locator('#codes-title').waitFor({ timeout: 60_000 });
    assert.deepEqual(
      problems.errors.filter((e) => !/401/.test(e)),
      [],
    );
    await context.close();
  });

  it('refuses a wrong password with a message, in English after the switch', async () => {
    const { page, context } = await newPage(browser);
    await page.goto(`${stack.web}/console`);
    await page.getByRole('button', { name: 'English' }).click();
    await page.locator('input[autocomplete="username"]').fill(SENDER);
    await page.locator('input[autocomplete="current-password"]').fill('not-the-password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Address or password is not correct.').waitFor();
    assert.equal(await page.locator('html').getAttribute('lang'), 'en');
    await context.close();
  });
});
