import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { newPage, pickupLink, screenshot, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Attack (EFAIL-style): someone with write access to the database changes bytes of a stored ciphertext,
 * hoping the browser shows a partial or altered plaintext. The app decrypts whole messages only; openpgp.js
 * refuses a bad MDC; the page says the message was changed and renders nothing of it — while an intact
 * message in the same inbox still reads normally.
 */
const MAX = 'max@example.org';
const SECRET_LINE = 'Diagnose: streng vertraulich 4711';

const [kind] = testDbKinds();

describe('security: a tampered pickup ciphertext shows nothing', function () {
  this.timeout(120_000);
  let browser: Browser;
  let stack: Stack;

  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  /** Flip one bit of the OpenPGP message at `at` (negative: from the end), resealed as the gateway would. */
  async function tamper(id: string, at: number): Promise<void> {
    const { db } = stack.gw.testDb;
    const { sealer } = stack.gw.deps;
    const row = await db.kysely
      .selectFrom('pickups')
      .select('ciphertext')
      .where('id', '=', id)
      .executeTakeFirstOrThrow();
    const bytes = Buffer.from(sealer.open('pickup', row.ciphertext, id));
    const i = at < 0 ? bytes.length + at : at;
    bytes[i]! ^= 0x01;
    await db.kysely
      .updateTable('pickups')
      .set({ ciphertext: sealer.seal('pickup', bytes, id) })
      .where('id', '=', id)
      .execute();
  }

  for (const [where, at] of [
    ['in the middle of the encrypted data', 0.5],
    ['in the last byte (the MDC)', -1],
  ] as const) {
    it(`a changed bit ${where}: a clear message, no plaintext, the other message intact`, async () => {
      const send = (subject: string, text: string) =>
        stack.gw
          .transport()
          .sendMail({ from: SENDER, to: MAX, subject, text: `${text}\n${'x'.repeat(2000)}` });
      await send('Befund A', SECRET_LINE);
      const first = await pickupLink(stack, MAX, 2);
      await send('Termin B', 'Ihr Termin ist am Montag.');
      await stack.sink.waitFor(3);
      const size = Number(
        (
          await stack.gw.testDb.db.kysely
            .selectFrom('pickups')
            .select('size')
            .where('id', '=', first.id)
            .executeTakeFirstOrThrow()
        ).size,
      );
      await tamper(first.id, at < 0 ? at : Math.floor(size * at));

      const { page, problems } = await newPage(browser);
      await unlockInBrowser(page, first.link, first.code!);
      await page.getByTestId('tampered').waitFor();
      assert.match(await page.getByTestId('tampered').innerText(), /verändert oder ist beschädigt/);
      const html = await page.content();
      assert.ok(!html.includes('streng vertraulich'), 'no plaintext of the changed message');
      assert.ok(!html.includes('Befund A'), 'not even its subject');
      assert.equal(
        await page.locator('iframe, [data-testid="text-body"], [data-testid="signature"]').count(),
        0,
      );
      await screenshot(page, `tampered-${at < 0 ? 'mdc' : 'middle'}`);

      await page.getByRole('button', { name: /Termin B/ }).click();
      assert.match(await page.getByTestId('text-body').innerText(), /Ihr Termin ist am Montag/);
      assert.equal(await page.getByTestId('signature').getAttribute('data-state'), 'verified');
      assert.deepEqual(problems.errors, []);
    });
  }
});
