import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import type { Clock } from '../../core/clock.ts';
import { ContactStore } from '../../keys/index.ts';
import { generateKeyPair } from '../../keys/openpgp/index.ts';
import { newPage, pickupLink, screenshot, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * The pickup app's other states, in Chromium through the real stack: an unknown link, English from the
 * browser's languages and the switch, keyboard use, a session that expires on the server, a link to a
 * message sent before a new code, the optional own key, and limits on replies (413, 429).
 */
const MAX = 'max@example.org';
const [kind] = testDbKinds();

describe('pickup app in Chromium: states', function () {
  this.timeout(120_000);
  let browser: Browser;
  let stack: Stack;
  let offset = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offset) };

  beforeEach(() => {
    offset = 0;
  });
  withBrowserStack(
    () => ({
      kind: kind!,
      clock,
      config: { pickup: { maxReplyBytes: 64 * 1024, maxRepliesPerDay: 1 } },
    }),
    (env) => ({ browser, stack } = env),
  );

  const send = (subject = 'Befund', text = 'Hallo Max') =>
    stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject, text });

  it('an unknown or malformed link says "not found"', async () => {
    const { page, problems } = await newPage(browser);
    await page.goto(`${stack.web}/p/AAAAAAAAAAAAAAAAAAAAAA`);
    await page.getByRole('heading', { name: 'Nachricht nicht gefunden' }).waitFor();
    await page.goto(`${stack.web}/p/short`);
    await page.getByRole('heading', { name: 'Nachricht nicht gefunden' }).waitFor();
    assert.ok(
      !problems.requests.some((u) => u.includes('/api/pickup/short')),
      'no API call for a malformed id',
    );
    assert.deepEqual(problems.errors, []);
  });

  it('speaks English when the browser does, switches, and works by keyboard alone', async () => {
    await send();
    const { link, code } = await pickupLink(stack, MAX);
    const { page, problems } = await newPage(browser, { locale: 'en-GB' });
    await page.goto(link);
    await page.getByLabel('Access code').waitFor();
    assert.equal(await page.evaluate('document.documentElement.lang'), 'en');
    await page.getByRole('button', { name: 'Auf Deutsch umschalten' }).click();
    await page.getByLabel('Zugangscode').waitFor();
    assert.equal(await page.evaluate('document.documentElement.lang'), 'de');
    await page.getByRole('button', { name: 'Switch to English' }).click();
    // Keyboard: into the field, type, Tab to the button, Enter.
    await page.getByLabel('Access code').focus();
    await page.keyboard.type(code!);
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate('document.activeElement?.textContent?.trim()'), 'Open');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Your messages' }).waitFor();
    assert.equal(
      await page.evaluate('document.activeElement?.id'),
      'inbox-title',
      'focus moves to the inbox',
    );
    await page.getByText('Signature verified:').waitFor();
    assert.deepEqual(problems.errors, []);
  });

  it('a session that ended on the server drops everything and says so', async () => {
    await send('Befund', 'Streng vertraulich');
    const { link, code } = await pickupLink(stack, MAX);
    const { page } = await newPage(browser);
    await unlockInBrowser(page, link, code!);
    await page.getByText('Streng vertraulich').waitFor();
    offset = 16 * 60_000; // past pickup.sessionIdleMinutes (15)
    await page.getByRole('button', { name: 'Antworten' }).click();
    await page.getByLabel('Ihre Antwort').fill('Danke');
    await page.getByRole('button', { name: 'Verschlüsselt senden' }).click();
    await page.getByRole('heading', { name: 'Sitzung beendet' }).waitFor();
    assert.ok(!(await page.content()).includes('vertraulich'), 'nothing decrypted is left in the DOM');
    await screenshot(page, 'session-ended');
    await page.getByRole('button', { name: 'Erneut anmelden' }).click();
    await page.getByLabel('Zugangscode').waitFor();
  });

  it('a link to a message sent before a new code asks the sender to resend', async () => {
    await send();
    const { link } = await pickupLink(stack, MAX);
    const contacts = new ContactStore({ db: stack.gw.testDb.db.kysely, clock, crypto: stack.gw.deps.crypto });
    assert.ok(await contacts.reissue(MAX, 'test'));
    const { page } = await newPage(browser);
    await page.goto(link);
    await page.getByRole('heading', { name: 'Diese Nachricht kann nicht mehr geöffnet werden' }).waitFor();
    await screenshot(page, 'unreadable');
  });

  it('registers an own public key; refuses a key for another address', async () => {
    await send();
    const { link, code } = await pickupLink(stack, MAX);
    const own = await generateKeyPair({ address: MAX, now: new Date() });
    const other = await generateKeyPair({ address: 'someone@else.example', now: new Date() });
    const { page } = await newPage(browser);
    await unlockInBrowser(page, link, code!);
    await page.getByRole('button', { name: 'Einstellungen' }).click();
    const field = page.getByLabel(/Öffentlicher Schlüssel/);
    await field.fill('kein Schlüssel');
    await page.getByRole('button', { name: 'Schlüssel hinterlegen' }).click();
    await page.getByText('Das ist kein lesbarer öffentlicher OpenPGP-Schlüssel.').waitFor();
    await field.fill(other.publicKey);
    await page.getByRole('button', { name: 'Schlüssel hinterlegen' }).click();
    await page.getByText('Dieser Schlüssel kann nicht verwendet werden (address).').waitFor();
    await field.fill(own.publicKey);
    await page.getByRole('button', { name: 'Schlüssel hinterlegen' }).click();
    await page.getByText(`Schlüssel hinterlegt: ${own.fingerprint}`).waitFor();
  });

  it('shows the reply limits: too big (413), too many today (429)', async () => {
    await send();
    const { link, code } = await pickupLink(stack, MAX);
    const { page } = await newPage(browser);
    await unlockInBrowser(page, link, code!);
    await page.getByRole('button', { name: 'Antworten' }).click();
    await page.getByLabel('Ihre Antwort').fill('Mit großem Anhang');
    await page
      .getByLabel('Dateien anhängen')
      .setInputFiles([
        { name: 'big.bin', mimeType: 'application/octet-stream', buffer: Buffer.alloc(80_000, 7) },
      ]);
    await page.getByRole('button', { name: 'Verschlüsselt senden' }).click();
    await page.locator('[data-testid="reply-status"][data-outcome="tooBig"]').waitFor();
    await page.getByLabel('Dateien anhängen').setInputFiles([]);
    await page.getByRole('button', { name: 'Verschlüsselt senden' }).click();
    await page.locator('[data-testid="reply-status"][data-outcome="sent"]').waitFor();
    await page.getByRole('button', { name: 'Antworten' }).click(); // a sent reply closes the form
    await page.getByLabel('Ihre Antwort').fill('Noch eine');
    await page.getByRole('button', { name: 'Verschlüsselt senden' }).click();
    await page.locator('[data-testid="reply-status"][data-outcome="limit"]').waitFor();
    assert.match(await page.getByTestId('reply-status').innerText(), /zu viele Antworten/);
  });
});
