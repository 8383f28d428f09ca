import assert from 'node:assert/strict';
import { KeyImportError, type KeyStore } from '../../keys/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { FIXTURE_NOW, freshKeyPair, openTestKeyStore, type TestKeyStore } from '../helpers/keys.ts';

/**
 * Attack (review of issue 14): the admin drops a recipient key (`/console/keys` "drop", `sealpost key
 * drop`); whoever holds that contact's pickup session uploads the same key again as "own key" on the pickup
 * page and it is used once more. Only the admin's import vouches for an admin-dropped key again; the
 * contact's upload is refused (the pickup API answers PU_KEY_INVALID, problem `dropped`).
 */
const MAX = 'max@example.org';

for (const kind of testDbKinds()) {
  describe(`security: a contact's upload does not bring back a key the admin dropped (${kind})`, function () {
    this.timeout(60_000);
    let t: TestKeyStore;
    let keys: KeyStore;
    beforeEach(async () => {
      t = await openTestKeyStore(FIXTURE_NOW, kind);
      keys = t.store;
    });
    afterEach(() => t.cleanup());

    it('refuses the upload, the key stays dropped; the admin’s import still brings it back', async () => {
      const max = await freshKeyPair(MAX);
      await keys.registerPickupKey(MAX, max.publicKey);
      assert.equal((await keys.recipientKey(MAX)).state, 'usable');
      await keys.dropRecipientKey({ address: MAX, fingerprint: max.encryption.fingerprint });
      assert.deepEqual(await keys.recipientKey(MAX), { state: 'none' });
      await assert.rejects(keys.registerPickupKey(MAX, max.publicKey), KeyImportError);
      assert.deepEqual(await keys.recipientKey(MAX), { state: 'none' }, 'still dropped');
      await keys.importKeys(max.publicKey);
      assert.equal((await keys.recipientKey(MAX)).state, 'usable', 'the admin vouches for it again');
    });
  });
}
