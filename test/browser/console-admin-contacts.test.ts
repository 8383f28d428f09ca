import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { MAX_FAILURES } from '../../core/store/index.ts';
import { accessible, newPage, screenshot, SCREENSHOTS, withBrowserStack } from '../helpers/browser.ts';
import { makeAdmin, signInAdmin } from '../helpers/console-admin.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * The admin's pickup contacts screen in Chromium against the real stack (docs/admin-console.md): a mail to a
 * keyless client makes a contact; the list shows it locked after wrong codes; unlock; delete with a
 * confirmation that counts — and then no row of any table names the contact's address or id (GDPR erasure).
 */
const [kind] = testDbKinds();
const MAX = 'max.mustermann@example.org';

/** Every row of every table, as text (blobs as latin1), that contains one of `needles`. */
async function rowsNaming(stack: Stack, needles: string[]): Promise<string[]> {
  const db = stack.gw.testDb.db.kysely;
  const tables = await db.introspection.getTables();
  assert.ok(tables.length >= 20, `all tables seen (${tables.length})`);
  const found: string[] = [];
  for (const table of tables) {
    const rows = (await db
      .selectFrom(table.name as 'audit')
      .selectAll()
      .execute()) as unknown as Record<string, unknown>[];
    for (const row of rows) {
      const text = Object.values(row)
        .map((v) => (v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : String(v)))
        .join('\u0000')
        .toLowerCase();
      if (needles.some((n) => text.includes(n.toLowerCase())))
        found.push(`${table.name}: ${JSON.stringify(row)}`);
    }
  }
  return found;
}

describe('console in Chromium: the admin’s pickup contacts', function () {
  this.timeout(240_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  it('mail makes a contact → listed locked → unlock → delete with counts → nothing of theirs in any table', async () => {
    await makeAdmin(stack);
    const stores = stack.gw.testDb.db.stores;
    await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: 'Befund', text: 'Hallo.' });
    const contact = await stores.contacts.byAddress(MAX);
    assert.ok(contact, 'the mail made a pickup contact');
    // Locked by wrong codes, as the pickup API counts them.
    for (let i = 0; i < MAX_FAILURES; i++) await stores.contacts.recordFailure(contact, new Date());
    assert.equal(Number((await stores.contacts.byId(contact.id))?.locked), 1);
    // The notification and the receipt leave, so the spool holds the contact's rows as in practice.
    for (let i = 0; i < 300 && stack.sink.messages.length < 2; i++)
      await new Promise((r) => setTimeout(r, 100));

    const { page, problems } = await newPage(browser, { width: 1280 });
    await signInAdmin(page, stack, '/contacts', /^Abholkontakte$/);
    const line = page.locator('[data-testid="contact-line"]', { hasText: MAX });
    await line.waitFor();
    assert.match(await line.innerText(), /Gesperrt/);
    assert.match(await line.innerText(), /Wartende Nachrichten: 1/);
    await accessible(page, 'contacts');

    await page.getByRole('button', { name: `Entsperren: ${MAX}` }).click();
    await page.locator('[data-testid="contacts-status"]', { hasText: 'entsperrt' }).waitFor();
    assert.equal(Number((await stores.contacts.byId(contact.id))?.locked), 0);
    assert.match(await line.innerText(), /Nicht gesperrt/);

    // A new code: the sender has a console key, so the code is routed to her console, not shown here.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `Neuer Code: ${MAX}` }).click();
    const issued = page.locator('[data-testid="new-code"]');
    await issued.waitFor({ timeout: 60_000 });
    assert.match(await issued.innerText(), new RegExp(`in der Konsole von: ${SENDER}`));
    assert.doesNotMatch(await issued.innerText(), /[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}/, 'no code shown');
    assert.match(await issued.innerText(), /Nicht mehr lesbare Nachrichten: 1/);

    await page.getByRole('button', { name: `Löschen: ${MAX}` }).click();
    const confirm = page.locator('[data-testid="erase-confirm"]');
    await confirm.waitFor();
    const said = await confirm.innerText();
    assert.match(said, new RegExp(MAX.replace(/\./g, '\\.')));
    assert.match(said, /Kontakt \(Schlüssel und Geheimnis\): 1/);
    assert.match(said, /Wartende Nachrichten: 1/);
    assert.match(said, /Zeilen in „Gesendet“: 1/);
    assert.ok(await stores.contacts.byId(contact.id), 'the preview deleted nothing');
    await accessible(page, 'contacts, confirmation');
    await screenshot(page, 'console-contacts-1280');
    await page.setViewportSize({ width: 360, height: 900 });
    await accessible(page, 'contacts at 360 px');
    await screenshot(page, 'console-contacts-360');
    await page.setViewportSize({ width: 1280, height: 900 });
    mkdirSync('docs/screenshots/console', { recursive: true });
    copyFileSync(
      path.join(SCREENSHOTS, 'console-contacts-1280.png'),
      'docs/screenshots/console/contacts.png',
    );

    // The scan finds the contact while it is there (the check can fail).
    assert.ok((await rowsNaming(stack, [MAX, contact.id])).length >= 3, 'the contact is in several tables');
    await page.getByRole('button', { name: 'Endgültig löschen' }).click();
    await page.locator('[data-testid="contacts-status"]', { hasText: 'gelöscht' }).waitFor();
    await page.locator('[data-testid="contacts-empty"]').waitFor();

    assert.deepEqual(await rowsNaming(stack, [MAX, contact.id]), [], 'nothing of theirs left');
    const entry = await stack.gw.testDb.db.kysely
      .selectFrom('audit')
      .selectAll()
      .where('action', '=', 'contact.delete')
      .executeTakeFirst();
    assert.ok(entry, 'the erasure is audited');
    assert.equal(entry.subject, 'erased');
    assert.ok(entry.ip, 'with the IP');
    assert.deepEqual(problems.errors, []);
  });
});
