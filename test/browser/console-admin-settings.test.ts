import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import type { Browser, Page } from 'playwright-core';
import { parseConfig } from '../../core/config.ts';
import { createLog } from '../../core/log.ts';
import { discoverySettings, KeyDiscovery } from '../../keys/discovery/index.ts';
import { accessible, newPage, SCREENSHOTS, screenshot, withBrowserStack } from '../helpers/browser.ts';
import { makeAdmin, signInAdmin } from '../helpers/console-admin.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { startKeyDirectory, type KeyDirectory } from '../helpers/key-directory.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * The admin's settings in Chromium against the real stack (docs/admin-console.md "Settings"): the practice
 * name and the notification language set in the console are what the next notification mail at the sink
 * carries, without a restart; discovery switched off in the console means the next message asks the key
 * directory nothing (a message before it did); reset goes back to the configuration's value.
 */
const [kind] = testDbKinds();
const PRACTICE = 'Praxis Dr. Sonnenschein';

/** Set one setting through its form on the screen and wait for the saved status. */
async function save(page: Page, key: string, value: string, select: boolean): Promise<void> {
  const row = page.locator(`[data-testid="setting-${key}"]`);
  const field = row.locator(`[name="${key}"]`);
  if (select) await field.selectOption(value);
  else await field.fill(value);
  await row.getByRole('button', { name: 'Speichern' }).click();
  await page.locator('[data-testid="settings-status"]', { hasText: 'gespeichert' }).waitFor();
  await row.locator('[data-testid="source"]', { hasText: 'in der Konsole gesetzt' }).waitFor();
}

/** Send to `to` (a new pickup contact) and return the notification the sink received for it. */
async function notificationTo(stack: Stack, to: string) {
  const before = stack.sink.messages.length;
  await stack.gw.transport().sendMail({ from: SENDER, to, subject: 'Befund', text: 'vertraulich' });
  for (let n = before + 1; ; n++) {
    const all = await stack.sink.waitFor(n, 60_000);
    const hit = all.slice(before).find((m) => m.to.includes(to));
    if (hit) return simpleParser(hit.raw);
  }
}

describe('console in Chromium: the admin’s settings take effect without a restart', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  let dir: KeyDirectory;
  before(async () => {
    dir = await startKeyDirectory({ domains: ['example.org'] });
  });
  after(async () => dir.close());
  withBrowserStack(
    () => {
      const config = { practiceName: 'Praxis aus der Konfiguration', discovery: { vksUrl: dir.vksUrl } };
      const settings = discoverySettings(parseConfig(config).discovery);
      const log = createLog({ level: 'silent' });
      return {
        kind: kind!,
        config,
        discovery: new KeyDiscovery({ settings, clock: { now: () => new Date() }, log, net: dir.net }),
      };
    },
    (env) => ({ browser, stack } = env),
  );

  it('practice name + language → the next notification; discovery off → no lookup; reset', async () => {
    await makeAdmin(stack);
    const { context, page, problems } = await newPage(browser, { width: 1280 });
    await signInAdmin(page, stack, '/settings', /^Einstellungen$/);
    const practice = page.locator('[data-testid="setting-practiceName"]');
    await practice.locator('[data-testid="source"]', { hasText: 'aus der Konfiguration' }).waitFor();

    // Control: with discovery on (the configuration), a message to a new address asks the key directory.
    const asked = dir.requests.length;
    const first = await notificationTo(stack, 'erste@example.org');
    assert.ok(dir.requests.length > asked, 'discovery on: the directory was asked');
    assert.match(first.subject ?? '', /^Vertrauliche Nachricht von Praxis aus der Konfiguration$/);

    await save(page, 'practiceName', PRACTICE, false);
    await save(page, 'language', 'en', true);
    await save(page, 'discovery', 'off', true);
    await accessible(page, 'settings');
    await screenshot(page, 'console-settings-1280');
    await page.setViewportSize({ width: 360, height: 900 });
    await accessible(page, 'settings at 360 px');
    await screenshot(page, 'console-settings-360');
    await page.setViewportSize({ width: 1280, height: 900 });
    mkdirSync('docs/screenshots/console', { recursive: true });
    copyFileSync(
      path.join(SCREENSHOTS, 'console-settings-1280.png'),
      'docs/screenshots/console/settings.png',
    );

    // The next message: notification in English with the practice name set in the console; no lookup.
    const before = dir.requests.length;
    const next = await notificationTo(stack, 'zweite@example.org');
    assert.equal(next.subject, `Confidential message from ${PRACTICE}`);
    assert.match(next.text ?? '', new RegExp(`-- \\n${PRACTICE.replace(/\./g, '\\.')}`));
    assert.equal(dir.requests.length, before, 'discovery off: the directory was not asked');

    // Audited old -> new.
    const audit = await stack.gw.testDb.db.stores.audit.page({
      offset: 0,
      limit: 20,
      action: 'settings.set',
    });
    assert.ok(
      audit.some(
        (r) => r.subject === 'practiceName' && r.detail === `Praxis aus der Konfiguration -> ${PRACTICE}`,
      ),
    );

    // Back to the configuration's value.
    await practice.getByRole('button', { name: /Zurück zur Vorgabe/ }).click();
    await practice.locator('[data-testid="source"]', { hasText: 'aus der Konfiguration' }).waitFor();
    // The field follows once the screen has reloaded the settings (polled: inputValue does not wait).
    await page.waitForFunction(
      `document.querySelector('[name="practiceName"]')?.value === 'Praxis aus der Konfiguration'`,
      undefined,
      { timeout: 10_000 },
    );
    assert.deepEqual(problems.errors, []);
    await context.close();
  });
});
