import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { fixedClock } from '../../core/clock.ts';
import {
  checkKey,
  decryptAndVerify,
  encryptAndSign,
  parseEncryptionKey,
  type KeyProblem,
} from '../../keys/openpgp/index.ts';
import { KeyImportError } from '../../keys/store/index.ts';
import {
  EXPIRED_VALID_FROM,
  EXPIRED_VALID_UNTIL,
  FIXTURE_NOW,
  fixtureAddress,
  fixturePublicKey,
  fixtureSecretKey,
  freshKeyPair,
  openTestKeyStore,
  type PublicFixture,
  type TestKeyStore,
} from '../helpers/keys.ts';

const clock = fixedClock(FIXTURE_NOW);

describe('keys: checkKey validation table', () => {
  it('accepts a freshly generated sender key', async () => {
    const pair = await freshKeyPair('fresh@example.org', clock.now());
    const check = await checkKey(pair.publicKey, clock.now());
    assert.equal(check.usable, true, JSON.stringify(check));
    assert.ok(check.facts);
    assert.deepEqual(check.facts.emails, ['fresh@example.org']);
    assert.equal(check.facts.expires, null);
    assert.equal(check.facts.fingerprint, pair.signer.fingerprint);
  });

  const table: { name: PublicFixture; expect: KeyProblem | 'usable' }[] = [
    { name: 'rsa3072', expect: 'usable' },
    { name: 'gpg25519', expect: 'usable' },
    { name: 'sq25519', expect: 'usable' },
    { name: 'expired', expect: 'expired' },
    { name: 'revoked', expect: 'revoked' },
    { name: 'signonly', expect: 'no-encryption-key' },
    { name: 'weak', expect: 'weak' },
    { name: 'weaksub', expect: 'weak' },
    { name: 'dsa', expect: 'weak' },
  ];
  for (const { name, expect } of table) {
    it(`${name} fixture → ${expect}`, async () => {
      const check = await checkKey(fixturePublicKey(name), clock.now());
      if (expect === 'usable') {
        assert.equal(check.usable, true, JSON.stringify(check));
        assert.deepEqual(check.facts?.emails, [fixtureAddress(name)]);
      } else {
        assert.equal(check.usable, false);
        assert.equal(check.usable === false && check.problem, expect);
      }
    });
  }

  it('reads binary keys as well as armored ones', async () => {
    const key = await parseEncryptionKey(fixturePublicKey('gpg25519'));
    const check = await checkKey(key.key.write(), clock.now());
    assert.equal(check.usable, true, JSON.stringify(check));
  });

  it('the clock decides expiry: the expired fixture is usable before its expiry, not at or after it', async () => {
    const armored = fixturePublicKey('expired');
    const during = await checkKey(armored, new Date(EXPIRED_VALID_FROM.getTime() + 12 * 3600_000));
    assert.equal(during.usable, true, JSON.stringify(during));
    assert.equal(during.facts?.expires?.getTime(), EXPIRED_VALID_UNTIL.getTime());
    const at = await checkKey(armored, EXPIRED_VALID_UNTIL);
    assert.deepEqual(at.usable === false && at.problem, 'expired');
    const later = await checkKey(armored, new Date(EXPIRED_VALID_UNTIL.getTime() + 1000));
    assert.deepEqual(later.usable === false && later.problem, 'expired');
  });

  const unreadable: { what: string; input: () => string | Uint8Array }[] = [
    { what: 'empty string', input: () => '' },
    { what: 'empty bytes', input: () => new Uint8Array(0) },
    { what: 'garbage text', input: () => 'this is not a key at all' },
    { what: 'garbage bytes', input: () => Uint8Array.from([0x99, 0x01, 0x02, 0xff, 0x00, 0x13]) },
    {
      what: 'an armor header around garbage',
      input: () => '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n',
    },
    { what: 'a 1 MB random blob', input: () => randomBytes(1024 * 1024) },
  ];
  for (const { what, input } of unreadable) {
    it(`${what} → unreadable`, async () => {
      const check = await checkKey(input(), clock.now());
      assert.equal(check.usable, false);
      assert.equal(check.usable === false && check.problem, 'unreadable');
    });
  }
});

describe('keys: encryptAndSign / decryptAndVerify round trip', () => {
  it('a recipient decrypts and the signature verifies with the sender key only', async () => {
    const sender = await freshKeyPair('sender@example.org', clock.now());
    const recipient = await freshKeyPair('recipient@example.org', clock.now());
    const stranger = await freshKeyPair('stranger@example.org', clock.now());
    const data = randomBytes(5000);
    const armored = await encryptAndSign({
      data,
      to: [recipient.encryption],
      signer: sender.signer,
      now: clock.now(),
    });
    const good = await decryptAndVerify({
      armored,
      decryptionKey: recipient.signer,
      verificationKeys: [sender.encryption],
      now: clock.now(),
    });
    assert.ok(Buffer.from(good.data).equals(data));
    assert.equal(good.verified, true);
    const wrong = await decryptAndVerify({
      armored,
      decryptionKey: recipient.signer,
      verificationKeys: [stranger.encryption],
      now: clock.now(),
    });
    assert.equal(wrong.verified, false);
    await assert.rejects(
      decryptAndVerify({ armored, decryptionKey: stranger.signer, verificationKeys: [], now: clock.now() }),
    );
  });
});

describe('keys: KeyStore on SQLite', () => {
  let ks: TestKeyStore;
  beforeEach(async () => {
    ks = await openTestKeyStore(FIXTURE_NOW);
  });
  afterEach(async () => {
    await ks.cleanup();
  });

  it('imports a public key as a usable recipient key', async () => {
    const results = await ks.store.importKeys(fixturePublicKey('gpg25519'));
    assert.equal(results.length, 1);
    assert.equal(results[0]?.kind, 'recipient');
    assert.deepEqual(results[0]?.addresses, ['gpg25519@example.org']);
    const status = await ks.store.recipientKey('GPG25519@Example.org');
    assert.equal(status.state, 'usable', status.state === 'unusable' ? status.problem : status.state);
    assert.equal(status.state === 'usable' && status.fingerprint, results[0]?.fingerprint);
    assert.equal(status.state === 'usable' && status.source, 'admin');
    assert.deepEqual(await ks.store.recipientKey('nobody@example.org'), { state: 'none' });
  });

  const refused: { name: PublicFixture; reason: KeyProblem }[] = [
    { name: 'expired', reason: 'expired' },
    { name: 'revoked', reason: 'revoked' },
    { name: 'weak', reason: 'weak' },
    { name: 'signonly', reason: 'no-encryption-key' },
  ];
  for (const { name, reason } of refused) {
    it(`refuses to import the ${name} key, saying ${reason}`, async () => {
      await assert.rejects(ks.store.importKeys(fixturePublicKey(name)), (err: Error) => {
        assert.ok(err instanceof KeyImportError, String(err));
        assert.match(err.message, new RegExp(`: ${reason}$`));
        return true;
      });
      assert.deepEqual(await ks.store.recipientKey(fixtureAddress(name)), { state: 'none' });
    });
  }

  it('refuses input that holds no key', async () => {
    await assert.rejects(ks.store.importKeys('not a key'), KeyImportError);
  });

  it('imports a private key as a sender key, sealed: the DB file holds no armored private key', async () => {
    const armoredSecret = fixtureSecretKey('gpg25519');
    const results = await ks.store.importKeys(armoredSecret);
    assert.equal(results[0]?.kind, 'sender');
    const sender = await ks.store.senderKey('gpg25519@example.org');
    assert.ok(sender);
    assert.equal(sender.signer.fingerprint, results[0]?.fingerprint);
    assert.equal(sender.signer.key.isPrivate(), true);
    // The public half is exported; the private one never is.
    const exported = await ks.store.exportPublic('gpg25519@example.org');
    assert.ok(exported?.includes('-----BEGIN PGP PUBLIC KEY BLOCK-----'));
    // The database file and its write-ahead log, where recent writes may still sit.
    const file = ks.db.file!;
    const bytes = Buffer.concat(
      [file, `${file}-wal`].filter((f) => existsSync(f)).map((f) => readFileSync(f)),
    );
    assert.ok(bytes.includes(results[0]!.fingerprint), 'the scan sees the sender key row');
    assert.equal(bytes.includes('-----BEGIN PGP PRIVATE KEY BLOCK-----'), false);
    assert.equal(bytes.includes('PRIVATE KEY'), false);
    const body = armoredSecret.split(/\r?\n\r?\n/)[1]!.split(/\r?\n/)[0]!;
    assert.ok(body.length >= 40);
    assert.equal(bytes.includes(body), false, 'the armored secret key body is in the DB file');
  });

  it('generateSenderKey gives a sender key that signs (and the public key checks out)', async () => {
    const { fingerprint, publicKey } = await ks.store.generateSenderKey('Doc@Practice.example', 'Dr. Doc');
    const sender = await ks.store.senderKey('doc@practice.example');
    assert.ok(sender);
    assert.equal(sender.address, 'doc@practice.example');
    assert.equal(sender.signer.fingerprint, fingerprint);
    const check = await checkKey(publicKey, ks.clock.now());
    assert.equal(check.usable, true);
    const recipient = await freshKeyPair('recipient@example.org', ks.clock.now());
    const data = Buffer.from('signed by the practice\r\n');
    const armored = await encryptAndSign({
      data,
      to: [recipient.encryption],
      signer: sender.signer,
      now: ks.clock.now(),
    });
    const out = await decryptAndVerify({
      armored,
      decryptionKey: recipient.signer,
      verificationKeys: [await parseEncryptionKey(publicKey)],
      now: ks.clock.now(),
    });
    assert.equal(out.verified, true);
    assert.ok(Buffer.from(out.data).equals(data));
    // A second generation replaces the first.
    const second = await ks.store.generateSenderKey('doc@practice.example');
    assert.notEqual(second.fingerprint, fingerprint);
    assert.equal((await ks.store.senderKey('doc@practice.example'))?.signer.fingerprint, second.fingerprint);
  });
});
