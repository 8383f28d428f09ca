import assert from 'node:assert/strict';
import { copyFileSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import * as openpgp from 'openpgp';
import type { Browser } from 'playwright-core';
import { wkdHash } from '../../keys/discovery/wkd.ts';
import { decryptAndVerify, keyIds, lockedPrivateKey, parseEncryptionKey } from '../../keys/openpgp/index.ts';
import { accessible, newPage, SCREENSHOTS, screenshot, withBrowserStack } from '../helpers/browser.ts';
import { ADMIN, makeAdmin, signInAdmin } from '../helpers/console-admin.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { extractArmoredPayload } from '../helpers/interop.ts';
import { freshKeyPair, type TestKeyPair } from '../helpers/keys.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * The admin's sender keys screen in Chromium against the real stack (docs/admin-console.md "Sender keys"):
 * generate a key for a new sender; import a private key locked with a passphrase; rotate Anna's key — the next SMTP message is signed by the new key, the
 * WKD serves it, the earlier key is listed as kept for replies; export the public key as a file; revoke it
 * after a confirmation — her next message is refused with 451 (fail closed: nothing leaves unsigned) and the
 * WKD serves the key with its revocation. Then pin and drop a discovered recipient key on the keys screen.
 */
const [kind] = testDbKinds();
const EVA = 'eva@example.org';
const BEA = 'bea@praxis.example';
const KARL = 'karl@kanzlei.example';
const CARL = 'carl@praxis.example';
const spaced = (f: string) => f.replace(/(.{4})/g, '$1 ').trim();

/** Send one message from Anna to `to` and return what the sink received for `to`. */
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

/** Whether the copy opens with Eva's key and carries a valid signature by `signer` (armored public key). */
async function signedBy(mail: Buffer, eva: TestKeyPair, signer: string): Promise<boolean> {
  const key = await parseEncryptionKey(signer);
  const r = await decryptAndVerify({
    armored: extractArmoredPayload(mail),
    decryptionKey: eva.signer,
    verificationKeys: [key],
    now: new Date(),
  });
  return r.verified && r.signedBy !== null && keyIds(key).includes(r.signedBy);
}

/** The keys WKD serves for Anna (advanced method): fingerprints and whether each is revoked. */
async function wkd(stack: Stack): Promise<[string, boolean][]> {
  const res = await fetch(`${stack.web}/.well-known/openpgpkey/praxis.example/hu/${wkdHash('anna')}?l=anna`);
  assert.equal(res.status, 200);
  const keys = await openpgp.readKeys({ binaryKeys: new Uint8Array(await res.arrayBuffer()) });
  const out: [string, boolean][] = [];
  for (const k of keys) out.push([k.getFingerprint().toUpperCase(), await k.isRevoked()]);
  return out;
}

describe('console in Chromium: the admin’s sender keys screen', function () {
  this.timeout(300_000);
  let browser: Browser;
  let stack: Stack;
  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  it('generate → rotate (signs, WKD) → export → revoke (fails closed); pin and drop a recipient key', async () => {
    await makeAdmin(stack);
    await stack.gw.users.add({ login: BEA, password: 'bea-password-long' }, new Date());
    // Carl's key is imported below: an import is only for addresses a user may send as.
    await stack.gw.users.add({ login: CARL, password: 'carl-password-long' }, new Date());
    const eva = await freshKeyPair(EVA);
    await stack.gw.keys.importKeys(eva.publicKey);
    const earlier = (await stack.gw.keys.senderKey(SENDER))!.signer.fingerprint;

    const { page, problems, context } = await newPage(browser, { width: 1280 });
    await signInAdmin(page, stack, '/sender-keys', /^Absenderschlüssel$/);
    const row = (address: string, state: string) =>
      page.locator(`[data-testid="sender-key"][data-state="${state}"]`, { hasText: address });
    await row(SENDER, 'active').waitFor();

    // Generate: Bea sends as her address and has no key yet.
    await page.getByLabel('Absenderadresse').selectOption(BEA);
    await page.getByRole('button', { name: 'Erzeugen' }).click();
    await page.locator('[data-testid="sender-keys-status"]', { hasText: BEA }).waitFor();
    await row(BEA, 'active').waitFor();
    assert.match(await row(BEA, 'active').innerText(), /Verfahren: eddsaLegacy ed25519Legacy/);
    assert.match(await row(BEA, 'active').innerText(), /Läuft ab: nie/);

    // Import Carl's private key, locked with a passphrase: a wrong one is refused, the right one stores it.
    const carl = await freshKeyPair(CARL);
    const locked = await lockedPrivateKey(carl.signer, 'Kastanienallee 12');
    await page.getByLabel('Oder Schlüssel einfügen (-----BEGIN PGP PRIVATE KEY BLOCK …)').fill(locked);
    await page.getByLabel('Passphrase (falls der Schlüssel damit geschützt ist)').fill('falsch');
    await page.getByRole('button', { name: 'Importieren' }).click();
    await page.getByRole('alert').filter({ hasText: 'Passphrase passt nicht' }).waitFor();
    await page.getByLabel('Passphrase (falls der Schlüssel damit geschützt ist)').fill('Kastanienallee 12');
    await page.getByRole('button', { name: 'Importieren' }).click();
    await page.locator('[data-testid="sender-import-status"]', { hasText: CARL }).waitFor();
    await row(CARL, 'active').waitFor();
    assert.match(await row(CARL, 'active').innerText(), /Herkunft: imported/);
    assert.equal((await stack.gw.keys.senderKey(CARL))?.signer.fingerprint, carl.signer.fingerprint);

    // Rotate Anna's key (a confirmation): the new key signs the next message and WKD serves it.
    page.once('dialog', (d) => void d.accept());
    await page.getByRole('button', { name: `Erneuern: ${SENDER}` }).click();
    await page
      .locator('[data-testid="sender-keys-status"]', { hasText: 'bleibt zum Entschlüsseln' })
      .waitFor();
    await row(SENDER, 'retired').waitFor();
    const current = (await stack.gw.keys.senderKey(SENDER))!.signer;
    assert.notEqual(current.fingerprint, earlier);
    assert.equal(
      await row(SENDER, 'active').locator('[data-testid="sender-fp"]').innerText(),
      spaced(current.fingerprint),
    );
    const mail = await sendAndCatch(stack, EVA);
    const currentPublic = (await stack.gw.keys.senderPublicKey(current.fingerprint))!;
    assert.ok(await signedBy(mail, eva, currentPublic), 'signed by the new key');
    assert.ok(
      !(await signedBy(mail, eva, (await stack.gw.keys.senderPublicKey(earlier))!)),
      'not the earlier',
    );
    assert.deepEqual(await wkd(stack), [[current.fingerprint, false]]);

    // Screenshots (1280 and 360 px), axe clean.
    await accessible(page, 'sender keys');
    await screenshot(page, 'console-sender-keys-1280');
    await page.setViewportSize({ width: 360, height: 900 });
    await accessible(page, 'sender keys at 360 px');
    await screenshot(page, 'console-sender-keys-360');
    await page.setViewportSize({ width: 1280, height: 900 });
    mkdirSync('docs/screenshots/console', { recursive: true });
    copyFileSync(
      path.join(SCREENSHOTS, 'console-sender-keys-1280.png'),
      'docs/screenshots/console/sender-keys.png',
    );

    // Export the public key: a .asc file with the new key.
    const [download] = await Promise.all([
      page.waitForEvent('download'),
      page
        .getByRole('button', {
          name: `Öffentlichen Schlüssel herunterladen: ${SENDER} ${spaced(current.fingerprint)}`,
        })
        .click(),
    ]);
    assert.match(download.suggestedFilename(), /^anna@praxis\.example-[0-9A-F]{16}\.asc$/);
    const exported = await openpgp.readKey({ armoredKey: readFileSync((await download.path())!, 'utf8') });
    assert.equal(exported.getFingerprint().toUpperCase(), current.fingerprint);
    assert.ok(!exported.isPrivate());

    // Revoke, after the confirmation that says what follows: the next message is refused (451), WKD
    // serves the key with its revocation.
    await page.getByRole('button', { name: `Widerrufen: ${SENDER} ${spaced(current.fingerprint)}` }).click();
    const confirm = page.locator('[data-testid="revoke-confirm"]');
    await confirm.waitFor();
    assert.match(await confirm.innerText(), /abgewiesen/);
    await confirm.getByRole('button', { name: 'Endgültig widerrufen' }).click();
    await row(SENDER, 'revoked').first().waitFor();
    assert.equal(await stack.gw.keys.senderKey(SENDER), undefined);
    await assert.rejects(
      stack.gw.transport().sendMail({ from: SENDER, to: EVA, subject: 'x', text: 'x' }),
      (err: { responseCode?: number }) => err.responseCode === 451,
    );
    assert.deepEqual(await wkd(stack), [[current.fingerprint, true]]);

    // Recipient keys: pin Karl's discovered key, then drop it (each after a confirmation).
    const karl = await freshKeyPair(KARL);
    await stack.gw.keys.recordFetched({
      address: KARL,
      key: karl.publicKey,
      source: 'vks',
      sourceUrl: 'https://vks',
    });
    await page.getByRole('link', { name: 'Schlüssel', exact: true }).click();
    const karlRow = page.locator('[data-testid="key"]', { hasText: KARL });
    await karlRow.waitFor();
    const fp = spaced(karl.encryption.fingerprint);
    page.once('dialog', (d) => void d.accept());
    await karlRow.getByRole('button', { name: `Festlegen: ${KARL} ${fp}` }).click();
    await page.locator('[data-testid="keys-status"]', { hasText: 'festgelegt' }).waitFor();
    await page
      .locator('[data-testid="key"]', { hasText: 'Quelle: admin' })
      .filter({ hasText: KARL })
      .waitFor();
    page.once('dialog', (d) => void d.accept());
    await karlRow.getByRole('button', { name: `Entfernen: ${KARL} ${fp}` }).click();
    await page.locator('[data-testid="keys-status"]', { hasText: 'entfernt' }).waitFor();
    assert.deepEqual(await stack.gw.keys.recipientKey(KARL), { state: 'none' });

    const audit = await stack.gw.testDb.db.kysely
      .selectFrom('audit')
      .select(['actor', 'action', 'subject', 'ip'])
      .where((eb) =>
        eb.or([
          eb('action', 'like', 'sender-key.%'),
          eb('action', 'in', ['recipient-key.pin', 'recipient-key.drop']),
        ]),
      )
      .where('actor', '=', ADMIN)
      .orderBy('id')
      .execute();
    assert.deepEqual(
      audit.map((a) => [a.action, a.subject, Boolean(a.ip)]),
      [
        ['sender-key.generated', BEA, true],
        ['sender-key.imported', CARL, true],
        ['sender-key.rotated', SENDER, true],
        ['sender-key.revoked', SENDER, true],
        ['recipient-key.pin', KARL, true],
        ['recipient-key.drop', KARL, true],
      ],
    );
    assert.deepEqual(problems.errors, []);
    await context.close();
  });
});
