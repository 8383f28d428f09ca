import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser, BrowserContext, Download, Page } from 'playwright-core';
import { newPage, pickupLink, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { unlock } from '../helpers/pickup-client.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Attack (issue 11, finding 2): a sender — or anyone who gets a message to a pickup contact — attaches a
 * web page: HTML, SVG, XHTML or XML with a script (or a PDF, for the browser's own viewer). Offered as a
 * `blob:` URL with its own type, the browser renders it as a document of the pickup origin when the person
 * opens it in a new tab; a blob: URL pasted into the address bar does not even inherit the page's CSP, so
 * the script runs there, reads the session's messages and can register a key of its choosing. DESIGN.md
 * invariant 9: attachments are downloads (octet-stream), never documents of the pickup origin — by every
 * way a person opens one, with the bytes intact. And the second lock: a script that does run in some other
 * document of the origin has the session cookie but not the session key the app holds in memory, so the
 * API answers it 401.
 */
const MAX = 'max@example.org';
const [kind] = testDbKinds();

/**
 * What the script in each attachment does if it ever runs: mark the origin's storage, read the session's
 * messages, register a key, and note each answer there (a report to another server would be stopped on
 * loopback by Chromium's Private Network Access, so the origin's own storage is the witness).
 */
function payload(name: string): string {
  return `(function () {
  var o = location.origin, n = ${JSON.stringify(name)};
  localStorage.setItem('attack-ran-' + n, location.href);
  fetch(o + '/api/pickup/session/messages').then(function (r) {
    localStorage.setItem('attack-read-' + n, String(r.status));
  });
  fetch(o + '/api/pickup/session/key', {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"publicKey":"x"}'
  }).then(function (r) { localStorage.setItem('attack-key-' + n, String(r.status)); });
})();`;
}

function attachments() {
  const js = payload;
  return [
    {
      filename: 'Rechnung.html',
      contentType: 'text/html',
      content: `<!doctype html><html><body><h1>Rechnung</h1><script>${js('html')}</script></body></html>`,
    },
    {
      filename: 'Logo.svg',
      contentType: 'image/svg+xml',
      content: `<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>//<![CDATA[\n${js('svg')}\n//]]></script></svg>`,
    },
    {
      filename: 'Seite.xhtml',
      contentType: 'application/xhtml+xml',
      content: `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><body><p>x</p><script>//<![CDATA[\n${js('xhtml')}\n//]]></script></body></html>`,
    },
    {
      filename: 'Daten.xml',
      contentType: 'text/xml',
      content: `<?xml version="1.0"?><html xmlns="http://www.w3.org/1999/xhtml"><script>//<![CDATA[\n${js('xml')}\n//]]></script></html>`,
    },
    {
      // No script of the pickup origin in a PDF, but no document either: the viewer is not for attachments.
      filename: 'Befund.pdf',
      contentType: 'application/pdf',
      content:
        '%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n',
    },
  ];
}

/**
 * What opening an attachment led to: its download, or — the attack — a tab that rendered the blob: URL
 * (then the script has already had its chance; the test fails at once instead of waiting for a download).
 */
function outcome(context: BrowserContext): Promise<Download | string> {
  return new Promise((resolve) => {
    const done = (result: Download | string) => {
      context.off('page', watch);
      resolve(result);
    };
    const watch = (p: Page) => {
      p.once('download', done);
      p.waitForURL(/^blob:/, { waitUntil: 'load' }).then(
        () => done(`rendered as a page: ${p.url()}`),
        () => undefined, // no such navigation before the page closed or the wait ended
      );
    };
    context.pages().forEach(watch);
    context.on('page', watch);
  });
}

async function downloaded(result: Download | string, what: string): Promise<string> {
  if (typeof result === 'string') assert.fail(`${what}: ${result}`);
  return readFile((await result.path())!, 'utf8');
}

describe('security: an attachment never runs script in the pickup origin', function () {
  this.timeout(180_000);
  let browser: Browser;
  let stack: Stack;

  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  /** Send the message with the pages (and a PDF) attached, open it in a fresh browser context. */
  async function openMessage() {
    const files = attachments();
    await stack.gw.transport().sendMail({
      from: SENDER,
      to: MAX,
      subject: 'Ihre Unterlagen',
      text: 'Siehe Anhang.',
      attachments: files,
    });
    const { link, code } = await pickupLink(stack, MAX);
    const { context, page, problems } = await newPage(browser);
    await unlockInBrowser(page, link, code!);
    await page.getByRole('heading', { name: 'Ihre Unterlagen' }).waitFor();
    const links = files.map((f) => page.getByRole('link', { name: `${f.filename} herunterladen` }));
    await links[0]!.waitFor();
    return { files, context, page, problems, links };
  }

  /** Nothing of an attack happened: no mark in the origin's storage, no tab showing a blob: page. */
  async function assertNothingRan(context: BrowserContext, page: Page): Promise<void> {
    const marks = await page.evaluate("Object.keys(localStorage).filter((k) => k.startsWith('attack-'))");
    assert.deepEqual(marks, [], 'no script of an attachment ran in the pickup origin');
    for (const p of context.pages()) assert.ok(!p.url().startsWith('blob:'), `a tab shows ${p.url()}`);
  }

  it('click and Enter save each file under its name, byte for byte', async () => {
    const { files, context, page, problems, links } = await openMessage();
    for (const [i, f] of files.entries()) {
      assert.match((await links[i]!.getAttribute('href')) ?? '', /^blob:/);
      const result = outcome(context);
      if (i % 2 === 0) await links[i]!.click();
      else {
        await links[i]!.focus();
        await page.keyboard.press('Enter');
      }
      const d = await result;
      assert.equal(await downloaded(d, f.filename), f.content, `${f.filename} downloaded intact`);
      assert.equal((d as Download).suggestedFilename(), f.filename);
    }
    await assertNothingRan(context, page);
    assert.deepEqual(problems.errors, []);
    await context.close();
  });

  it('pasted into the address bar or opened in a new tab (middle-click, ctrl-click, window.open): saved, never run', async () => {
    const { files, context, page, links } = await openMessage();
    for (const [i, f] of files.entries()) {
      const href = (await links[i]!.getAttribute('href'))!;
      // Pasted into the address bar of a new tab (or "open link in new tab"): a navigation the browser
      // starts, which does not inherit the page's CSP. It must end in a download, not in a page.
      const tab = await context.newPage();
      const result = outcome(context);
      const navigation = await tab.goto(href).then(
        () => 'rendered',
        (e: Error) => (/Download is starting/.test(e.message) ? 'download' : e.message),
      );
      if (navigation === 'rendered') {
        // The attack as it worked before: say what the attachment's script did with the session.
        // (Only on this failure path is there a bounded wait: the script may not have finished yet.)
        const mark = `localStorage.getItem('attack-read-${f.filename.split('.')[1]!}')`;
        await tab.waitForFunction(mark, undefined, { timeout: 10_000 }).catch(() => undefined);
        const read = await tab.evaluate(mark).catch(() => 'no script');
        assert.fail(`${f.filename} pasted: rendered as a page of the pickup origin; session read: ${read}`);
      }
      assert.equal(navigation, 'download', `${f.filename} pasted into the address bar`);
      assert.equal(await downloaded(await result, `${f.filename}, pasted`), f.content);
      await tab.close();
      const ways: [string, () => Promise<unknown>][] = [
        ['middle-click', () => links[i]!.click({ button: 'middle' })],
        ['ctrl-click', () => links[i]!.click({ modifiers: ['Control'] })],
        ['window.open', () => page.evaluate(`void window.open(${JSON.stringify(href)})`)],
      ];
      for (const [way, open] of ways) {
        const opened = outcome(context);
        await open();
        assert.equal(await downloaded(await opened, `${f.filename}, ${way}`), f.content);
      }
    }
    await assertNothingRan(context, page);
    await context.close();
  });

  it('a script that does run in another document of the origin cannot use the session (second lock)', async () => {
    const { context, page } = await openMessage();
    assert.equal(await page.evaluate("fetch('/api/pickup/session').then((r) => r.status)"), 401);
    // What an attachment page could do if anything ever let one render again: a blob: page of the origin,
    // opened from the address bar (so without the page's CSP), running its script.
    const html = `<!doctype html><script>${payload('foreign')}</script>`;
    const url = (await page.evaluate(
      `URL.createObjectURL(new Blob([${JSON.stringify(html)}], { type: 'text/html' }))`,
    )) as string;
    const tab = await context.newPage();
    await tab.goto(url);
    await tab.waitForFunction(
      "localStorage.getItem('attack-read-foreign') && localStorage.getItem('attack-key-foreign')",
    );
    assert.equal(await tab.evaluate("localStorage.getItem('attack-ran-foreign')"), url, 'it did run');
    assert.equal(await tab.evaluate("localStorage.getItem('attack-read-foreign')"), '401', 'no reading');
    assert.equal(await tab.evaluate("localStorage.getItem('attack-key-foreign')"), '401', 'no key');
    // The app itself still works: its own requests carry the key.
    await page.getByRole('button', { name: 'Abmelden' }).click();
    await page.getByRole('heading', { name: 'Sie sind abgemeldet' }).waitFor();
    await context.close();
  });

  it('no answer of the API is a document of the pickup origin: sandboxed, not sniffed, a download', async () => {
    await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'x', text: 'x' });
    const { id, code } = await pickupLink(stack, MAX);
    const u = await unlock(stack.web, id, code!);
    const headers = { cookie: u.cookie, 'sealpost-session': u.sessionKey };
    for (const path of [`/${id}`, '/session/messages', `/session/messages/${id}`, '/nothing/here']) {
      const res = await fetch(`${stack.web}/api/pickup${path}`, { headers });
      assert.match(res.headers.get('content-security-policy') ?? '', /(^|;\s*)sandbox(;|$)/, path);
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff', path);
      await res.arrayBuffer();
    }
    const ciphertext = await fetch(`${stack.web}/api/pickup/session/messages/${id}`, { headers });
    assert.equal(ciphertext.status, 200);
    assert.equal(ciphertext.headers.get('content-type'), 'application/octet-stream');
    assert.equal(ciphertext.headers.get('content-disposition'), 'attachment');
  });
});
