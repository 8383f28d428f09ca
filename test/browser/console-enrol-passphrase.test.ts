import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { KDF_MINIMUM } from '../../webmail/contract/pickup.ts';
import {
  accessible,
  newPage,
  pickupLink,
  SCREENSHOTS,
  screenshot,
  withBrowserStack,
} from '../helpers/browser.ts';
import { consoleCodes, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { mailText } from '../helpers/pickup-client.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * "New secure contact" with the client's own passphrase, typed on the practice's device, in Chromium
 * through the real stack (docs/console.md "Own passphrase"): weak and mismatched passphrases are refused
 * with the pickup app's rule and strength hint; the contact's key is made and locked in the browser with a
 * person's passphrase cost — the passphrase never reaches the server — and the card has no code; a mail via
 * SMTP then makes no code and no receipt, and the client opens the pickup with that passphrase.
 */
const CLIENT = 'lena@example.org';
const PASSPHRASE = 'Mein Garten blüht im Mai 2026!';
const CODE = /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/;
const [kind] = testDbKinds();

describe('console in Chromium: enrol a client with their own passphrase', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  for (const width of [360, 1280]) {
    it(`at ${width} px: weak refused → own passphrase → card without code → mail → pickup opens with it`, async () => {
      const client = width === 360 ? `narrow-${CLIENT}` : CLIENT;
      const { page, problems, context } = await newPage(browser, { width });
      const bodies: string[] = [];
      page.on('request', (r) => bodies.push(r.postData() ?? ''));
      await page.goto(`${stack.web}/console`);
      await page.locator('input[autocomplete="username"]').fill(SENDER);
      await page.locator('input[autocomplete="current-password"]').fill(SENDER_PASSWORD);
      await page.keyboard.press('Enter');
      await page.getByRole('link', { name: 'Neuer sicherer Kontakt' }).click();
      await page.getByLabel('Eigenes Passwort, jetzt auf diesem Gerät eingegeben').check();
      await page.getByLabel('E-Mail-Adresse der Klientin oder des Klienten').fill(client);

      // The pickup app's rule and hint: too short is refused before any key is made.
      const pass = page.getByLabel('Ihr Passwort (mindestens 12 Zeichen)');
      await pass.fill('sommer');
      await page.getByText(/Stärke: schwach/).waitFor();
      await page.getByLabel('Passwort wiederholen').fill('sommer');
      await page.getByRole('button', { name: 'Kontakt mit diesem Passwort anlegen' }).click();
      await page.getByText('Das Passwort hat mindestens 12 Zeichen.').waitFor();
      await pass.fill(PASSPHRASE);
      await page.getByText(/Stärke: (gut|stark)/).waitFor();
      await page.getByLabel('Passwort wiederholen').fill(`${PASSPHRASE}x`);
      await page.getByRole('button', { name: 'Kontakt mit diesem Passwort anlegen' }).click();
      await page.getByText('Die beiden Passwörter stimmen nicht überein.').waitFor();
      await accessible(page, 'enrol with own passphrase (form)');
      if (width === 1280) await screenshot(page, 'console-enrol-passphrase-form-1280');
      assert.equal(await stack.gw.testDb.db.stores.contacts.byAddress(client), undefined, 'nothing made');

      await page.getByLabel('Passwort wiederholen').fill(PASSPHRASE);
      await page.getByRole('button', { name: 'Kontakt mit diesem Passwort anlegen' }).click();
      const card = page.getByTestId('enrol-card');
      await card.waitFor({ timeout: 90_000 });
      assert.equal(await page.getByTestId('card-code').count(), 0, 'no code on the card');
      assert.match(await page.getByTestId('card-own').innerText(), /Passwort ein, das Sie gewählt haben/);
      assert.equal((await page.getByTestId('card-contact').innerText()).trim(), client);
      assert.doesNotMatch(await card.innerText(), CODE);
      await screenshot(page, `console-enrol-passphrase-${width}`);
      await accessible(page, 'enrol with own passphrase (card)');
      assert.ok(
        bodies.every((b) => !b.includes(PASSPHRASE) && !b.includes(encodeURIComponent(PASSPHRASE))),
        'the passphrase never leaves the browser',
      );
      assert.deepEqual(problems.errors, []);
      await context.close();

      // Stored as a chosen passphrase: a person's cost (three passes), no code waiting in her console.
      const stores = stack.gw.testDb.db.stores;
      const row = await stores.contacts.byId((await stores.contacts.byAddress(client))!.id);
      assert.equal(row?.secret_kind, 'passphrase');
      assert.ok(
        (JSON.parse(row!.kdf) as { iterations: number }).iterations >= KDF_MINIMUM.iterations,
        'the stronger KDF setting of a chosen passphrase',
      );
      const lines = await consoleCodes(await consoleSignIn(stack.web));
      assert.equal(lines.filter((l) => l.contact === client).length, 0, 'no code line');

      // A mail via SMTP: the contact is known — only the notification, no receipt, no code by mail.
      const before = stack.sink.messages.length;
      await stack.gw
        .transport()
        .sendMail({ from: SENDER, to: client, subject: 'Termin', text: 'Bis Dienstag.' });
      await stack.sink.waitFor(before + 1);
      const { link } = await pickupLink(stack, client, before + 1);
      await new Promise((r) => setTimeout(r, 1500)); // time for a receipt, were one queued
      assert.deepEqual(
        stack.sink.messages.slice(before).map((m) => m.to),
        [[client]],
        'only the notification to the client',
      );
      assert.doesNotMatch((await mailText(stack.sink.messages[before]!.raw)).text, CODE, 'no code by e-mail');

      // The client opens the pickup with the passphrase they chose.
      const client2 = await newPage(browser, { width });
      await client2.page.goto(link);
      await client2.page.locator('#secret').fill(PASSPHRASE);
      await client2.page.keyboard.press('Enter');
      await client2.page.getByRole('heading', { name: 'Ihre Nachrichten' }).waitFor({ timeout: 90_000 });
      await client2.page.getByRole('heading', { name: 'Termin' }).waitFor();
      assert.equal((await client2.page.getByTestId('text-body').innerText()).trim(), 'Bis Dienstag.');
      await client2.context.close();
      if (width === 1280) {
        mkdirSync('docs/screenshots/console', { recursive: true });
        copyFileSync(
          path.join(SCREENSHOTS, 'console-enrol-passphrase-form-1280.png'),
          'docs/screenshots/console/enrol-passphrase.png',
        );
        copyFileSync(
          path.join(SCREENSHOTS, 'console-enrol-passphrase-1280.png'),
          'docs/screenshots/console/enrol-passphrase-card.png',
        );
      }
    });
  }
});
