import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { fixedClock } from '../../core/clock.ts';
import { Sealer } from '../../core/seal.ts';
import { KeyStore } from '../../keys/store/index.ts';
import { openTestDb, testDbKinds } from '../helpers/db.ts';
import { FIXTURE_NOW } from '../helpers/keys.ts';
import { captureLog } from '../helpers/log.ts';

/**
 * The key store's parse cache is keyed by fingerprint and a hash of the stored material: when another
 * process (here a second KeyStore on the same database, as the worker's refresh is) rewrites a key's row
 * with the same fingerprint — a revocation merged in — the next lookup parses the new material instead of
 * serving the copy it cached.
 */
describe('keys/store: parse cache keyed by fingerprint + material', () => {
  for (const kind of testDbKinds()) {
    it(`a refreshed material with the same fingerprint is re-parsed (${kind})`, async () => {
      const db = await openTestDb(kind);
      try {
        const clock = fixedClock(FIXTURE_NOW);
        const sealer = new Sealer(randomBytes(32));
        const make = () => new KeyStore({ db: db.db.kysely, sealer, clock, log: captureLog().log });
        const gateway = make();
        const refresher = make();
        const address = 'refreshed@example.org';
        const { privateKey, publicKey } = await openpgp.generateKey({
          type: 'ecc',
          curve: 'curve25519Legacy',
          userIDs: [{ email: address }],
          date: new Date(FIXTURE_NOW.getTime() - 86_400_000),
          format: 'object',
        });
        const fingerprint = publicKey.getFingerprint().toUpperCase();
        const recorded = await gateway.recordFetched({
          address,
          key: publicKey.write(),
          source: 'wkd-direct',
          sourceUrl: 'https://example.org/.well-known/openpgpkey/hu/x',
        });
        assert.equal(recorded.outcome, 'stored');

        const first = await gateway.recipientKey(address);
        assert.equal(first.state, 'usable');
        const parsesAfterFirst = gateway.parses;
        assert.equal((await gateway.recipientKey(address)).state, 'usable');
        assert.equal(gateway.parses, parsesAfterFirst, 'the same material is served from the cache');

        const revoked = await openpgp.revokeKey({
          key: privateKey,
          date: new Date(FIXTURE_NOW.getTime() - 3_600_000),
          format: 'object',
        });
        assert.equal(revoked.publicKey.getFingerprint().toUpperCase(), fingerprint);
        assert.equal(await refresher.mergeRefused(address, fingerprint, revoked.publicKey.write()), true);

        const after = await gateway.recipientKey(address);
        assert.equal(gateway.parses, parsesAfterFirst + 1, 'the rewritten material is parsed afresh');
        assert.deepEqual(after.state === 'unusable' && [after.problem, after.fingerprint], [
          'revoked',
          fingerprint,
        ]);
      } finally {
        await db.cleanup();
      }
    });
  }
});
