import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { inThreadCrypto, resetPassword } from '../../keys/index.ts';
import { accessible, newPage, screenshot, SCREENSHOTS, withBrowserStack } from '../helpers/browser.ts';
import { consoleCodes, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { mailText } from '../helpers/pickup-client.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Her password and her console key in Chromium through the real stack (docs/console.md "Password change and
 * reset"): she changes her password on /console/account — the browser re-locks her key — and signs in with
 * the new one with her codes still readable; after an admin's reset (the CLI's function) her waiting code
 * is unreadable, and "issue a new code" makes a readable one (the receipt lists the message to resend).
 */
const MAX = 'max@example.org';
const NEW_PASSWORD = 'ein-neues-langes-passwort';
const CODE = /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/;
const [kind] = testDbKinds();

async function signIn(page: Page, web: string, password: string): Promise<void> {
  await page.goto(`${web}/console`);
  await page.locator('input[autocomplete="username"]').fill(SENDER);
  await page.locator('input[autocomplete="current-password"]').fill(password);
  await page.keyboard.press('Enter');
}

function keep(name: string, docName: string): void {
  mkdirSync('docs/screenshots/console', { recursive: true });
  copyFileSync(path.join(SCREENSHOTS, `${name}.png`), `docs/screenshots/console/${docName}.png`);
}

describe('console in Chromium: password change and reset', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  for (const width of [360, 1280]) {
    it(`at ${width} px: she changes her password; the new one signs in and her code is still readable`, async () => {
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'Hallo.' });
      await stack.sink.waitFor(2);
      const { page, problems, context } = await newPage(browser, { width });
      await signIn(page, stack.web, SENDER_PASSWORD);
      await page.locator('[data-testid="code-line"]', { hasText: MAX }).waitFor({ timeout: 60_000 });
      await page.getByRole('link', { name: 'Passwort' }).click();
      await page.locator('#old-password').fill(SENDER_PASSWORD);
      await page.locator('#new-password').fill('kurz');
      await page.locator('#repeat-password').fill('kurz');
      await page.keyboard.press('Enter');
      await page.getByText('mindestens 10 Zeichen', { exact: false }).first().waitFor();
      await page.locator('#new-password').fill(NEW_PASSWORD);
      await page.locator('#repeat-password').fill(NEW_PASSWORD);
      await page.keyboard.press('Enter');
      await page.getByTestId('password-changed').waitFor({ timeout: 60_000 });
      await screenshot(page, `console-account-${width}`);
      await accessible(page, 'account');
      await page.getByRole('button', { name: 'Abmelden' }).click();

      await signIn(page, stack.web, SENDER_PASSWORD);
      await page.getByText('Adresse oder Passwort ist nicht richtig.').waitFor();
      await page.locator('input[autocomplete="current-password"]').fill(NEW_PASSWORD);
      await page.keyboard.press('Enter');
      const line = page.locator('[data-testid="code-line"]', { hasText: MAX });
      await line.waitFor({ timeout: 60_000 });
      assert.match(await line.innerText(), CODE, 'the code is readable with the re-locked key');
      assert.ok(await stack.gw.users.authenticate(SENDER, NEW_PASSWORD), 'the SMTP password changed too');
      assert.deepEqual(
        problems.errors.filter((e) => !/401/.test(e)),
        [],
      );
      await context.close();
      if (width === 1280) keep('console-account-1280', 'account');
      // Back to the helpers' password for the next case (the same function, her own session).
      await resetPassword(
        { stores: stack.gw.testDb.db.stores, crypto: inThreadCrypto(), clock: stack.gw.deps.clock },
        SENDER,
        SENDER_PASSWORD,
      );
    });
  }

  it('after a reset by the admin: the code is unreadable, "issue a new code" makes a readable one', async () => {
    await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'Hallo.' });
    await stack.sink.waitFor(2);
    await resetPassword(
      { stores: stack.gw.testDb.db.stores, crypto: inThreadCrypto(), clock: stack.gw.deps.clock },
      SENDER,
      NEW_PASSWORD,
    );
    const { page, context } = await newPage(browser, { width: 390 });
    await signIn(page, stack.web, NEW_PASSWORD);
    const line = page.locator('[data-testid="code-line"]', { hasText: MAX });
    await line.waitFor({ timeout: 60_000 });
    assert.doesNotMatch(await line.innerText(), CODE);
    assert.match(await line.innerText(), /nicht mehr lesbar/);
    await screenshot(page, 'console-code-unreadable-390');
    await accessible(page, 'unreadable code');
    await line.getByRole('button', { name: 'Neuen Code ausstellen' }).click();
    const fresh = page.locator('[data-testid="code-line"]', { hasText: MAX });
    await fresh.filter({ hasText: CODE }).waitFor({ timeout: 60_000 });
    assert.equal(await fresh.count(), 1, 'the unreadable line is replaced');
    const code = CODE.exec(await fresh.innerText())![0];
    const lines = await consoleCodes(await consoleSignIn(stack.web, SENDER, NEW_PASSWORD));
    assert.deepEqual(
      lines.map((l) => [l.contact, l.code]),
      [[MAX, code]],
    );
    const receipts = await stack.sink.waitFor(3);
    const receipt = await mailText(receipts[2]!.raw);
    assert.doesNotMatch(receipt.text, CODE, 'the new receipt holds no code');
    await context.close();
  });
});
