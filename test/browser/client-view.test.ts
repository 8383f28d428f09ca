import assert from 'node:assert/strict';
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import type { Clock } from '../../core/clock.ts';
import { decryptAndVerify, generateKeyPair, parseEncryptionKey } from '../../keys/openpgp/index.ts';
import { accessible, launchChromium, newPage, pickupPagesForTest, screenshot } from '../helpers/browser.ts';
import { consoleCode } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { extractArmoredPayload } from '../helpers/interop.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * What a client sees (issue 15), in Chromium at a phone's 360×740 and a desktop's 1280×800 through the
 * real stack: the operator block from the configuration on every screen, the security word on the code
 * page, the message first on the phone, Cc and the message's own date, the signature in plain words, the
 * link notice only with links, the reply closing into the thread (its From named, its text attachment
 * with a charset), the own key from a file — and axe-core finding no serious or critical violation on any
 * screen. Screenshots go to test-output/screenshots/.
 */
const MAX = 'max@example.org';
const SUBJECT = 'Ihr Befund vom Dienstag';
const DATE = new Date('2026-11-30T09:15:00Z');
const PRACTICE = {
  practiceName: 'Praxis Dr. Anna Berg',
  practiceAddress: 'Lindenstraße 5, 50674 Köln',
  practicePhone: '+49 221 123456',
  imprintUrl: 'https://praxis.example/impressum',
  privacyUrl: 'https://praxis.example/datenschutz',
  securityWord: 'Sonnenblume',
};
const [kind] = testDbKinds();

async function operatorShown(page: Page): Promise<void> {
  const op = page.getByTestId('operator');
  await op.getByText(PRACTICE.practiceName).waitFor();
  await op.getByText(PRACTICE.practiceAddress).waitFor();
  await op.getByText(PRACTICE.practicePhone).waitFor();
  assert.equal(await op.getByRole('link', { name: 'Impressum' }).getAttribute('href'), PRACTICE.imprintUrl);
  assert.equal(
    await op.getByRole('link', { name: 'Datenschutzhinweis' }).getAttribute('href'),
    PRACTICE.privacyUrl,
  );
}

describe('pickup app in Chromium: what the client sees', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  let offset = 0;
  const clock: Clock = { now: () => new Date(Date.now() + offset) };

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });
  beforeEach(async () => {
    offset = 0;
    stack = await startStack({ kind: kind!, clock, pages: await pickupPagesForTest(), config: PRACTICE });
  });
  afterEach(async () => {
    await stack.close();
  });

  /** The notification to MAX (as text) and the access code from the sender's console. */
  async function delivered(count: number): Promise<{ link: string; code: string; text: string }> {
    const msgs = await stack.sink.waitFor(count);
    const notices = msgs.filter((m) => m.to[0] === MAX);
    const text = (await simpleParser(notices.at(-1)!.raw)).text ?? '';
    const link = /https?:\/\/\S+\/p\/[A-Za-z0-9_-]{22}/.exec(text)?.[0];
    // The code is read where the practitioner reads it: in her console (the receipt holds none).
    const code = await consoleCode(stack.web, MAX);
    assert.ok(link && code, 'a link and a code');
    return { link, code, text };
  }

  it('at 360×740: operator and security word before the code, the message first, every screen accessible', async () => {
    await stack.gw.transport().sendMail({
      from: `Anna Berg <${SENDER}>`,
      to: MAX,
      cc: 'Lena Koch <lena@example.net>',
      subject: SUBJECT,
      date: DATE,
      text: 'Termine unter https://praxis.example/termine',
      html: '<p>Sehr geehrter Herr Max,</p><p>Termine: <a href="https://praxis.example/termine">hier</a>.</p>',
    });
    const { link, code, text } = await delivered(4);
    assert.match(text, /Sicherheitswort der Praxis: Sonnenblume/, 'the notification carries the word');
    const { page, problems } = await newPage(browser, { width: 360 });
    await page.setViewportSize({ width: 360, height: 740 });

    await page.goto(link);
    await page.getByLabel('Zugangscode').waitFor();
    assert.equal(await page.getByTestId('security-word').locator('strong').innerText(), 'Sonnenblume');
    await operatorShown(page);
    await screenshot(page, 'client-360-code');
    await accessible(page, 'code');

    await page.getByLabel('Zugangscode').fill('AAAA-AAAA-AA');
    await page.keyboard.press('Enter');
    await page.getByText(/Noch 4 Versuche/).waitFor();
    await accessible(page, 'wrong code');

    await page.getByLabel('Zugangscode').fill(code);
    await page.keyboard.press('Enter');
    const heading = page.getByRole('heading', { name: SUBJECT });
    await heading.waitFor();
    // The message is on the first screen; the list is one tap away.
    const box = (await heading.boundingBox())!;
    assert.ok(box.y + box.height < 740, `the subject is on the first screen (y=${box.y})`);
    assert.equal(await page.evaluate('window.scrollY'), 0, 'the page did not scroll to the list');
    await page.getByRole('link', { name: /Zur Nachrichtenliste/ }).waitFor();
    assert.ok((await page.evaluate<number>('document.documentElement.scrollWidth')) <= 360);
    // Cc, and the message's own date with the arrival as a tooltip.
    assert.equal(await page.getByTestId('cc').innerText(), 'Lena Koch <lena@example.net>');
    const time = page.locator('dd time');
    assert.equal(await time.getAttribute('datetime'), DATE.toISOString());
    assert.match((await time.getAttribute('title')) ?? '', /^Eingegangen: /);
    // The signature in plain words; the fingerprint only behind Details.
    const sig = page.getByTestId('signature');
    assert.match(
      await sig.innerText(),
      /^✔ Unterschrift geprüft: unterschrieben von anna@praxis\.example\.\s*Details$/,
    );
    assert.doesNotMatch(await sig.innerText(), /Fingerabdruck/);
    await sig.getByText('Details').click();
    assert.match(await sig.innerText(), /Fingerabdruck [0-9A-F]{4} /);
    await page.getByTestId('links-note').waitFor();
    const frame = (await page.locator('iframe').boundingBox())!;
    assert.ok(frame.height < 400, `a short message gets a short frame (${frame.height}px)`);
    await operatorShown(page);
    await screenshot(page, 'client-360-message');
    await accessible(page, 'message');

    await page.getByRole('button', { name: 'Antworten' }).click();
    await page.getByLabel('Ihre Antwort').waitFor();
    await accessible(page, 'reply form');
    await page.getByRole('button', { name: 'Abbrechen' }).click();

    await page.getByRole('button', { name: 'Einstellungen' }).click();
    await page.getByRole('heading', { name: 'Einstellungen' }).waitFor();
    const headings = await page
      .locator('section[aria-labelledby="settings-title"]')
      .locator('h2, h3')
      .evaluateAll((hs) => hs.map((h) => `${h.tagName}:${h.textContent?.trim()}`));
    assert.deepEqual(headings, [
      'H2:Einstellungen',
      'H3:Eigenes Passwort festlegen',
      'H3:Eigenen OpenPGP-Schlüssel hinterlegen',
    ]);
    const sizes = await page
      .locator('section[aria-labelledby="settings-title"]')
      .locator('h2, h3')
      .evaluateAll((hs) =>
        hs.map((h) => parseFloat(h.ownerDocument.defaultView!.getComputedStyle(h).fontSize)),
      );
    assert.ok(sizes[0]! > sizes[1]! && sizes[1] === sizes[2], `h2 larger than h3: ${sizes.join(', ')}`);
    await screenshot(page, 'client-360-settings');
    await accessible(page, 'settings');

    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByRole('heading', { name: 'Sie sind abgemeldet' }).waitFor();
    await operatorShown(page);
    await accessible(page, 'logged out');

    await page.goto(`${stack.web}/p/AAAAAAAAAAAAAAAAAAAAAA`);
    await page.getByRole('heading', { name: 'Nachricht nicht gefunden' }).waitFor();
    await operatorShown(page);
    await accessible(page, 'not found');

    offset = 31 * 86_400_000;
    await page.goto(link);
    await page.getByRole('heading', { name: 'Diese Nachricht ist nicht mehr abrufbar' }).waitFor();
    await operatorShown(page);
    await accessible(page, 'expired');
    // axe tries to run inside the message frame too; the sandbox (no scripts) refuses it, as it should.
    const axeInFrame = /^console: Blocked script execution in 'about:srcdoc'/;
    assert.deepEqual(
      problems.errors.filter((e) => !axeInFrame.test(e)),
      [],
    );
  });

  it('at 1280×800: no link notice without links, the reply closes into the thread, named, with charsets; own key from a file', async () => {
    const info = await stack.gw.transport().sendMail({
      from: `Anna Berg <${SENDER}>`,
      to: MAX,
      subject: SUBJECT,
      text: 'Bitte melden Sie sich.',
      html: '<p>Bitte melden Sie sich.</p>',
    });
    const { link, code } = await delivered(2);
    const { page } = await newPage(browser, { width: 1280, locale: 'en-US' });
    await page.setViewportSize({ width: 1280, height: 800 });
    await page.goto(link);
    // German or English only: an English browser gets English; the switch is visible.
    await page.getByLabel('Access code').waitFor();
    await page.getByRole('button', { name: 'Auf Deutsch umschalten' }).click();
    await page.getByLabel('Zugangscode').fill(code);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: SUBJECT }).waitFor();
    assert.equal(await page.getByTestId('links-note').count(), 0, 'no link notice without links');
    assert.equal(await page.getByTestId('cc').count(), 0, 'no Cc row without Cc');

    await page.getByRole('button', { name: 'Antworten' }).click();
    await page.getByLabel('Ihre Antwort').fill('Danke, bis Dienstag.');
    await page.getByLabel(/Ihr Name/).fill('Max Müller');
    await page
      .getByLabel('Dateien anhängen')
      .setInputFiles([
        { name: 'notiz.txt', mimeType: 'text/plain', buffer: Buffer.from('Grüße aus Köln\n', 'utf8') },
      ]);
    await page.getByRole('button', { name: 'Verschlüsselt senden' }).click();
    await page.locator('[data-testid="reply-status"][data-outcome="sent"]').waitFor();
    assert.equal(await page.getByLabel('Ihre Antwort').count(), 0, 'the form closed');
    const sent = page.getByTestId('sent-reply');
    await sent.getByText('Danke, bis Dienstag.').waitFor();
    await sent.getByText(/notiz\.txt/).waitFor();
    await screenshot(page, 'client-1280-reply-in-thread');
    await accessible(page, 'reply sent');

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
    const inner = await simpleParser(Buffer.from(opened.data));
    assert.equal(inner.from?.value[0]?.name, 'Max Müller');
    assert.equal(inner.from?.value[0]?.address, MAX);
    assert.equal(inner.inReplyTo, info.messageId);
    const txt = inner.attachments[0]!;
    assert.equal(txt.contentType, 'text/plain');
    const type = txt.headers.get('content-type') as { params?: Record<string, string> } | undefined;
    assert.equal(type?.params?.charset, 'utf-8', 'a text attachment names its charset');
    assert.equal(Buffer.from(txt.content).toString('utf8'), 'Grüße aus Köln\n');

    // The server kept the reply only encrypted; the next session reads it back with the contact's key.
    const stored = await stack.gw.testDb.db.kysely.selectFrom('pickup_replies').selectAll().execute();
    assert.equal(stored.length, 1);
    assert.ok(!Buffer.from(stored[0]!.ciphertext).includes('Danke, bis Dienstag'), 'no clear text at rest');
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByRole('button', { name: 'Erneut anmelden' }).click();
    await page.getByLabel('Zugangscode').fill(code);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: SUBJECT }).waitFor();
    await page.getByTestId('sent-reply').getByText('Danke, bis Dienstag.').waitFor();
    await page
      .getByTestId('sent-reply')
      .getByText(/notiz\.txt/)
      .waitFor();

    // The own key from a file, with the sentence that says what it is for.
    await page.getByRole('button', { name: 'Einstellungen' }).click();
    await page.getByText(/künftige Nachrichten verschlüsselt direkt in Ihr E-Mail-Postfach/).waitFor();
    const own = await generateKeyPair({ address: MAX, now: new Date() });
    await page
      .getByLabel('Schlüsseldatei wählen')
      .setInputFiles([
        { name: 'max.asc', mimeType: 'application/pgp-keys', buffer: Buffer.from(own.publicKey) },
      ]);
    const field = page.locator('#own-key');
    await page.waitForFunction(
      (el) => (el as unknown as { value: string }).value.includes('BEGIN PGP'),
      await field.elementHandle(),
    );
    await page.getByRole('button', { name: 'Schlüssel hinterlegen' }).click();
    await page.getByText(`Schlüssel hinterlegt: ${own.fingerprint}`).waitFor();
    await screenshot(page, 'client-1280-settings');
    await accessible(page, 'settings with key');
  });
});
