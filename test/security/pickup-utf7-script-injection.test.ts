import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import {
  launchChromium,
  newPage,
  pickupLink,
  pickupPagesForTest,
  unlockInBrowser,
} from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Attack: the classic UTF-7 script injection. Markup written in UTF-7 (`+ADw-script+AD4-` is `<script>`)
 * passes any filter that reads the bytes as ASCII, and becomes live markup if something later decodes
 * it as UTF-7 in an HTML context. The pickup app decodes UTF-7 (issue 19), so it must decode first and
 * sanitise the decoded text as any other HTML: in Chromium, through the real stack, the UTF-7 HTML body
 * renders inert in the no-script frame (no script, no handler, no raw `+ADw-`), and a UTF-7 subject and
 * text body show their `<…>` as literal characters, never as elements of the page.
 */
const MAX = 'max@example.org';
const [kind] = testDbKinds();

const HTML_UTF7 =
  '+ADw-p id+AD0AIg-hello+ACIAPg-Hallo Max+ADw-/p+AD4-' +
  '+ADw-script+AD4-parent.document.title+AD0AIg-pwned+ACIAOw-+ADw-/script+AD4-' +
  '+ADw-img src+AD0-x onerror+AD0-alert(1)+AD4-' +
  '+ADw-a href+AD0AIg-javascript:alert(2)+ACIAPg-Link+ADw-/a+AD4-';

function raw(lines: string[]): Buffer {
  return Buffer.from(
    [`From: Praxis <${SENDER}>`, `To: ${MAX}`, 'MIME-Version: 1.0', ...lines, ''].join('\r\n'),
  );
}

describe('security: UTF-7 script injection in the pickup app', function () {
  this.timeout(120_000);
  let browser: Browser;
  let stack: Stack;

  before(async () => {
    browser = await launchChromium();
    stack = await startStack({ kind: kind!, pages: await pickupPagesForTest() });
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  it('decodes UTF-7 to text first: the HTML renders inert, the subject and a text body stay text', async () => {
    const send = (message: Buffer) =>
      stack.gw.transport().sendMail({ envelope: { from: SENDER, to: [MAX] }, raw: message });
    await send(raw(['Subject: HTML', 'Content-Type: text/html; charset=utf-7', '', HTML_UTF7]));
    await send(
      raw([
        'Subject: =?utf-7?Q?+ADw-img_src+AD0-x_onerror+AD0-alert(3)+AD4-?=',
        'Content-Type: text/plain; charset=UTF-7',
        '',
        '+ADw-b+AD4-fett+ADw-/b+AD4- +ADw-script+AD4-alert(4)+ADw-/script+AD4-',
      ]),
    );
    const { link, code } = await pickupLink(stack, MAX, 3);
    const { page, problems } = await newPage(browser, { width: 360 });
    const dialogs: string[] = [];
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void d.dismiss();
    });
    await unlockInBrowser(page, link, code!);
    await page.locator('button.entry[data-state="ready"]').nth(1).waitFor();

    // The UTF-7 HTML body: decoded, then sanitised into the no-script frame.
    await page.locator('button.entry', { hasText: 'HTML' }).click();
    const frame = page.frameLocator('iframe');
    await frame.locator('#hello').waitFor();
    assert.equal(await frame.locator('#hello').innerText(), 'Hallo Max');
    assert.equal(await frame.locator('script, [onerror], [href]').count(), 0, 'nothing active is left');
    assert.doesNotMatch(
      await frame.locator('body').innerHTML(),
      /\+AD[w4]-|\+ADw|\+AD0/,
      'no UTF-7 left raw',
    );
    assert.equal(await frame.locator('img').count(), 1, 'the image is there, without its handler');

    // The UTF-7 subject and text body: literal characters, not elements.
    await page.locator('button.entry', { hasText: '<img src=x onerror=alert(3)>' }).click();
    await page.locator('#msg-subject', { hasText: '<img src=x onerror=alert(3)>' }).waitFor();
    assert.equal(await page.locator('#msg-subject').innerText(), '<img src=x onerror=alert(3)>');
    assert.equal(
      (await page.getByTestId('text-body').innerText()).trim(),
      '<b>fett</b> <script>alert(4)</script>',
    );
    assert.equal(await page.locator('main img, main b, main script, [onerror]').count(), 0);

    assert.equal(await page.title(), await page.evaluate('document.title'));
    assert.notEqual(await page.title(), 'pwned');
    assert.deepEqual(dialogs, [], 'no alert ran');
    // Left: Playwright's own evaluate() refused in the no-script frame, and the page's CSP refusing the
    // handler while DOMPurify parses the decoded HTML (as for any hostile HTML): refusals, nothing ran.
    const refused =
      /^console: (Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed|Executing inline event handler violates the following Content Security Policy directive .* The action has been blocked\.$)/s;
    assert.deepEqual(
      problems.errors.filter((e) => !refused.test(e)),
      [],
    );
  });
});
