import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { accessible, newPage, screenshot, SCREENSHOTS, withBrowserStack } from '../helpers/browser.ts';
import { consoleCodes, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { linkId, mailText, readMessage, unlock } from '../helpers/pickup-client.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * "New secure contact" in Chromium through the real stack (docs/console.md): she enrols a client in person,
 * the card shows the code and a QR code and only the card prints; the first mail to that client then makes
 * no new code (no receipt, no code line), and the client opens it with the card's code.
 */
const ANNA = 'anna@example.org';
const CODE = /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/;
const [kind] = testDbKinds();

async function enrol(page: Page, address: string): Promise<void> {
  await page.getByRole('link', { name: 'Neuer sicherer Kontakt' }).click();
  await page.getByLabel('E-Mail-Adresse der Klientin oder des Klienten').fill(address);
  await page.keyboard.press('Enter');
}

describe('console in Chromium: enrol a client in person (the printable card)', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  for (const width of [360, 1280]) {
    it(`at ${width} px: the card shows the code and a QR code; the first mail makes no new code`, async () => {
      const client = width === 360 ? `narrow-${ANNA}` : ANNA;
      const { page, problems, context } = await newPage(browser, { width });
      await page.goto(`${stack.web}/console`);
      await page.locator('input[autocomplete="username"]').fill(SENDER);
      await page.locator('input[autocomplete="current-password"]').fill(SENDER_PASSWORD);
      await page.keyboard.press('Enter');
      await enrol(page, client);
      const card = page.getByTestId('enrol-card');
      await card.waitFor({ timeout: 60_000 });
      const code = (await page.getByTestId('card-code').innerText()).trim();
      assert.match(code, CODE);
      assert.equal((await page.getByTestId('card-contact').innerText()).trim(), client);
      assert.equal((await page.getByTestId('card-url').innerText()).trim(), stack.gw.deps.config.publicUrl);
      const qr = card.getByRole('img');
      assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/png;base64,/);
      assert.ok(await qr.evaluate((img) => (img as unknown as { naturalWidth: number }).naturalWidth > 0));
      await screenshot(page, `console-enrol-card-${width}`);
      await accessible(page, 'enrol card');
      await page.emulateMedia({ media: 'print' });
      assert.ok(await page.getByTestId('card-code').isVisible(), 'the card prints');
      assert.equal(await page.getByRole('navigation').isVisible(), false, 'the navigation does not print');
      assert.equal(await page.getByRole('button', { name: 'Karte drucken' }).isVisible(), false);
      await page.emulateMedia({ media: 'screen' });

      // The same address again: refused, the code is not shown twice.
      await page.getByRole('button', { name: 'Weiteren Kontakt anlegen' }).click();
      await page.getByLabel('E-Mail-Adresse der Klientin oder des Klienten').fill(client);
      await page.keyboard.press('Enter');
      await page.getByText('bereits ein sicherer Kontakt', { exact: false }).waitFor();
      await accessible(page, 'enrol form (exists)');
      assert.deepEqual(
        problems.errors.filter((e) => !/409/.test(e)),
        [],
      );
      await context.close();
      if (width === 1280) {
        mkdirSync('docs/screenshots/console', { recursive: true });
        copyFileSync(
          path.join(SCREENSHOTS, 'console-enrol-card-1280.png'),
          'docs/screenshots/console/enrol-card.png',
        );
      }

      // The first mail: the contact is known, so no code is made — no receipt, no code line.
      const before = stack.sink.messages.length;
      await stack.gw
        .transport()
        .sendMail({ from: SENDER, to: client, subject: 'Termin', text: 'Bis Dienstag.' });
      await stack.sink.waitFor(before + 1);
      await new Promise((r) => setTimeout(r, 2000)); // time for a receipt, were one queued
      const fresh = stack.sink.messages.slice(before);
      assert.deepEqual(
        fresh.map((m) => m.to),
        [[client]],
        'only the notification to the client: no receipt to her',
      );
      const notification = fresh[0]!;
      assert.doesNotMatch((await mailText(notification.raw)).text, CODE, 'no code by e-mail');
      const lines = await consoleCodes(await consoleSignIn(stack.web));
      assert.equal(lines.filter((l) => l.contact === client).length, 0, 'no new code line');

      // The client opens the message with the card's code.
      const id = await linkId(notification.raw);
      const opened = await unlock(stack.web, id, code);
      const message = await readMessage(stack.web, opened, id);
      assert.match(message.parsed.text ?? '', /Bis Dienstag/);
    });
  }
});
