import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import type { Browser } from 'playwright-core';
import { generateKeyPair, parseEncryptionKey, parseSigningKey } from '../../keys/openpgp/index.ts';
import { newPage, pickupLink, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Attack: someone who can write to the database (not read pickups: they cannot) replaces a stored message
 * with one they encrypted to the contact's public key themselves — unsigned (signature stripped), signed by
 * a key of their own, or with the sender's signature over different text. The app must never show such a
 * message as verified: "not signed", "unknown key" and "INVALID" are shown outside the message frame.
 */
const MAX = 'max@example.org';
const [kind] = testDbKinds();

describe('security: forged or stripped signatures on a pickup are shown as such', function () {
  this.timeout(120_000);
  let browser: Browser;
  let stack: Stack;

  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );

  const mime = (subject: string) =>
    `From: <${SENDER}>\r\nTo: <${MAX}>\r\nSubject: ${subject}\r\nMessage-ID: <${subject}@x>\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\n\r\nBitte überweisen Sie an IBAN DE00 1234.\r\n`;

  /** Replace the stored ciphertext of pickup `id` with `bytes`, sealed as the gateway seals. */
  async function replace(id: string, bytes: Uint8Array): Promise<void> {
    const { db } = stack.gw.testDb;
    await db.kysely
      .updateTable('pickups')
      .set({ ciphertext: stack.gw.deps.sealer.seal('pickup', Buffer.from(bytes), id) })
      .where('id', '=', id)
      .execute();
  }

  it('unsigned, a stranger’s signature, a broken sender signature: none shows as verified', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 4; i++) {
      await stack.gw.transport().sendMail({ from: SENDER, to: MAX, subject: `orig ${i}`, text: 'x' });
      ids.push((await pickupLink(stack, MAX, i + 2)).id);
    }
    const { code, link } = await pickupLink(stack, MAX, 5);
    const contact = await stack.gw.testDb.db.kysely
      .selectFrom('contacts')
      .select('public_key')
      .where('address', '=', MAX)
      .executeTakeFirstOrThrow();
    const to = (await parseEncryptionKey(contact.public_key)).key;
    const anna = (await stack.gw.keys.senderKey(SENDER))!.signer;
    const stranger = await parseSigningKey(
      (await generateKeyPair({ address: SENDER, now: new Date() })).privateKey,
    );
    const encrypt = async (message: openpgp.Message<Uint8Array>, signingKeys?: openpgp.PrivateKey) =>
      openpgp.encrypt({
        message,
        encryptionKeys: to,
        format: 'binary',
        ...(signingKeys ? { signingKeys } : {}),
      });
    const literal = (subject: string) => openpgp.createMessage({ binary: Buffer.from(mime(subject)) });

    await replace(ids[0]!, await encrypt(await literal('Unsigniert')));
    await replace(ids[1]!, await encrypt(await literal('Fremdschluessel'), stranger.key));
    // The sender's real signature, over a text changed afterwards (IBAN 1234 → 9234), then encrypted.
    const signed = await openpgp.sign({
      message: await literal('Verfaelscht'),
      signingKeys: anna.key,
      format: 'object',
    });
    // setBytes is public in openpgp.js, private only in its type declarations.
    const data = signed.packets.findPacket(openpgp.enums.packet.literalData) as unknown as {
      setBytes(bytes: Uint8Array, format: openpgp.enums.literal): void;
    };
    data.setBytes(Buffer.from(mime('Verfaelscht').replace('1234', '9234')), openpgp.enums.literal.binary);
    await replace(ids[2]!, await encrypt(signed));
    // ids[3] stays as the gateway stored it: verified.

    const { page, problems } = await newPage(browser);
    await unlockInBrowser(page, link, code!);
    const expect: [string, string, RegExp][] = [
      ['Unsigniert', 'unsigned', /Nicht unterschrieben/],
      ['Fremdschluessel', 'unknown', /unbekannten Schlüssel/],
      ['Verfaelscht', 'invalid', /UNGÜLTIGE Unterschrift/],
      ['orig 3', 'verified', /Unterschrift geprüft/],
    ];
    for (const [subject, state, text] of expect) {
      await page.getByRole('button', { name: new RegExp(subject) }).click();
      const sig = page.getByTestId('signature');
      await sig.waitFor();
      assert.equal(await sig.getAttribute('data-state'), state, subject);
      assert.match(await sig.innerText(), text);
    }
    assert.deepEqual(problems.errors, []);
  });
});
