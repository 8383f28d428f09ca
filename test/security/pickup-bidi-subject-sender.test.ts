import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { newPage, pickupLink, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Attack (the neighbour of issue 11, finding 6b): the same bidi tricks in the strings a message carries
 * besides its attachment names — a subject `Befund <U+202E>fdp.exe`, a sender name ending in a right-to-left
 * override that turns the address shown after it around, a recipient name with an unclosed isolate. In the
 * pickup app every one is shown without the controls: in the inbox list, the heading, From and To.
 */
const MAX = 'max@example.org';
const [kind] = testDbKinds();
const TRICKS = /[\u202A-\u202E\u2066-\u2069\u200E\u200F\u061C\u200B\u2060\uFEFF\u00AD]/u;

describe('security: bidi controls in the subject and the names of a message are shown neutralised', function () {
  this.timeout(120_000);
  let browser: Browser;
  let stack: Stack;

  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  it('subject, From and To lose their bidi controls everywhere they are shown', async () => {
    await stack.gw.transport().sendMail({
      from: { name: 'Anna Berg\u202E', address: SENDER },
      to: { name: 'Max\u2067 M\u200Fuster', address: MAX },
      subject: 'Befund \u202Efdp.exe\u202C \u2066bitte\u2069 öffnen',
      text: 'Hallo',
    });
    const { link, code } = await pickupLink(stack, MAX);
    const { page, problems } = await newPage(browser);
    await unlockInBrowser(page, link, code!);
    const subject = 'Befund fdp.exe bitte öffnen';
    await page.getByTestId('signature').waitFor(); // the message is decrypted and shown
    assert.equal(await page.locator('#msg-subject').innerText(), subject);
    assert.match(await page.locator('button.entry .subject').innerText(), new RegExp(`^${subject}$`));
    assert.equal(await page.locator('dl dd').first().innerText(), `Anna Berg <${SENDER}>`);
    assert.match(await page.locator('dl').innerText(), new RegExp(`Max Muster <${MAX}>`));
    assert.equal(await page.getByTestId('signature').getAttribute('data-state'), 'verified');
    assert.doesNotMatch(await page.locator('main').innerText(), TRICKS);
    assert.deepEqual(problems.errors, []);
  });
});
