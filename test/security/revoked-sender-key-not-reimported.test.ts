import assert from 'node:assert/strict';
import { KeyImportError, type KeyStore } from '../../keys/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { FIXTURE_NOW, freshKeyPair, openTestKeyStore, type TestKeyStore } from '../helpers/keys.ts';

/**
 * Attack (review of issue 14): a sender key the admin revoked is brought back by importing its private half
 * again (CLI `key import` or the console's import). It would sign again while the WKD serves its
 * revocation. The key store refuses a fingerprint that was ever revoked; the address keeps failing closed.
 */
const ANNA = 'anna@praxis.example';

for (const kind of testDbKinds()) {
  describe(`security: a revoked sender key is not imported again (${kind})`, function () {
    this.timeout(60_000);
    let t: TestKeyStore;
    let keys: KeyStore;
    beforeEach(async () => {
      t = await openTestKeyStore(FIXTURE_NOW, kind);
      keys = t.store;
    });
    afterEach(() => t.cleanup());

    it('refuses the revoked private key on import; no key signs for the address', async () => {
      const pair = await freshKeyPair(ANNA);
      await keys.importKeys(pair.privateKey);
      assert.equal((await keys.senderKey(ANNA))?.signer.fingerprint, pair.signer.fingerprint);
      await keys.revokeSenderKey(ANNA);
      assert.equal(await keys.senderKey(ANNA), undefined, 'revoked: nothing signs');
      await assert.rejects(keys.importKeys(pair.privateKey), (e: Error) => {
        assert.ok(e instanceof KeyImportError);
        assert.match(e.message, /was revoked/);
        return true;
      });
      assert.equal(await keys.senderKey(ANNA), undefined, 'still nothing signs for the address');
      const rows = await t.db.db.kysely.selectFrom('sender_keys').select(['active', 'revoked_at']).execute();
      assert.equal(rows.length, 1, 'no second row for the revoked key');
      // A new key is fine.
      const next = await freshKeyPair(ANNA);
      await keys.importKeys(next.privateKey);
      assert.equal((await keys.senderKey(ANNA))?.signer.fingerprint, next.signer.fingerprint);
    });
  });
}
