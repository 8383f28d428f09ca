import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { decryptAndVerify } from '../../keys/openpgp/index.ts';
import { accessible, newPage, screenshot, SCREENSHOTS, withBrowserStack } from '../helpers/browser.ts';
import { makeAdmin, signInAdmin } from '../helpers/console-admin.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { extractArmoredPayload } from '../helpers/interop.ts';
import { freshKeyPair, type TestKeyPair } from '../helpers/keys.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * The admin's keys screen in Chromium against the real stack (docs/admin-console.md): a key file uploaded
 * in the console is pinned and the next SMTP message is PGP/MIME to it; a held key change is shown side by
 * side with both fingerprints, approved, and the next message is encrypted to the new key only.
 */
const [kind] = testDbKinds();
const EVA = 'eva@example.org';
const KARL = 'karl@kanzlei.example';

/** Send one message to `to` and return what the sink received for `to`. */
async function sendAndCatch(stack: Stack, to: string): Promise<Buffer> {
  const before = stack.sink.messages.filter((m) => m.to.includes(to)).length;
  await stack.gw.transport().sendMail({ from: SENDER, to, subject: 'Befund', text: 'Hallo.' });
  for (let i = 0; i < 300; i++) {
    const mine = stack.sink.messages.filter((m) => m.to.includes(to));
    if (mine.length > before) return mine[mine.length - 1]!.raw;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`no message for ${to} at the sink`);
}

async function opens(mail: Buffer, pair: TestKeyPair): Promise<boolean> {
  const armored = extractArmoredPayload(mail);
  return decryptAndVerify({
    armored,
    decryptionKey: pair.signer,
    verificationKeys: [],
    now: new Date(),
  }).then(
    (r) => Buffer.from(r.data).toString('utf8').includes('Hallo.'),
    () => false,
  );
}

describe('console in Chromium: the admin’s keys screen', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  it('upload a key → the next message uses it; held key change side by side → approve → the new key', async () => {
    await makeAdmin(stack);
    const now = stack.gw.deps.clock.now();
    const eva = await freshKeyPair(EVA, now);
    // Karl's directory served one key, now another: the change is held (key-change policy 'hold').
    const [oldKarl, newKarl] = [await freshKeyPair(KARL, now), await freshKeyPair(KARL, now)];
    const url = `https://openpgpkey.kanzlei.example/.well-known/openpgpkey/kanzlei.example/hu/x`;
    const first = await stack.gw.keys.recordFetched({
      address: KARL,
      key: oldKarl.publicKey,
      source: 'wkd-advanced',
      sourceUrl: url,
    });
    const held = await stack.gw.keys.recordFetched({
      address: KARL,
      key: newKarl.publicKey,
      source: 'wkd-advanced',
      sourceUrl: url,
    });
    assert.deepEqual([first.outcome, held.outcome], ['stored', 'held']);

    const { page, problems, context } = await newPage(browser, { width: 1280 });
    await signInAdmin(page, stack, '/keys', /^Zurückgehaltene Schlüsselwechsel$/);

    // Upload Eva's key file: pinned, listed, and the next message is PGP/MIME to her key.
    await page
      .getByLabel('Schlüsseldatei')
      .setInputFiles({ name: 'eva.asc', mimeType: 'text/plain', buffer: Buffer.from(eva.publicKey) });
    await page.getByRole('button', { name: 'Hochladen' }).click();
    await page.locator('[data-testid="import-status"]', { hasText: EVA }).waitFor();
    await page.locator('[data-testid="key"]', { hasText: EVA }).waitFor();
    assert.match(await page.locator('[data-testid="key"]', { hasText: EVA }).innerText(), /Quelle: admin/);
    assert.ok(await opens(await sendAndCatch(stack, EVA), eva), 'the message to Eva opens with her key');

    // The held change, side by side with both fingerprints.
    const change = page.locator('[data-testid="held-change"]', { hasText: KARL });
    await change.waitFor();
    const spaced = (f: string) => f.replace(/(.{4})/g, '$1 ').trim();
    assert.equal(
      await change.locator('[data-testid="old-fp"]').innerText(),
      spaced(oldKarl.encryption.fingerprint),
    );
    assert.equal(
      await change.locator('[data-testid="new-fp"]').innerText(),
      spaced(newKarl.encryption.fingerprint),
    );
    // Until the decision neither key is used: the message goes by secure pickup (a notification in clear).
    const pickup = (await sendAndCatch(stack, KARL)).toString('latin1');
    assert.doesNotMatch(pickup, /multipart\/encrypted/i);

    // Search by fingerprint, then the screenshots (1280 and 360 px), axe clean.
    await page.getByLabel('Adresse oder Fingerabdruck').fill(newKarl.encryption.fingerprint.slice(-16));
    await page.getByRole('button', { name: 'Suchen' }).click();
    await page.locator('[data-testid="key"]').filter({ hasText: EVA }).waitFor({ state: 'detached' });
    assert.equal(await page.locator('[data-testid="key"]').count(), 1);
    await accessible(page, 'keys');
    await screenshot(page, 'console-keys-1280');
    await page.setViewportSize({ width: 360, height: 900 });
    await accessible(page, 'keys at 360 px');
    await screenshot(page, 'console-keys-360');
    await page.setViewportSize({ width: 1280, height: 900 });
    mkdirSync('docs/screenshots/console', { recursive: true });
    copyFileSync(path.join(SCREENSHOTS, 'console-keys-1280.png'), 'docs/screenshots/console/keys.png');

    // Approve: the next message is encrypted to the new key, not the earlier one; audited with the admin.
    await change.getByRole('button', { name: `Neuen Schlüssel annehmen: ${KARL}` }).click();
    await page.locator('[data-testid="keys-status"]', { hasText: 'angenommen' }).waitFor();
    await change.waitFor({ state: 'detached' });
    const after = await sendAndCatch(stack, KARL);
    assert.ok(await opens(after, newKarl), 'approved: the new key');
    assert.ok(!(await opens(after, oldKarl)));
    const audit = await stack.gw.testDb.db.kysely
      .selectFrom('audit')
      .select(['actor', 'action', 'subject', 'ip'])
      .where('action', 'in', ['recipient-key.import', 'recipient-key.change-approved'])
      .orderBy('id')
      .execute();
    assert.deepEqual(
      audit.map((a) => [a.actor, a.action, a.subject, Boolean(a.ip)]),
      [
        ['admin@praxis.example', 'recipient-key.import', EVA, true],
        ['admin@praxis.example', 'recipient-key.change-approved', KARL, true],
      ],
    );
    assert.deepEqual(problems.errors, []);
    await context.close();
  });
});
