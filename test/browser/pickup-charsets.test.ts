import assert from 'node:assert/strict';
import { crc32, deflateSync } from 'node:zlib';
import type { Browser, Page } from 'playwright-core';
import {
  launchChromium,
  newPage,
  pickupLink,
  pickupPagesForTest,
  screenshot,
  unlockInBrowser,
} from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { CHARSET_TABLE, encode, mimeIn } from '../helpers/charsets.ts';

/**
 * Issue 19, in Chromium at 360 px through the real stack (gateway, worker, webmail) to a keyless
 * recipient: the same kind of sentence in eleven charsets, as body and as encoded-word subject, each
 * shown as its text; an unknown charset label shows the fallback notice; an inline image 900 px wide
 * fits the message frame and shows whole when tapped. One stack, one browser, one session for all.
 */
const MAX = 'max@example.org';
const [kind] = testDbKinds();

function rawMessage(lines: string[]): Buffer {
  return Buffer.from(
    [`From: Praxis <${SENDER}>`, `To: ${MAX}`, 'MIME-Version: 1.0', ...lines, ''].join('\r\n'),
  );
}

/** A real PNG of `width` × `height`, one grey, built by hand (zlib and CRC-32 from node:zlib). */
function png(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer): Buffer => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(crc32(body), 8 + data.length);
    return out;
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit greyscale
  const rows = Buffer.alloc((width + 1) * height, 0x80);
  for (let y = 0; y < height; y++) rows[y * (width + 1)] = 0; // filter byte: none
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(rows)),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

async function open(page: Page, subject: string): Promise<void> {
  await page.locator('button.entry', { hasText: subject }).click();
  await page.locator('#msg-subject', { hasText: subject }).waitFor();
}

describe('pickup app in Chromium: every charset reads as text, images fit the frame', function () {
  this.timeout(180_000);
  let browser: Browser;
  let stack: Stack;
  let page: Page;
  let errors: string[];

  before(async () => {
    browser = await launchChromium();
    stack = await startStack({ kind: kind!, pages: await pickupPagesForTest() });
    const send = (raw: Buffer) =>
      stack.gw.transport().sendMail({ envelope: { from: SENDER, to: [MAX] }, raw });
    for (const { charset, sentence } of CHARSET_TABLE) {
      await send(mimeIn(charset, sentence, `${charset}: ${sentence}`));
    }
    await send(
      rawMessage([
        'Subject: =?x-unheard-of?Q?Unbekannt:_Gr=C3=BC=C3=9Fe?=',
        'Content-Type: text/plain; charset=x-unheard-of',
        'Content-Transfer-Encoding: base64',
        '',
        encode('Grüße aus Köln\r\n', 'windows-1252').toString('base64'),
      ]),
    );
    await send(
      rawMessage([
        'Subject: Bild',
        'Content-Type: multipart/related; boundary="b1"',
        '',
        '--b1',
        'Content-Type: text/html; charset=utf-8',
        '',
        '<p>Ihr Befund:</p><p><img src="cid:wide@praxis.example" width="900" height="300" alt="Röntgenbild"></p>',
        '--b1',
        'Content-Type: image/png',
        'Content-ID: <wide@praxis.example>',
        'Content-Transfer-Encoding: base64',
        '',
        png(900, 300).toString('base64'),
        '--b1--',
      ]),
    );
    const count = CHARSET_TABLE.length + 2;
    const { link, code } = await pickupLink(stack, MAX, count + 1);
    ({
      page,
      problems: { errors },
    } = await newPage(browser, { width: 360 }));
    await unlockInBrowser(page, link, code!);
    await page
      .locator('button.entry[data-state="ready"]')
      .nth(count - 1)
      .waitFor();
  });
  after(async () => {
    await browser?.close();
    await stack?.close();
  });

  for (const { charset, sentence } of CHARSET_TABLE) {
    it(`${charset}: subject and body shown as their text`, async () => {
      const subject = `${charset}: ${sentence}`;
      await open(page, subject);
      assert.equal(await page.locator('#msg-subject').innerText(), subject);
      assert.equal((await page.getByTestId('text-body').innerText()).trim(), sentence);
      assert.equal(await page.getByTestId('charset-notice').count(), 0);
    });
  }

  it('an unknown charset label: a fallback decode and a small notice, no raw bytes, no error', async () => {
    await open(page, 'Unbekannt: Grüße');
    assert.equal((await page.getByTestId('text-body').innerText()).trim(), 'Grüße aus Köln');
    assert.match(
      await page.getByTestId('charset-notice').innerText(),
      /Unbekannter Zeichensatz „x-unheard-of“/,
    );
    assert.deepEqual(errors, []);
  });

  it('an inline image 900 px wide fits the frame at 360 px; tapping it (or Enter) shows it whole', async () => {
    await open(page, 'Bild');
    const frameBox = (await page.locator('iframe').boundingBox())!;
    assert.ok(frameBox.x + frameBox.width <= 360, `the frame ends at ${frameBox.x + frameBox.width}`);
    const frame = page.frameLocator('iframe');
    await frame.locator('img').first().waitFor();
    // Every <img> of the frame's document, shown or folded away (DOM types: the root tsconfig has none).
    interface Img {
      width: number;
      height: number;
      getBoundingClientRect(): { right: number };
    }
    interface Body {
      ownerDocument: { documentElement: { clientWidth: number; scrollWidth: number } };
      querySelectorAll(s: string): ArrayLike<Img>;
    }
    const fits = async () =>
      frame.locator('body').evaluate((body: Body) => ({
        width: body.ownerDocument.documentElement.clientWidth,
        scroll: body.ownerDocument.documentElement.scrollWidth,
        images: Array.from(body.querySelectorAll('img'), (i) => ({
          right: i.getBoundingClientRect().right,
          w: i.width,
          h: i.height,
        })),
      }));
    const before = await fits();
    assert.equal(before.images.length, 1);
    for (const i of before.images) {
      assert.ok(i.right <= before.width, `image ends at ${i.right} of ${before.width}`);
      assert.ok(Math.abs(i.w / i.h - 3) < 0.05, `height in proportion: ${i.w}×${i.h}`);
    }
    assert.ok(before.scroll <= before.width, 'nothing scrolls sideways');
    await screenshot(page, 'image-fitted-360');
    await frame.locator('summary').click();
    const whole = frame.locator('[data-whole]');
    await whole.waitFor();
    assert.equal(await whole.getAttribute('role'), 'img');
    assert.equal(await whole.getAttribute('aria-label'), 'Röntgenbild');
    assert.deepEqual(
      await whole.evaluate((e: { getBoundingClientRect(): { width: number; height: number } }) => [
        e.getBoundingClientRect().width,
        e.getBoundingClientRect().height,
      ]),
      [900, 300],
      'shown at its own size',
    );
    assert.equal((await fits()).images.length, 1, 'still one <img>, within the frame');
    await screenshot(page, 'image-whole-360');
    assert.ok((await fits()).scroll <= before.width, 'the whole image scrolls in its own box');
    // Closed again by keyboard (Enter on the focused summary), then opened by keyboard. On a loaded machine
    // a second click on the summary of the opened (wider than the frame) view was sometimes not taken as
    // a toggle (CI, twice): the toggle is tried up to three times; what is checked is that it closes.
    const summary = frame.locator('summary');
    for (let i = 0; i < 3 && (await whole.isVisible()); i++) {
      await summary.focus();
      await page.keyboard.press('Enter');
      await whole.waitFor({ state: 'hidden', timeout: 5_000 }).catch(() => undefined);
    }
    assert.equal(await whole.isVisible(), false, 'the whole view closes again');
    await summary.focus();
    await page.keyboard.press('Enter');
    await whole.waitFor();
    // Playwright's own evaluate() in the no-script frame is refused, and Chromium logs that: not the app's.
    const own =
      /^console: Blocked script execution in 'about:srcdoc' because the document's frame is sandboxed/;
    assert.deepEqual(
      errors.filter((e) => !own.test(e)),
      [],
    );
  });
});
