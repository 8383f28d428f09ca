import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { fixedClock } from '../../core/clock.ts';
import { Sealer } from '../../core/seal.ts';
import { KeyStore, newSenderKey, RecipientKeyActionError, SenderKeyError } from '../../keys/index.ts';
import {
  decryptInbound,
  encryptAndSign,
  lockedPrivateKey,
  parseEncryptionKey,
  readAnyKey,
} from '../../keys/openpgp/index.ts';
import { openTestDb, testDbKinds, type TestDb } from '../helpers/db.ts';
import { FIXTURE_NOW, freshKeyPair } from '../helpers/keys.ts';
import { captureLog } from '../helpers/log.ts';

/**
 * The admin's sender-key and recipient-key actions at the store (docs/admin-console.md "Sender keys",
 * "Recipient keys"), on SQLite and PostgreSQL: generate, rotate (the earlier key still opens replies),
 * revoke (never signs again, exported with its revocation, the address fails closed), import with a
 * passphrase, pin and drop — each audited.
 */
const ANNA = 'anna@praxis.example';
const KARL = 'karl@kanzlei.example';

for (const kind of testDbKinds()) {
  describe(`key store: the admin's sender and recipient key actions (${kind})`, function () {
    this.timeout(60_000);
    let testDb: TestDb;
    let keys: KeyStore;
    beforeEach(async () => {
      testDb = await openTestDb(kind);
      keys = new KeyStore({
        db: testDb.db.kysely,
        sealer: new Sealer(randomBytes(32)),
        clock: fixedClock(FIXTURE_NOW),
        log: captureLog().log,
      });
      await testDb.db.stores.users.add({ login: ANNA, password: 'anna-password-long' }, FIXTURE_NOW);
    });
    afterEach(async () => {
      await testDb.cleanup();
    });
    const deps = () => ({ keys, users: testDb.db.stores.users });
    /** The audit entries of the actions under test (not discovery's own). */
    const audits = () =>
      testDb.db.kysely
        .selectFrom('audit')
        .select(['action', 'subject', 'detail'])
        .where((eb) =>
          eb.or([
            eb('action', 'like', 'sender-key.%'),
            eb('action', 'in', ['recipient-key.pin', 'recipient-key.drop', 'recipient-key.import']),
          ]),
        )
        .orderBy('id')
        .execute();

    it('rotate: the new key signs, the earlier one is listed as retired and still opens a reply', async () => {
      await assert.rejects(newSenderKey(deps(), { address: ANNA, rotate: true }), SenderKeyError);
      const first = await newSenderKey(deps(), { address: ANNA, rotate: false });
      const second = await newSenderKey(deps(), { address: ANNA, rotate: true });
      assert.equal(second.previous, first.fingerprint);
      assert.equal((await keys.senderKey(ANNA))?.signer.fingerprint, second.fingerprint);
      const page = await keys.senderKeyPage({ offset: 0, limit: 20 });
      assert.deepEqual(
        page.keys.map((k) => [k.fingerprint, k.state]),
        [
          [second.fingerprint, 'active'],
          [first.fingerprint, 'retired'],
        ],
      );
      assert.equal(page.total, 2);
      assert.match(page.keys[0]!.algorithm, /^eddsaLegacy ed25519/);
      assert.equal(page.keys[0]!.expires, null);
      // A colleague still encrypts to the earlier key: the inbound path opens it with every key of hers.
      const colleague = await freshKeyPair(KARL);
      const armored = await encryptAndSign({
        data: Buffer.from('Antwort'),
        to: [await parseEncryptionKey((await keys.senderPublicKey(first.fingerprint))!)],
        signer: colleague.signer,
        now: FIXTURE_NOW,
      });
      const opened = await decryptInbound({
        armored,
        decryptionKeys: await keys.decryptionKeys(ANNA),
        verificationKeys: [colleague.encryption],
        now: FIXTURE_NOW,
        maxDecompressedBytes: 1 << 20,
      });
      assert.ok(opened.ok);
      assert.deepEqual(opened.forKeys, [first.fingerprint]);
      assert.deepEqual(
        (await audits()).map((a) => a.action),
        ['sender-key.generated', 'sender-key.rotated'],
      );
    });

    it('revoke: never signs again, the address fails closed, export and the listing show the revocation', async () => {
      const key = await newSenderKey(deps(), { address: ANNA, rotate: false });
      const revoked = await keys.revokeSenderKey(ANNA, { actor: 'admin@praxis.example', ip: '127.0.0.1' });
      assert.deepEqual(revoked, { fingerprint: key.fingerprint, addresses: [ANNA] });
      assert.equal(await keys.senderKey(ANNA), undefined, 'no key signs for her');
      const own = await keys.recipientKey(ANNA);
      assert.deepEqual(own, {
        state: 'unusable',
        problem: 'revoked',
        fingerprint: key.fingerprint,
        source: 'sender',
      });
      const exported = await keys.exportPublic(ANNA);
      assert.ok(exported);
      assert.ok(await (await readAnyKey(exported)).isRevoked(undefined, undefined, FIXTURE_NOW));
      const [row] = (await keys.senderKeyPage({ q: ANNA, offset: 0, limit: 20 })).keys;
      assert.equal(row?.state, 'revoked');
      assert.equal(row?.revokedAt?.getTime(), FIXTURE_NOW.getTime());
      await assert.rejects(keys.revokeSenderKey(ANNA), (e: SenderKeyError) => e.reason === 'no-key');
      await assert.rejects(
        keys.revokeSenderKey(key.fingerprint),
        (e: SenderKeyError) => e.reason === 'already-revoked',
      );
      await assert.rejects(
        keys.revokeSenderKey('AB'.repeat(20)),
        (e: SenderKeyError) => e.reason === 'not-found',
      );
      // The private key stays: a reply encrypted to the revoked key still opens.
      assert.equal((await keys.decryptionKeys(ANNA)).length, 1);
      const audit = await audits();
      assert.deepEqual(audit.at(-1), {
        action: 'sender-key.revoked',
        subject: ANNA,
        detail: key.fingerprint,
      });
    });

    it('revoke a retired key by fingerprint: the active key keeps signing', async () => {
      const first = await newSenderKey(deps(), { address: ANNA, rotate: false });
      const second = await newSenderKey(deps(), { address: ANNA, rotate: true });
      await keys.revokeSenderKey(first.fingerprint.replace(/(.{4})/g, '$1 '));
      assert.equal((await keys.senderKey(ANNA))?.signer.fingerprint, second.fingerprint);
      const states = (await keys.senderKeyPage({ offset: 0, limit: 20 })).keys.map((k) => k.state);
      assert.deepEqual(states, ['active', 'revoked']);
    });

    it('revokes a key that serves two addresses for both, whichever is named', async () => {
      const { privateKey } = await openpgp.generateKey({
        type: 'ecc',
        curve: 'curve25519Legacy',
        userIDs: [{ email: ANNA }, { email: 'anna.privat@praxis.example' }],
        date: FIXTURE_NOW,
        format: 'armored',
      });
      const [imported] = await keys.importKeys(privateKey);
      const r = await keys.revokeSenderKey('anna.privat@praxis.example');
      assert.deepEqual(r, {
        fingerprint: imported!.fingerprint,
        addresses: ['anna.privat@praxis.example', ANNA], // sorted
      });
      assert.equal(await keys.senderKey(ANNA), undefined);
      const states = (await keys.senderKeyPage({ offset: 0, limit: 20 })).keys.map((k) => k.state);
      assert.deepEqual(states, ['revoked', 'revoked']);
    });

    it('the console’s import refuses a private key for an address no user may send as', async () => {
      const outside = await freshKeyPair('fremd@example.org');
      const known = (address: string) => testDb.db.stores.users.isKnownAddress(address);
      await assert.rejects(keys.importKeys(outside.privateKey, undefined, undefined, known), /may send as/);
      assert.equal(await keys.senderKey('fremd@example.org'), undefined);
      const anna = await freshKeyPair(ANNA);
      await keys.importKeys(anna.privateKey, undefined, undefined, known);
      assert.equal((await keys.senderKey(ANNA))?.signer.fingerprint, anna.signer.fingerprint);
    });

    it('imports a private key locked with a passphrase; a wrong passphrase is refused', async () => {
      const pair = await freshKeyPair(ANNA);
      const locked = await lockedPrivateKey(pair.signer, 'richtiges Passwort');
      await assert.rejects(keys.importKeys(locked), /locked with a passphrase/);
      await assert.rejects(keys.importKeys(locked, undefined, 'falsch'), /passphrase does not unlock/);
      const [r] = await keys.importKeys(locked, undefined, 'richtiges Passwort');
      assert.deepEqual(r, { kind: 'sender', fingerprint: pair.signer.fingerprint, addresses: [ANNA] });
      assert.equal((await keys.senderKey(ANNA))?.signer.fingerprint, pair.signer.fingerprint);
    });

    it('pin a discovered key, drop it: not used, discovery does not take it again, an import brings it back', async () => {
      const karl = await freshKeyPair(KARL);
      const url = 'https://openpgpkey.kanzlei.example/x';
      await keys.recordFetched({ address: KARL, key: karl.publicKey, source: 'vks', sourceUrl: url });
      const fp = karl.encryption.fingerprint;
      await keys.pinRecipientKey({ address: KARL, fingerprint: fp });
      const pinned = await keys.recipientKey(KARL);
      assert.equal(pinned.state === 'usable' && pinned.source, 'admin');
      await assert.rejects(
        keys.pinRecipientKey({ address: KARL, fingerprint: fp }),
        (e: RecipientKeyActionError) => e.reason === 'already-pinned',
      );
      await keys.dropRecipientKey({ address: KARL, fingerprint: fp });
      assert.deepEqual(await keys.recipientKey(KARL), { state: 'none' });
      await assert.rejects(
        keys.dropRecipientKey({ address: KARL, fingerprint: fp }),
        (e: RecipientKeyActionError) => e.reason === 'not-found',
      );
      await keys.recordFetched({ address: KARL, key: karl.publicKey, source: 'vks', sourceUrl: url });
      assert.deepEqual(await keys.recipientKey(KARL), { state: 'none' }, 'still dropped');
      await keys.importKeys(karl.publicKey);
      assert.equal((await keys.recipientKey(KARL)).state, 'usable');
      assert.deepEqual(
        (await audits()).map((a) => [a.action, a.subject]),
        [
          ['recipient-key.pin', KARL],
          ['recipient-key.drop', KARL],
          ['recipient-key.import', KARL],
        ],
      );
    });

    it('drops a discovered key never pinned; refuses an unknown one', async () => {
      const karl = await freshKeyPair(KARL);
      await keys.recordFetched({
        address: KARL,
        key: karl.publicKey,
        source: 'wkd-advanced',
        sourceUrl: 'https://x',
      });
      await keys.dropRecipientKey({ address: KARL, fingerprint: karl.encryption.fingerprint.toLowerCase() });
      assert.deepEqual(await keys.recipientKey(KARL), { state: 'none' });
      await assert.rejects(
        keys.pinRecipientKey({ address: ANNA, fingerprint: karl.encryption.fingerprint }),
        RecipientKeyActionError,
      );
    });
  });
}
