import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser } from 'playwright-core';
import { newPage, pickupLink, screenshot, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Attack (issue 11, finding 6b): an attachment named `invoice<U+202E>fdp.exe` shows as `invoiceexe.pdf`
 * — the right-to-left override reverses what follows it — and the person opens a program believing it is
 * a PDF. Other bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C), invisible characters,
 * control characters and path separators in a name play the same game. In the pickup app the name is shown
 * and suggested for the download neutralised: no such character on the page or in the file name, a hint
 * that the name was changed, and the bytes intact. An ordinary Hebrew name stays as it is.
 */
const MAX = 'max@example.org';
const [kind] = testDbKinds();
// U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C, and the invisible ones display.ts also removes.
const TRICKS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u200B\u2060\uFEFF\u00AD]/u;

const files: { sent: string; shown: string; renamed: boolean }[] = [
  { sent: 'invoice\u202Efdp.exe', shown: 'invoicefdp.exe', renamed: true },
  { sent: 'Bild\u2066\u202Egnp\u2069.js', shown: 'Bildgnp.js', renamed: true },
  {
    sent: 'Befund\u202B\u202A\u202C\u202D\u2067\u2068\u200E\u200F\u061C.pdf',
    shown: 'Befund.pdf',
    renamed: true,
  },
  { sent: 'Null\u200Bbreite\uFEFF\u00AD.txt', shown: 'Nullbreite.txt', renamed: true },
  { sent: '../../etc/passwd', shown: '_.._etc_passwd', renamed: true },
  { sent: 'C:\\Windows\\evil.bat', shown: 'C__Windows_evil.bat', renamed: true },
  { sent: 'Steuer\u0007zeichen.txt', shown: 'Steuer_zeichen.txt', renamed: true },
  { sent: 'שלום.pdf', shown: 'שלום.pdf', renamed: false },
];

describe('security: bidi and control characters in an attachment name are shown neutralised', function () {
  this.timeout(180_000);
  let browser: Browser;
  let stack: Stack;

  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  it('shows and saves invoice<RLO>fdp.exe as invoicefdp.exe, and so on for every trick', async () => {
    await stack.gw.transport().sendMail({
      from: SENDER,
      to: MAX,
      subject: 'Rechnungen',
      text: 'Anbei.',
      attachments: files.map((f, i) => ({
        filename: f.sent,
        content: `Datei ${i}`,
        contentType: 'application/octet-stream',
      })),
    });
    const { link, code } = await pickupLink(stack, MAX);
    const { page, problems } = await newPage(browser);
    await unlockInBrowser(page, link, code!);
    await page.getByRole('heading', { name: 'Rechnungen' }).waitFor();
    const items = page.locator('ul.files li');
    await items.first().waitFor();
    assert.equal(await items.count(), files.length);
    for (const [i, f] of files.entries()) {
      const item = items.nth(i);
      const a = item.getByRole('link');
      assert.equal(await a.innerText(), f.shown, `shown: ${JSON.stringify(f.sent)}`);
      assert.equal(await a.getAttribute('download'), f.shown);
      assert.doesNotMatch((await a.getAttribute('aria-label')) ?? '', TRICKS);
      assert.doesNotMatch(
        (await a.getAttribute('download')) ?? '',
        /[\p{Cc}/\\]/u,
        'no control or separator',
      );
      assert.equal(await item.getByTestId('renamed').count(), f.renamed ? 1 : 0, `hint for ${f.shown}`);
      const [download] = await Promise.all([page.waitForEvent('download'), a.click()]);
      assert.equal(download.suggestedFilename(), f.shown);
      assert.equal(await readFile((await download.path())!, 'utf8'), `Datei ${i}`);
    }
    assert.doesNotMatch(await page.locator('ul.files').innerText(), TRICKS);
    assert.match(
      await items.first().getByTestId('renamed').innerText(),
      /Unsichtbare Steuerzeichen oder Pfadzeichen im Namen/,
    );
    await screenshot(page, 'attachment-bidi-names');
    assert.deepEqual(problems.errors, []);
  });
});
