import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { simpleParser } from 'mailparser';
import type { Browser } from 'playwright-core';
import type { Clock } from '../../core/clock.ts';
import { decryptAndVerify, parseEncryptionKey } from '../../keys/openpgp/index.ts';
import { newPage, screenshot, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { extractArmoredPayload } from '../helpers/interop.ts';
import { mailText } from '../helpers/pickup-client.ts';
import type { Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * The pickup app in Chromium through the real stack: SMTP submission → gateway → worker → SMTP sink
 * (notification and receipt) → the app in the browser (Argon2id, unlock, decrypt, verify, download) →
 * a reply found at the sink and decrypted with the sender's key → a passphrase of one's own → lockout →
 * expiry. Screenshots of each screen go to test-output/screenshots/.
 */
const MAX = 'max@example.org';
const SUBJECT = 'Ihr Befund – Größe & Ärger';
const BODY = 'Sehr geehrter Herr Max,\nanbei der Befund.\nMit freundlichen Grüßen';
const PASSPHRASE = 'Blaue Wolken über Köln 42';

const [kind] = testDbKinds(); // the app is the same on both databases; the API tests cover both

describe('pickup app in Chromium: the whole flow', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  let offset = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offset) };

  beforeEach(() => {
    offset = 0;
  });
  withBrowserStack(
    () => ({ kind: kind!, clock }),
    (env) => ({ browser, stack } = env),
  );

  async function sendPickup(attachment: Buffer) {
    const info = await stack.gw.transport().sendMail({
      from: `Anna Berg <${SENDER}>`,
      to: MAX,
      subject: SUBJECT,
      text: BODY,
      attachments: [{ filename: 'Befund Müller.pdf', content: attachment, contentType: 'application/pdf' }],
    });
    const msgs = await stack.sink.waitFor(2);
    const notification = await mailText(msgs.find((m) => m.to[0] === MAX)!.raw);
    const link = /https?:\/\/\S+\/p\/[A-Za-z0-9_-]{22}/.exec(notification.text)?.[0];
    assert.ok(link, 'the notification carries the link');
    const code = await consoleCode(stack.web, MAX);
    return { link, code, messageId: info.messageId };
  }

  it('reads, downloads, replies, changes the code, logs out, locks, expires', async () => {
    const pdf = randomBytes(150_000);
    const { link, code, messageId } = await sendPickup(pdf);
    const { page, problems } = await newPage(browser);

    await page.goto(link);
    const input = page.getByLabel('Zugangscode');
    await input.waitFor();
    assert.equal(await page.evaluate('document.activeElement?.id'), 'secret', 'focus is in the code field');
    await screenshot(page, 'code-entry');

    // A wrong length or a letter outside the alphabet is reported before any request.
    await input.fill('7F3K-Q9');
    await page.getByRole('button', { name: 'Öffnen' }).click();
    await page.getByText('Der Zugangscode hat 10 Zeichen; eingegeben wurden 6.').waitFor();
    await input.fill('UUUU-UUUU-UU');
    await page.keyboard.press('Enter');
    await page.getByText('Diese Zeichen kommen im Zugangscode nicht vor: U.').waitFor();
    assert.ok(
      !problems.requests.some((u) => u.includes('/unlock')),
      'no unlock request for a malformed code',
    );

    // The code as people type it: lower case, spaces instead of dashes, O for 0, l for 1.
    const typed = code.toLowerCase().replace(/-/g, ' ').replace(/0/g, 'o').replace(/1/g, 'l');
    await input.fill(typed);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Ihre Nachrichten' }).waitFor();
    await page.getByRole('heading', { name: SUBJECT }).waitFor();
    assert.equal((await page.getByTestId('text-body').innerText()).trim(), BODY);
    const sig = page.getByTestId('signature');
    assert.equal(await sig.getAttribute('data-state'), 'verified');
    assert.match(await sig.innerText(), /anna@praxis\.example/);
    await screenshot(page, 'inbox');

    // The attachment downloads byte for byte.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('link', { name: 'Befund Müller.pdf herunterladen' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), 'Befund Müller.pdf');
    assert.ok(
      (await readFile((await download.path())!)).equals(pdf),
      'the downloaded bytes are the original',
    );
    await screenshot(page, 'message-with-attachment');

    // 360 px: nothing wider than the screen.
    await page.setViewportSize({ width: 360, height: 740 });
    assert.ok(
      (await page.evaluate<number>('document.documentElement.scrollWidth')) <= 360,
      'no horizontal scroll',
    );
    await screenshot(page, 'inbox-360px');
    await page.setViewportSize({ width: 1100, height: 900 });

    // A reply with an attachment, found at the sink and opened with the sender's key.
    const extra = randomBytes(40_000);
    await page.getByRole('button', { name: 'Antworten' }).click();
    await page.getByLabel('Ihre Antwort').fill('Danke!\nIch melde mich.');
    await page
      .getByLabel('Dateien anhängen')
      .setInputFiles([{ name: 'Rückfrage.bin', mimeType: 'application/octet-stream', buffer: extra }]);
    await page.getByRole('button', { name: 'Verschlüsselt senden' }).click();
    await page.locator('[data-testid="reply-status"][data-outcome="sent"]').waitFor();
    await screenshot(page, 'reply-sent');
    const reply = (await stack.sink.waitFor(3)).find(
      (m) => m.to[0] === SENDER && m.raw.includes('multipart/encrypted'),
    );
    assert.ok(reply, 'the reply reached the sender');
    const anna = (await stack.gw.keys.senderKey(SENDER))!;
    const contact = await stack.gw.testDb.db.kysely
      .selectFrom('contacts')
      .select('public_key')
      .where('address', '=', MAX)
      .executeTakeFirstOrThrow();
    const opened = await decryptAndVerify({
      armored: extractArmoredPayload(reply.raw),
      decryptionKey: anna.signer,
      verificationKeys: [await parseEncryptionKey(contact.public_key)],
      now: new Date(),
    });
    assert.ok(opened.verified, 'the reply is signed by the contact key');
    const inner = await simpleParser(Buffer.from(opened.data));
    assert.equal(inner.subject, `Re: ${SUBJECT}`);
    assert.equal(inner.inReplyTo, messageId);
    assert.equal(inner.from?.value[0]?.address, MAX);
    assert.equal(inner.text?.trim(), 'Danke!\nIch melde mich.');
    assert.equal(inner.attachments[0]?.filename, 'Rückfrage.bin');
    assert.ok(Buffer.from(inner.attachments[0]!.content).equals(extra), 'reply attachment intact');

    // A passphrase of one's own; then the old code no longer works.
    await page.getByRole('button', { name: 'Einstellungen' }).click();
    await page.getByLabel('Neues Passwort (mindestens 12 Zeichen)').fill(PASSPHRASE);
    await page.getByText(/Stärke: (gut|stark)/).waitFor();
    await page.getByLabel('Passwort wiederholen').fill(PASSPHRASE);
    await page.getByRole('button', { name: 'Passwort speichern' }).click();
    await page.locator('[data-testid="secret-status"][data-outcome="changed"]').waitFor();
    await screenshot(page, 'change-code');

    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByRole('heading', { name: 'Sie sind abgemeldet' }).waitFor();
    assert.ok(!(await page.content()).includes('Befund'), 'nothing decrypted is left in the DOM');
    await page.getByRole('button', { name: 'Erneut anmelden' }).click();
    const pass = page.getByLabel('Passwort');
    await pass.fill(code);
    await page.keyboard.press('Enter');
    await page.getByText('Der Zugangscode ist nicht richtig. Noch 4 Versuche').waitFor();
    await pass.fill(PASSPHRASE);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: SUBJECT }).waitFor();

    // Five wrong secrets lock the contact.
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByRole('button', { name: 'Erneut anmelden' }).click();
    for (let left = 4; left >= 1; left--) {
      await pass.fill(`falsches Passwort ${left}!`);
      await page.keyboard.press('Enter');
      await page.getByText(`Noch ${left} ${left === 1 ? 'Versuch,' : 'Versuche'}`).waitFor();
    }
    await pass.fill('falsches Passwort 0!');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Zugang gesperrt' }).waitFor();
    await screenshot(page, 'locked');

    // After the retention period the link says "expired", not "error".
    offset = 31 * 86_400_000;
    await page.reload();
    await page.getByRole('heading', { name: 'Diese Nachricht ist nicht mehr abrufbar' }).waitFor();
    await screenshot(page, 'expired');
    assert.deepEqual(problems.errors, [], 'no script error and no CSP violation');
    assert.ok(
      problems.requests.every(
        (u) => u.startsWith(stack.web) || u.startsWith('blob:') || u.startsWith('data:'),
      ),
      `no third-party request: ${problems.requests.filter((u) => !u.startsWith(stack.web)).join(' ')}`,
    );
  });
});
