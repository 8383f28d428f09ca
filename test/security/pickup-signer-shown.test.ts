import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import type { Browser, Page } from 'playwright-core';
import { parseEncryptionKey } from '../../keys/openpgp/index.ts';
import { newPage, pickupLink, screenshot, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Attack (issue 11, finding 4): a practitioner — or whoever holds her password — writes
 * `From: Direktion <direktion@bank.example>` and Sealpost signs it with her key. The pickup page showed
 * that From next to "signature verified". A signature proves whose key signed, not what the From header
 * says: every place that shows a verdict must name the signing key (its User ID and fingerprint), and a
 * From whose address is not the key's must be flagged as not confirmed, never shown as verified.
 *
 * The messages are put into the database as someone with the sender's key would make them (signed by the
 * real sender key, encrypted to the contact), so the test holds whatever the gateway lets through.
 */
const MAX = 'max@example.org';
const [kind] = testDbKinds();

describe('security: the pickup page shows whose key signed, and a From that is not the signer’s', function () {
  this.timeout(150_000);
  let browser: Browser;
  let stack: Stack;

  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  const mime = (from: string, subject: string) =>
    `From: ${from}\r\nTo: <${MAX}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@x>\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\n\r\nBitte überweisen Sie an IBAN DE00 1234.\r\n`;

  /** Replace pickup `id` with `text`, encrypted to the contact and (optionally) signed by `signer`. */
  async function replace(id: string, text: string, signer?: openpgp.PrivateKey): Promise<void> {
    const contact = await stack.gw.testDb.db.kysely
      .selectFrom('contacts')
      .select('public_key')
      .where('address', '=', MAX)
      .executeTakeFirstOrThrow();
    const bytes = await openpgp.encrypt({
      message: await openpgp.createMessage({ binary: Buffer.from(text) }),
      encryptionKeys: (await parseEncryptionKey(contact.public_key)).key,
      format: 'binary',
      ...(signer ? { signingKeys: signer } : {}),
    });
    await stack.gw.testDb.db.kysely
      .updateTable('pickups')
      .set({ ciphertext: stack.gw.deps.sealer.seal('pickup', Buffer.from(bytes), id) })
      .where('id', '=', id)
      .execute();
  }

  async function open(page: Page, subject: string) {
    await page.getByRole('button', { name: new RegExp(subject) }).click();
    await page.getByRole('heading', { name: subject }).waitFor();
    const sig = page.getByTestId('signature');
    // A verified signature shows whose key and its fingerprint behind "Details" (issue 15): opened here.
    const details = sig.getByText('Details', { exact: true });
    if ((await details.count()) > 0) await details.click();
    return {
      state: await sig.getAttribute('data-state'),
      sig: (await sig.innerText()).replace(/\s*\n\s*/g, ' '),
      from: await page.locator('dl dd').first().innerText(), // the From line
      main: await page.locator('main').innerText(),
    };
  }

  it('names the signing key; flags a From the key does not belong to; never "verified" beside it', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: `orig ${i}`, text: 'x' });
      ids.push((await pickupLink(stack, MAX, i + 2)).id);
    }
    const { code, link } = await pickupLink(stack, MAX, 5);
    const anna = (await stack.gw.keys.senderKey(SENDER))!.signer;
    const fpr = anna.fingerprint.toUpperCase().match(/.{4}/g)!.join(' ');
    await replace(ids[0]!, mime('Direktion <direktion@bank.example>', 'Bank'), anna.key);
    await replace(ids[1]!, mime('Direktion <ANNA@Praxis.Example>', 'Name'), anna.key);
    await replace(ids[2]!, mime('Direktion <direktion@bank.example>', 'Ohne'));
    // ids[3] stays as the gateway stored it: From anna, signed by anna.

    const { page, problems } = await newPage(browser);
    await unlockInBrowser(page, link, code!);

    const bank = await open(page, 'Bank');
    assert.equal(bank.state, 'mismatch');
    assert.match(bank.sig, new RegExp(`Schlüssel von ${SENDER} \\(Fingerabdruck ${fpr}\\)`));
    assert.match(bank.sig, /direktion@bank\.example gehört nicht zu diesem Schlüssel/);
    assert.equal(bank.from, 'Direktion <direktion@bank.example> (nicht bestätigt)');
    assert.doesNotMatch(bank.main, /geprüft|✔/, 'nothing says verified next to a From that is not the key’s');
    await screenshot(page, 'signer-mismatch');

    // The right address under another name: verified, and the line says whose key it is.
    const name = await open(page, 'Name');
    assert.equal(name.state, 'verified');
    assert.match(
      name.sig,
      new RegExp(`Unterschrift geprüft: .*Schlüssel von ${SENDER}, Fingerabdruck ${fpr}`),
    );
    assert.equal(name.from, 'Direktion <ANNA@Praxis.Example>');

    const unsigned = await open(page, 'Ohne');
    assert.equal(unsigned.state, 'unsigned');
    assert.equal(unsigned.from, 'Direktion <direktion@bank.example> (nicht bestätigt)');

    const orig = await open(page, 'orig 3');
    assert.equal(orig.state, 'verified');
    assert.match(orig.sig, new RegExp(`Schlüssel von ${SENDER}, Fingerabdruck ${fpr}`));
    assert.equal(orig.from, SENDER);

    await page.getByRole('button', { name: 'Switch to English' }).click();
    const en = await open(page, 'Bank');
    assert.match(en.sig, new RegExp(`Signed with the key of ${SENDER} \\(fingerprint ${fpr}\\)`));
    assert.match(en.sig, /direktion@bank\.example, does not belong to this key and is not confirmed/);
    assert.equal(en.from, 'Direktion <direktion@bank.example> (not confirmed)');
    assert.deepEqual(problems.errors, []);
  });
});
