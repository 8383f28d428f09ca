import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { loadConfig } from '../../core/config.ts';
import { CODE_ALPHABET } from '../../webmail/pickup/src/lib/code.ts';
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
import { tmpDir } from '../helpers/tmp.ts';

/**
 * Issue 19 in Chromium through the real stack: `pickup.unlockAttemptsPerIp` (from the SEALPOST_CONFIG
 * file) counts wrong codes per address, not clients. Every browser here connects from 127.0.0.1, like the
 * clients of one practice behind its TLS proxy or one NAT: N+1 of them with the right code all get in;
 * after N wrong codes the next attempt, with the right code, is refused and the page says to wait; the
 * per-contact lock still locks after 5 wrong codes.
 */
const MAX = 'max@example.org';
const N = 2;
const [kind] = testDbKinds();

/** The same code with its first character changed: well-formed, so the app derives and asks the server. */
function wrongCode(code: string, n: number): string {
  const others = [...CODE_ALPHABET].filter((c) => c !== code[0]);
  return others[n % others.length] + code.slice(1);
}

async function typeCode(page: Page, code: string): Promise<void> {
  await page.locator('#secret').fill(code);
  await page.keyboard.press('Enter');
}

describe('pickup app in Chromium: the per-address unlock limit counts wrong codes', function () {
  this.timeout(180_000);
  let browser: Browser;
  let stack: Stack | undefined;
  const tmp = tmpDir();

  before(async () => {
    browser = await launchChromium();
  });
  after(async () => {
    await browser?.close();
    tmp.cleanup();
  });
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  async function start(limit: number | undefined): Promise<{ link: string; code: string }> {
    const file = path.join(tmp.dir, `config-${limit ?? 'default'}.json`);
    writeFileSync(
      file,
      JSON.stringify(limit === undefined ? {} : { pickup: { unlockAttemptsPerIp: limit } }),
    );
    const fromFile = loadConfig({ SEALPOST_CONFIG: file }).pickup.unlockAttemptsPerIp;
    assert.equal(fromFile, limit ?? 30);
    stack = await startStack({
      kind: kind!,
      pages: await pickupPagesForTest(),
      config: { pickup: { unlockAttemptsPerIp: fromFile } },
    });
    await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'Hallo Max' });
    const { link, code } = await pickupLink(stack, MAX);
    return { link, code: code! };
  }

  it(`at a limit of ${N}: ${N + 1} clients from one address with the right code all get in`, async () => {
    const { link, code } = await start(N);
    for (let i = 0; i <= N; i++) {
      const { context, page } = await newPage(browser, { width: 360 });
      await unlockInBrowser(page, link, code);
      await page.getByText('Hallo Max').waitFor();
      await context.close();
    }
  });

  it(`after ${N} wrong codes from one address, the right code is refused with words to wait`, async () => {
    const { link, code } = await start(N);
    const { context, page } = await newPage(browser, { width: 360 });
    await page.goto(link);
    for (let i = 0; i < N; i++) {
      await typeCode(page, wrongCode(code, i));
      await page.getByText(`Noch ${4 - i} Versuche`).waitFor();
    }
    await typeCode(page, code);
    const refusal = page.getByText(/Zu viele falsche Codes/);
    await refusal.waitFor();
    assert.match(await refusal.innerText(), /zu viele.*warten/is);
    assert.equal(await page.locator('#inbox-title').count(), 0, 'not let in');
    await context.close();
    // Another client from the same address, in English: refused too, in words.
    const en = await newPage(browser, { width: 360, locale: 'en-GB' });
    await en.page.goto(link);
    await typeCode(en.page, code);
    const said = en.page.getByText(/Too many wrong codes/);
    await said.waitFor();
    assert.match(await said.innerText(), /too many.*wait/is);
    await en.context.close();
  });

  it('the per-contact lock still locks after 5 wrong codes, and the link stays locked', async () => {
    const { link, code } = await start(undefined); // 30 wrong codes per address: not the limit here
    const { context, page } = await newPage(browser, { width: 360 });
    await page.goto(link);
    for (let left = 4; left >= 1; left--) {
      await typeCode(page, wrongCode(code, left));
      await page.getByText(`Noch ${left} ${left === 1 ? 'Versuch,' : 'Versuche'}`).waitFor();
    }
    await typeCode(page, wrongCode(code, 0));
    await page.getByRole('heading', { name: 'Zugang gesperrt' }).waitFor();
    await page.goto(link);
    await page.getByRole('heading', { name: 'Zugang gesperrt' }).waitFor();
    assert.equal(await page.locator('#secret').count(), 0, 'no code can be typed');
    await context.close();
  });
});
