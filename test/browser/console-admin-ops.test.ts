import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { selfSigned } from '../../core/tls.ts';
import { accessible, newPage, screenshot, SCREENSHOTS, withBrowserStack } from '../helpers/browser.ts';
import { ADMIN, makeAdmin, signInAdmin } from '../helpers/console-admin.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * The admin's policy, queue, audit and settings screens in Chromium against the real stack
 * (docs/admin-console.md): a reject rule with a note, which the next SMTP refusal shows; the explain box;
 * a deferred message retried against the sink that came back; the audit filter and its CSV.
 */
const [kind] = testDbKinds();
const BLOCKED = 'kanzlei@blocked.example';
const NOTE = 'Bitte das Mandantenportal nutzen';
const MAX = 'max@example.org';

/** Screenshots at 1280 and 360 px; the 1280 one is the docs' picture. */
async function shoot(page: Page, screen: string): Promise<void> {
  await accessible(page, screen);
  await screenshot(page, `console-${screen}-1280`);
  await page.setViewportSize({ width: 360, height: 900 });
  await accessible(page, `${screen} at 360 px`);
  await screenshot(page, `console-${screen}-360`);
  await page.setViewportSize({ width: 1280, height: 900 });
  mkdirSync('docs/screenshots/console', { recursive: true });
  copyFileSync(
    path.join(SCREENSHOTS, `console-${screen}-1280.png`),
    `docs/screenshots/console/${screen}.png`,
  );
}

async function go(page: Page, link: RegExp, heading: RegExp): Promise<void> {
  await page.getByRole('navigation').getByRole('link', { name: link }).click();
  await page.getByRole('heading', { name: heading }).first().waitFor();
}

async function deferredRows(stack: Stack): Promise<number> {
  const rows = await stack.gw.testDb.db.kysely
    .selectFrom('outbound')
    .select('id')
    .where('status', '=', 'queued')
    .where('attempts', '>', 0)
    .execute();
  return rows.length;
}

describe('console in Chromium: the admin’s policy, queue, audit and settings', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  // The certificate the settings screen reads (SEALPOST_TLS_CERT); the test gateway's own is in memory.
  const certDir = tmpDir();
  after(() => certDir.cleanup());
  before(async () => {
    const pems = await selfSigned('localhost');
    writeFileSync(path.join(certDir.dir, 'cert.pem'), pems.cert);
    writeFileSync(path.join(certDir.dir, 'key.pem'), pems.key);
  });
  withBrowserStack(
    () => ({
      kind: kind!,
      config: { tlsCert: path.join(certDir.dir, 'cert.pem'), tlsKey: path.join(certDir.dir, 'key.pem') },
    }),
    (env) => ({ browser, stack } = env),
  );

  it('reject rule with a note → SMTP refusal shows it; explain; retry a deferred message; audit and CSV', async () => {
    await makeAdmin(stack);
    const { page, problems, context } = await newPage(browser, { width: 1280 });
    await signInAdmin(page, stack, '/policy', /^Richtlinie$/);

    // A reject rule with a note and a reason, by keyboard and form.
    await page.getByLabel('Adresse oder Domain').fill('blocked.example');
    await page.getByLabel('Aktion').selectOption('reject');
    await page.getByLabel('Hinweis in der SMTP-Ablehnung').fill(NOTE);
    await page.getByLabel(/^Begründung/).fill('Vereinbarung vom 1.12.2026');
    await page.getByRole('button', { name: 'Regel speichern' }).click();
    await page.locator('[data-testid="rule"]', { hasText: 'blocked.example' }).waitFor();

    // The next SMTP refusal carries the note.
    const refused = await stack.gw
      .transport()
      .sendMail({ from: SENDER, to: BLOCKED, subject: 'x', text: 'x' })
      .then(
        () => undefined,
        (err: unknown) => String((err as { response?: string }).response ?? err),
      );
    assert.ok(refused, 'the message is refused');
    assert.match(refused, /550 5\.7\.1/);
    assert.match(refused, new RegExp(NOTE));
    assert.match(refused, /GW_POLICY_REJECT/);

    // The explain box decides as the gateway did.
    await page.getByLabel('Absender').fill(SENDER);
    await page.getByLabel('Empfänger').fill(BLOCKED);
    await page.getByRole('button', { name: 'Prüfen' }).click();
    const verdict = page.locator('[data-testid="verdict"]');
    await verdict.waitFor();
    const said = await verdict.innerText();
    assert.match(said, /reject/);
    assert.match(said, /GW_POLICY_REJECT/);
    assert.match(said, /550 5\.7\.1/);
    assert.match(said, new RegExp(NOTE));
    await shoot(page, 'policy');

    // A message whose deliveries the relay defers (both copies: notification and receipt) …
    stack.sink.failNext({ code: 451, message: '4.3.0 Try again later' }, 2);
    await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'Hallo.' });
    for (let i = 0; i < 300 && (await deferredRows(stack)) < 2; i++)
      await new Promise((r) => setTimeout(r, 100));
    assert.equal(await deferredRows(stack), 2, 'both copies deferred');
    await go(page, /^Warteschlange$/, /^Warteschlange$/);
    const lines = page.locator('[data-testid="queue-line"]');
    await lines.first().waitFor();
    assert.equal(await lines.count(), 2);
    assert.match(await lines.first().innerText(), /451 DLV_DEFER/);
    await shoot(page, 'queue');
    // … retried now against the sink that came back (the schedule said 5 minutes).
    for (const rcpt of [MAX, SENDER]) {
      await page.getByRole('button', { name: `Jetzt erneut versuchen: ${rcpt}` }).click();
      await page.locator('[data-testid="queue-status"]', { hasText: 'Neuer Versuch' }).waitFor();
    }
    const arrived = await stack.sink.waitFor(2, 30_000);
    assert.deepEqual(arrived.map((m) => m.to[0]).sort(), [MAX, SENDER].sort());
    await page.getByRole('button', { name: 'Zugestellt' }).click();
    await page.locator('[data-testid="queue-line"]', { hasText: MAX }).waitFor();

    // The audit trail: filtered by action, and the same filter as CSV.
    await go(page, /^Protokoll$/, /^Protokoll$/);
    await page.getByLabel('Aktion').selectOption('policy.set');
    await page.getByRole('button', { name: 'Filtern' }).click();
    await page
      .locator('[data-testid="audit-line"]')
      .filter({ hasNotText: 'policy.set' })
      .first()
      .waitFor({ state: 'detached' });
    const audited = await page.locator('[data-testid="audit-line"]').allInnerTexts();
    assert.equal(audited.length, 1);
    assert.match(audited[0]!, new RegExp(ADMIN));
    assert.match(audited[0]!, /blocked\.example/);
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page.getByRole('button', { name: 'Als CSV herunterladen' }).click(),
    ]);
    const csv = readFileSync((await download.path())!, 'utf8')
      .trim()
      .split('\r\n');
    assert.equal(csv[0], 'at,actor,action,subject,detail,ip');
    assert.equal(csv.length, 2, 'the filter applies to the CSV');
    assert.match(
      csv[1]!,
      /"admin@praxis\.example","policy\.set","blocked\.example","reject; Vereinbarung vom 1\.12\.2026"/,
    );
    await page.getByLabel('Aktion').selectOption('');
    await page.getByRole('button', { name: 'Filtern' }).click();
    await page.locator('[data-testid="audit-line"]', { hasText: 'queue.retry' }).first().waitFor();
    await shoot(page, 'audit');

    // Settings and health.
    await go(page, /^Einstellungen$/, /^Einstellungen$/);
    const health = page.locator('[data-testid="health"]');
    await health.waitFor();
    const h = await health.innerText();
    assert.match(h, /Datenbank\s+ok/);
    assert.match(h, /Redis\s+ok/);
    assert.match(h, /läuft ab in \d+ Tagen/);
    assert.match(h, /letzte Zustellung: \d/);
    await shoot(page, 'settings');

    assert.deepEqual(problems.errors, []);
    await context.close();
  });
});
