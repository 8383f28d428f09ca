import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import type { Clock } from '../../core/clock.ts';
import { launchChromium, newPage, pickupPagesForTest, SCREENSHOTS } from '../helpers/browser.ts';
import { consoleCode } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Every pickup screen as a client sees it, at a phone's 360×740 and a desktop's 1280×800, one full-page
 * screenshot each in test-output/screenshots/tour/ (SEALPOST_SCREENS_DIR overrides, for before/after
 * pictures). What the screens must show is asserted in client-view.test.ts; this file walks them only.
 */
const MAX = 'max@example.org';
const DIR = process.env.SEALPOST_SCREENS_DIR ?? path.join(SCREENSHOTS, 'tour');
const [kind] = testDbKinds();
const SIZES = [
  { name: '360', width: 360, height: 740 },
  { name: '1280', width: 1280, height: 800 },
] as const;

/** The link from the notification to MAX and the code from the sender's console (the receipt has none). */
async function linkAndCode(stack: Stack): Promise<{ link: string; code: string }> {
  for (let n = 2; ; n++) {
    const msgs = await stack.sink.waitFor(n);
    let link: string | undefined;
    for (const m of msgs) {
      const text = (await simpleParser(m.raw)).text ?? '';
      if (m.to[0] === MAX) link ??= /https?:\/\/\S+\/p\/[A-Za-z0-9_-]{22}/.exec(text)?.[0];
    }
    if (link) return { link, code: await consoleCode(stack.web, MAX) };
  }
}

async function shot(page: Page, size: string, name: string): Promise<void> {
  mkdirSync(DIR, { recursive: true });
  await page.screenshot({ path: path.join(DIR, `${name}-${size}.png`), fullPage: true });
}

describe('pickup app in Chromium: a tour of every screen at 360 and 1280 px', function () {
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
    stack = await startStack({
      kind: kind!,
      clock,
      pages: await pickupPagesForTest(),
      config: {
        practiceName: 'Praxis Dr. Anna Berg',
        practiceAddress: 'Lindenstraße 5, 50674 Köln',
        practicePhone: '+49 221 123456',
        imprintUrl: 'https://praxis.example/impressum',
        privacyUrl: 'https://praxis.example/datenschutz',
        securityWord: 'Sonnenblume',
      },
    });
  });
  afterEach(async () => {
    await stack.close();
  });

  for (const size of SIZES) {
    it(`walks the screens at ${size.width}×${size.height}`, async () => {
      await stack.gw.transport().sendMail({
        from: `Anna Berg <${SENDER}>`,
        to: MAX,
        cc: 'Lena Koch <lena@example.net>',
        subject: 'Ihr Befund vom Dienstag',
        text: 'Sehr geehrter Herr Max,\nanbei der Befund.\nMit freundlichen Grüßen\nAnna Berg',
        html:
          '<p>Sehr geehrter Herr Max,</p><p>anbei der Befund. Termine finden Sie unter ' +
          '<a href="https://praxis.example/termine">praxis.example/termine</a>.</p>' +
          '<p>Mit freundlichen Grüßen<br>Anna Berg</p>',
        attachments: [
          { filename: 'Befund.pdf', content: Buffer.alloc(2000, 1), contentType: 'application/pdf' },
        ],
        date: new Date('2026-11-30T09:15:00Z'),
      });
      const { link, code } = await linkAndCode(stack);
      const { page } = await newPage(browser, { width: size.width });
      await page.setViewportSize({ width: size.width, height: size.height });

      await page.goto(link);
      await page.locator('#secret').waitFor();
      await shot(page, size.name, '01-code');
      await page.locator('#secret').fill('AAAA-AAAA-AA');
      await page.keyboard.press('Enter');
      await page.getByText(/Noch 4 Versuche/).waitFor();
      await shot(page, size.name, '02-code-wrong');
      await page.locator('#secret').fill(code);
      await page.keyboard.press('Enter');
      await page.locator('#inbox-title').waitFor({ state: 'attached' });
      await page.getByRole('heading', { name: 'Ihr Befund vom Dienstag' }).waitFor();
      await page.waitForTimeout(300); // the frame's document paints after load
      await shot(page, size.name, '03-message');

      await page.getByRole('button', { name: 'Antworten' }).click();
      await page.locator('#reply-text').fill('Danke, ich melde mich nächste Woche.');
      await shot(page, size.name, '04-reply-form');
      await page.locator('form.reply button[type="submit"]').click();
      await page.locator('[data-testid="reply-status"][data-outcome="sent"]').waitFor({ state: 'attached' });
      await shot(page, size.name, '05-reply-sent');

      await page.getByRole('button', { name: 'Einstellungen' }).click();
      await page.locator('#new-pass').waitFor();
      await shot(page, size.name, '06-settings');

      await page.getByRole('button', { name: 'Abmelden' }).click();
      await page.getByRole('heading', { name: 'Sie sind abgemeldet' }).waitFor();
      await shot(page, size.name, '07-logged-out');

      await page.goto(`${stack.web}/p/AAAAAAAAAAAAAAAAAAAAAA`);
      await page.getByRole('heading', { name: 'Nachricht nicht gefunden' }).waitFor();
      await shot(page, size.name, '08-not-found');

      offset = 31 * 86_400_000;
      await page.goto(link);
      await page.getByRole('heading', { name: 'Diese Nachricht ist nicht mehr abrufbar' }).waitFor();
      await shot(page, size.name, '09-expired');
    });
  }
});
