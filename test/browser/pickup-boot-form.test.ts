import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { newPage, withBrowserStack } from '../helpers/browser.ts';
import { consoleCode } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { mailText } from '../helpers/pickup-client.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * The code form is in the served page (webmail/pages.ts), not only in the app: the field is there and takes
 * input while the app's script has not even arrived (held back here with page.route). When the app runs it
 * adopts the form (src/lib/boot.ts): what was typed stays, the focus stays, a submission made before goes
 * ahead — and at no painted frame are there two code fields.
 */
const MAX = 'max@example.org';
const BODY = 'Guten Tag,\nder Termin steht.';
const [kind] = testDbKinds();

/** Hold the app's entry script until `release()`; the page's HTML and stylesheet load as usual. */
async function holdApp(page: Page): Promise<() => void> {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  await page.route('**/assets/index-*.js', async (route) => {
    await released;
    await route.continue();
  });
  return release;
}

/**
 * After every change of the page (a MutationObserver's callback runs after the change's task and its
 * microtasks, so before any paint could show it): how many code fields the page holds. A second form
 * flashing would show as 2.
 */
async function countFieldsPerChange(page: Page): Promise<void> {
  await page.addInitScript({
    content: `window.fieldsPerChange = [];
      new MutationObserver(() => {
        window.fieldsPerChange.push(document.querySelectorAll('input#secret').length);
      }).observe(document, { childList: true, subtree: true });`,
  });
}

describe('pickup app in Chromium: the code form is served in the page', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  async function sendPickup(): Promise<{ link: string; code: string }> {
    await stack.gw
      .transport()
      .sendMail({ from: `Anna Berg <${SENDER}>`, to: MAX, subject: 'Termin', text: BODY });
    const msgs = await stack.sink.waitFor(2);
    const notification = await mailText(msgs.find((m) => m.to[0] === MAX)!.raw);
    const link = /https?:\/\/\S+\/p\/[A-Za-z0-9_-]{22}/.exec(notification.text)?.[0];
    assert.ok(link);
    return { link, code: await consoleCode(stack.web, MAX) };
  }

  it('takes the code before the app runs, and the app proceeds with a submission made meanwhile', async () => {
    const { link, code } = await sendPickup();
    const { context, page, problems } = await newPage(browser);
    await countFieldsPerChange(page);
    const release = await holdApp(page);
    await page.goto(link, { waitUntil: 'commit' });
    const field = page.getByLabel('Zugangscode');
    await field.waitFor();
    assert.equal(await page.locator('#app').innerHTML(), '', 'the app has not run');
    assert.equal(await field.getAttribute('type'), 'password');
    assert.equal(await field.getAttribute('autocomplete'), 'current-password');
    assert.equal(await field.getAttribute('name'), null, 'a field without a name is never sent with a form');
    // The field has the focus (autofocus): given at the browser's next rendering step, not when the field
    // is there — waited for, as in the test below, not read at once (then it was not there ~1 % of the time).
    await page.waitForFunction("document.activeElement?.id === 'secret'");
    await page.keyboard.type(code);
    await page.keyboard.press('Enter');
    await page.getByText('Wird geladen').waitFor();
    assert.equal(await field.inputValue(), code, 'the submitted code stays in the field');
    assert.equal(new URL(page.url()).search, '', 'submitting sent nothing');
    assert.equal(await page.evaluate("performance.getEntriesByName('sealpost:ready').length"), 0);

    release();
    await page.getByText('der Termin steht.').waitFor();
    assert.equal(await page.locator('#boot').count(), 0, 'the served form is gone');
    const frames = await page.evaluate<number[]>('window.fieldsPerChange');
    assert.ok(
      frames.includes(1) && !frames.includes(2),
      `never two code fields on screen: ${frames.join(',')}`,
    );
    assert.deepEqual(problems.errors, []);
    await context.close();
  });

  it('keeps what was typed and the focus when the app takes over', async () => {
    const { link, code } = await sendPickup();
    const { context, page, problems } = await newPage(browser);
    await countFieldsPerChange(page);
    const release = await holdApp(page);
    await page.goto(link, { waitUntil: 'commit' });
    await page.locator('#secret').waitFor();
    await page.waitForFunction("document.activeElement?.id === 'secret'"); // autofocus
    await page.keyboard.type(code.slice(0, 4));
    release();
    // The app's field: a code is shown as typed (text), with its hint; the served one is gone.
    await page.locator('#secret[type="text"]').waitFor();
    assert.equal(await page.locator('#boot').count(), 0);
    assert.equal(await page.locator('#secret').inputValue(), code.slice(0, 4));
    assert.equal(await page.evaluate('document.activeElement?.id'), 'secret');
    await page.keyboard.type(code.slice(4));
    await page.keyboard.press('Enter');
    await page.getByText('der Termin steht.').waitFor();
    const frames = await page.evaluate<number[]>('window.fieldsPerChange');
    assert.ok(
      frames.includes(1) && !frames.includes(2),
      `never two code fields on screen: ${frames.join(',')}`,
    );
    assert.deepEqual(problems.errors, []);
    await context.close();
  });

  it('serves the form in the language of Accept-Language, with no inline script', async () => {
    const { link } = await sendPickup();
    for (const [language, label, lang] of [
      ['en-GB,en;q=0.9', 'Access code', 'en'],
      ['fr-FR', 'Zugangscode', 'de'],
      ['de-DE', 'Zugangscode', 'de'],
    ] as const) {
      const res = await fetch(link, { headers: { 'Accept-Language': language } });
      const html = await res.text();
      assert.match(res.headers.get('content-security-policy') ?? '', /script-src 'self' 'wasm-unsafe-eval';/);
      assert.match(res.headers.get('vary') ?? '', /Accept-Language/);
      assert.ok(html.includes(`<html lang="${lang}">`), `${language}: lang ${lang}`);
      assert.ok(html.includes(`<label for="secret">${label}</label>`), `${language}: ${label}`);
      assert.ok(html.includes('<form method="dialog">'));
      for (const script of html.match(/<script[^>]*>/g) ?? [])
        assert.match(script, / src="/, 'no inline script');
    }
  });
});
