import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import AxeBuilder from '@axe-core/playwright';
import express from 'express';
import type { Browser } from 'playwright-core';
import { parseConfig } from '../../core/config.ts';
import { setSetting } from '../../core/settings.ts';
import { landingPage } from '../../webmail/landing.ts';
import { PICKUP_CSP } from '../../webmail/pages.ts';
import { openTestDb } from '../helpers/db.ts';
import { launchChromium, newPage, screenshot, SCREENSHOTS } from '../helpers/browser.ts';

/**
 * The landing page at the root of SEALPOST_PUBLIC_URL (webmail/landing.ts, docs/pickup.md "Landing page"),
 * where the enrolment card's QR code leads: over HTTP (CSP, no script, the language), and in Chromium at
 * phone width with axe-core.
 */
async function serve(practiceName: string) {
  const testDb = await openTestDb('sqlite');
  const app = express();
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const config = parseConfig({
    publicUrl: base,
    practiceName,
    privacyUrl: 'https://praxis.example/datenschutz',
  });
  app.use(landingPage({ config, db: testDb.db }));
  return {
    base,
    config,
    db: testDb.db,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await testDb.cleanup();
    },
  };
}

describe('landing page at the public URL (webmail/landing.ts)', function () {
  this.timeout(60_000);
  let browser: Browser;
  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
  });

  it('is static under the pages CSP, German by default, English by Accept-Language or ?lang', async () => {
    const web = await serve('Praxis <Müller> & Partner');
    try {
      const de = await fetch(`${web.base}/`);
      assert.equal(de.status, 200);
      assert.equal(de.headers.get('content-security-policy'), PICKUP_CSP);
      assert.equal(de.headers.get('cache-control'), 'no-store');
      const html = await de.text();
      assert.match(html, /<html lang="de">/);
      assert.doesNotMatch(html, /<script/i, 'no script');
      assert.doesNotMatch(html, /<style/i, 'no inline style (the CSP would refuse it)');
      assert.match(html, /Praxis &lt;M&#252;ller&gt; &amp; Partner/, 'the practice name, escaped');
      assert.match(html, /Nachricht abholen/);
      assert.match(html, new RegExp(`href="${web.base}/console">Praxis-Konsole`));
      const en = await fetch(`${web.base}/`, { headers: { 'accept-language': 'en-GB,en;q=0.9' } });
      assert.match(await en.text(), /<html lang="en">[\s\S]*Pick up a message[\s\S]*Practice console/);
      const forced = await fetch(`${web.base}/?lang=de`, { headers: { 'accept-language': 'en' } });
      assert.match(await forced.text(), /<html lang="de">/);
      // A name an admin set in the console wins over the configuration's (core/settings.ts).
      await setSetting(
        { config: web.config, stores: web.db.stores },
        { key: 'practiceName', value: 'Praxis am See' },
        { actor: 'cli' },
        new Date(),
      );
      assert.match(await (await fetch(`${web.base}/`)).text(), /<h1>Praxis am See<\/h1>/);
      const css = await fetch(`${web.base}/landing.css`);
      assert.equal(css.status, 200);
      assert.match(css.headers.get('content-type') ?? '', /text\/css/);
    } finally {
      await web.close();
    }
  });

  for (const [width, locale] of [
    [360, 'de-DE'],
    [1280, 'en-US'],
  ] as const) {
    it(`at ${width} px (${locale}): no overflow, no axe violation, links to the console and back`, async () => {
      const web = await serve('Praxis Dr. Beispiel');
      const { page, problems, context } = await newPage(browser, { width, locale });
      try {
        await page.goto(`${web.base}/`);
        const lang = locale === 'de-DE' ? 'de' : 'en';
        assert.equal(await page.locator('html').getAttribute('lang'), lang);
        await page.getByRole('heading', { level: 1, name: 'Praxis Dr. Beispiel' }).waitFor();
        const scroll = await page.evaluate<number>('document.documentElement.scrollWidth');
        assert.ok(scroll <= width, `no horizontal scrolling at ${width} px (${scroll})`);
        // Stricter than test/helpers/browser.ts accessible() (serious and critical only): a static page of a
        // dozen elements has no excuse for any violation at all.
        const result = await new AxeBuilder({ page }).analyze();
        assert.ok(result.passes.length > 10, 'axe ran its rules');
        assert.deepEqual(
          result.violations.map((v) => `${v.id} (${v.impact})`),
          [],
          'axe on the landing page',
        );
        const consoleLink = page.getByRole('link', {
          name: lang === 'de' ? 'Praxis-Konsole' : 'Practice console',
          exact: true,
        });
        assert.equal(await consoleLink.getAttribute('href'), `${web.base}/console`);
        // Keyboard: the language switch is the first stop, and leads to the other language.
        await page.keyboard.press('Tab');
        await page.keyboard.press('Enter');
        await page.waitForURL(/\?lang=/);
        assert.equal(await page.locator('html').getAttribute('lang'), lang === 'de' ? 'en' : 'de');
        await page.goBack();
        await screenshot(page, `landing-${width}`);
        assert.deepEqual(problems.errors, [], 'no CSP violation or error');
        assert.ok(
          problems.requests.every((u) => u.startsWith(web.base)),
          'no third-party request',
        );
      } finally {
        await context.close();
        await web.close();
      }
    });
  }

  after(() => {
    mkdirSync('docs/screenshots/console', { recursive: true });
    copyFileSync(path.join(SCREENSHOTS, 'landing-360.png'), 'docs/screenshots/console/landing.png');
  });
});
