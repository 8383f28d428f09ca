import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import {
  accessible,
  newPage,
  pickupLink,
  screenshot,
  SCREENSHOTS,
  unlockInBrowser,
  withBrowserStack,
} from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { dbContains, SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Replies she can read without an inbound relay (docs/console.md "Replies"), in Chromium through the real
 * stack: the client replies on the pickup page → the PGP/MIME copy still reaches her address → the reply
 * is listed on /console/replies with the contact and a valid signature → "Lesen" shows its text, decrypted
 * by the server for that answer → the database holds no byte of the text → she deletes it.
 */
const MAX = 'max@example.org';
const TEXT = 'Rückfrage-7f3a: Ist der Termin am Dienstag noch frei?';
const [kind] = testDbKinds();

describe('console in Chromium: pickup replies read in the console (no inbound relay)', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  for (const width of [360, 1280]) {
    it(`at ${width} px: the client replies → listed with a valid signature → opened → deleted`, async () => {
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'Hallo.' });
      const { link, code } = await pickupLink(stack, MAX);
      assert.ok(code, 'the access code from her console');

      const client = await newPage(browser, { width });
      await unlockInBrowser(client.page, link, code);
      await client.page.getByRole('button', { name: 'Antworten' }).click();
      await client.page.getByLabel('Ihre Antwort').fill(TEXT);
      await client.page.getByRole('button', { name: 'Verschlüsselt senden' }).click();
      await client.page.locator('[data-testid="reply-status"][data-outcome="sent"]').waitFor();
      await client.context.close();
      const copy = (await stack.sink.waitFor(3)).find(
        (m) => m.to[0] === SENDER && m.raw.includes('multipart/encrypted'),
      );
      assert.ok(copy, 'the PGP/MIME copy still goes to her address');

      const { page, problems, context } = await newPage(browser, { width });
      await page.goto(`${stack.web}/console`);
      await page.locator('input[autocomplete="username"]').fill(SENDER);
      await page.locator('input[autocomplete="current-password"]').fill(SENDER_PASSWORD);
      await page.keyboard.press('Enter');
      await page.locator('#codes-title').waitFor({ timeout: 60_000 });
      await page.getByRole('link', { name: 'Antworten' }).click();
      const line = page.locator('[data-testid="reply-line"]', { hasText: MAX });
      await line.waitFor();
      assert.match(await line.innerText(), /gültig/, 'the verdict: signed with the contact key');
      assert.doesNotMatch(await page.content(), /Rückfrage-7f3a/, 'no text before she asks');
      await line.getByRole('button', { name: 'Lesen' }).click();
      const shown = page.getByTestId('reply-text');
      await shown.waitFor();
      assert.equal(await shown.innerText(), TEXT);
      await screenshot(page, `console-replies-${width}`);
      await accessible(page, 'replies');
      if (width === 1280) {
        mkdirSync('docs/screenshots/console', { recursive: true });
        copyFileSync(
          path.join(SCREENSHOTS, `console-replies-${width}.png`),
          'docs/screenshots/console/replies.png',
        );
      }
      assert.ok(
        (await page.evaluate<number>('document.documentElement.scrollWidth')) <= width,
        'no horizontal scroll',
      );

      assert.equal(await dbContains(stack.gw.testDb, 'Rückfrage-7f3a'), false, 'no plaintext in the DB');
      assert.equal(await dbContains(stack.gw.testDb, 'Dienstag noch frei'), false, 'no plaintext in the DB');

      await line.getByRole('button', { name: 'Löschen' }).click();
      await page.getByTestId('no-replies').waitFor();
      assert.equal(await page.getByTestId('reply-open').count(), 0, 'the open reply closes with it');
      assert.deepEqual(problems.errors, []);
      await context.close();
    });
  }
});
