import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { autocryptHeader, clearMail, testKey } from '../helpers/autocrypt.ts';
import { testDbKinds } from '../helpers/db.ts';
import { dkimDomain, dkimResolver, dkimSigned } from '../helpers/dkim.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { fixturePublicKey } from '../helpers/keys.ts';

/**
 * Autocrypt headers on inbound mail feed the recipient keys — only when the message proves them (DKIM
 * aligned with the From domain, and signed by the offered key; the attacks are in
 * test/security/autocrypt-key-planting.test.ts): recorded for an address without a key (source
 * 'autocrypt', only the User IDs of that address), never swapped in for a known key (logged and audited
 * with both fingerprints), ignored when they do not belong to the From address or the key is not usable.
 */
const FROM = 'kollege@klinik.example';
const klinik = dkimDomain('klinik.example');

/** A mail from `from` offering `key`, signed by it and DKIM-signed by klinik.example. */
async function provenMail(from: string, key: { binary: Uint8Array; secretKey: string }, addr = from) {
  const mail = await clearMail({
    from,
    to: ANNA,
    signer: key.secretKey,
    headers: [autocryptHeader(addr, key.binary)],
  });
  return dkimSigned(mail, klinik);
}

for (const kind of testDbKinds()) {
  describe(`inbound: Autocrypt harvest (${kind})`, function () {
    this.timeout(60_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    const recipientRows = (address: string) =>
      gw!.testDb.db.kysely.selectFrom('recipient_keys').selectAll().where('address', '=', address).execute();

    it('records the key of a new address with only the User IDs of that address', async () => {
      gw = await startTestInbound({ kind, dns: dkimResolver([klinik]) });
      const key = await testKey([FROM, 'private@elsewhere.example']);
      await gw.send({ from: FROM, to: [ANNA] }, await provenMail(FROM, key));
      await gw.sink.waitFor(1);
      const rows = await recipientRows(FROM);
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.source, 'autocrypt');
      assert.equal(rows[0]!.fingerprint, key.fingerprint);
      const stored = await openpgp.readKey({ armoredKey: rows[0]!.public_key });
      assert.deepEqual(stored.getUserIDs(), [`<${FROM}>`]);
      assert.equal((await recipientRows('private@elsewhere.example')).length, 0);
      assert.match(gw.logText(), /"code":"IN_AUTOCRYPT_STORED"/);
    });

    it('never swaps in a changed key: holds it for the admin, logs IN_AUTOCRYPT_KEY_CHANGED, audits both fingerprints', async () => {
      gw = await startTestInbound({ kind, dns: dkimResolver([klinik]) });
      const pinned = await testKey([FROM]);
      await gw.keys.importKeys(pinned.publicKey);
      const other = await testKey([FROM]);
      await gw.send({ from: FROM, to: [ANNA] }, await provenMail(FROM, other));
      await gw.sink.waitFor(1);
      const rows = await recipientRows(FROM);
      assert.deepEqual(
        rows.map((r) => [r.fingerprint, r.source, r.status]).sort(),
        [
          [pinned.fingerprint, 'admin', 'active'],
          [other.fingerprint, 'autocrypt', 'held'],
        ].sort(),
      );
      const status = await gw.keys.recipientKey(FROM);
      assert.equal(
        status.state === 'usable' && status.fingerprint,
        pinned.fingerprint,
        'the pinned key stays',
      );
      const [change] = await gw.keys.listKeyChanges();
      assert.equal(change?.oldFingerprint, pinned.fingerprint);
      assert.equal(change?.newFingerprint, other.fingerprint);
      assert.equal(change?.source, 'autocrypt');
      const audit = await gw.testDb.db.kysely
        .selectFrom('audit')
        .selectAll()
        .where('action', '=', 'recipient-key.change-held')
        .execute();
      assert.equal(audit.length, 1);
      assert.equal(audit[0]!.subject, FROM);
      assert.equal(audit[0]!.detail, `${pinned.fingerprint} -> ${other.fingerprint}`);
      assert.match(gw.logText(), /"code":"IN_AUTOCRYPT_KEY_CHANGED"/);
    });

    it('ignores a header for another address than From, and a weak key', async () => {
      gw = await startTestInbound({ kind, dns: dkimResolver([klinik]) });
      const key = await testKey([FROM]);
      await gw.send(
        { from: 'x@klinik.example', to: [ANNA] },
        await provenMail('x@klinik.example', key, FROM),
      );
      // Not usable: ignored before any proof is asked for.
      const weak = await clearMail({
        from: 'weak@example.org',
        to: ANNA,
        headers: [autocryptHeader('weak@example.org', binaryOf(fixturePublicKey('weak')))],
      });
      await gw.send({ from: 'weak@example.org', to: [ANNA] }, weak);
      await gw.sink.waitFor(2);
      assert.equal((await recipientRows(FROM)).length, 0);
      assert.equal((await recipientRows('weak@example.org')).length, 0);
      assert.match(gw.logText(), /"code":"IN_AUTOCRYPT_IGNORED"[^\n]*"reason":"weak"/);
    });
  });
}

function binaryOf(armored: string): Uint8Array {
  const body = armored.split(/\r?\n\r?\n/)[1]!;
  return Buffer.from(
    body
      .replace(/^=.*$/m, '')
      .replace(/-----END[\s\S]*/, '')
      .replace(/\s+/g, ''),
    'base64',
  );
}
