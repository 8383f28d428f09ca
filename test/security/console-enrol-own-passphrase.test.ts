import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { CODE_KDF } from '../../webmail/contract/pickup.ts';
import { consoleCodes, consoleFetch, consoleSignIn, ownPassphraseBody } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { linkId, readMessage, tryUnlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Enrolment with the client's own passphrase (docs/console.md "Own passphrase") accepts only what her
 * browser makes: a lock at a person's passphrase cost (never a code's single pass: a chosen passphrase has
 * far fewer bits), a public key naming the contact (not someone else's, not a private key), and never an
 * existing contact (that would re-key a client whose code or passphrase is out there). What is stored is
 * the lock and SHA-256(authKey) — the passphrase opens the client's pickup; no code exists anywhere.
 */
const CLIENT = 'lena@example.org';
const PASSPHRASE = 'Mein Garten blüht im Mai 2026!';

for (const kind of testDbKinds()) {
  describe(`security: enrolment with an own passphrase takes only a passphrase-strength lock (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    async function post(body: unknown): Promise<{ status: number; code?: string }> {
      const anna = await consoleSignIn(stack.web);
      const res = await consoleFetch(anna, 'POST', '/api/console/contacts/passphrase', body);
      const json = (await res.json()) as { code?: string };
      return { status: res.status, ...(json.code ? { code: json.code } : {}) };
    }

    it("refuses a code's cost, someone else's key, a private key; stores nothing", async () => {
      const cases = {
        'code cost': await ownPassphraseBody(CLIENT, PASSPHRASE, { iterations: CODE_KDF.iterations }),
        'foreign key': await ownPassphraseBody(CLIENT, PASSPHRASE, { keyAddress: 'mallory@example.net' }),
        'private key': await ownPassphraseBody(CLIENT, PASSPHRASE, { sendPrivate: true }),
      };
      for (const [name, body] of Object.entries(cases)) {
        assert.deepEqual(await post(body), { status: 400, code: 'CON_BAD_REQUEST' }, name);
      }
      assert.equal(await stack.gw.testDb.db.stores.contacts.byAddress(CLIENT), undefined);
    });

    it('stores the lock and SHA-256(authKey); the passphrase opens the pickup; no code anywhere', async () => {
      const body = await ownPassphraseBody(CLIENT, PASSPHRASE);
      assert.equal((await post(body)).status, 200);
      const stores = stack.gw.testDb.db.stores;
      const row = await stores.contacts.byId(body.contactId);
      assert.equal(row?.secret_kind, 'passphrase');
      assert.equal(
        row?.auth_hash,
        createHash('sha256').update(Buffer.from(body.secret.authKey, 'base64')).digest('hex'),
      );
      assert.deepEqual(await post(await ownPassphraseBody(CLIENT, 'ein anderes Passwort!')), {
        status: 409,
        code: 'CON_CONTACT_EXISTS',
      });
      // Made meanwhile by a mail: the same answer, the contact is not re-keyed.
      assert.equal((await stores.contacts.byId(body.contactId))?.auth_hash, row?.auth_hash);

      await stack.gw.transport().sendMail({ from: SENDER, to: CLIENT, subject: 'Termin', text: 'Bis bald.' });
      const [notification] = await stack.sink.waitFor(1);
      const id = await linkId(notification!.raw);
      assert.equal((await tryUnlock(stack.web, id, 'falsches Passwort!!')).status, 401);
      const opened = await tryUnlock(stack.web, id, PASSPHRASE);
      assert.equal(opened.status, 200);
      const message = await readMessage(stack.web, opened.unlocked!, id);
      assert.match(message.parsed.text ?? '', /Bis bald/);
      assert.deepEqual(await consoleCodes(await consoleSignIn(stack.web)), [], 'no code waits');
    });
  });
}
