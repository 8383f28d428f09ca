import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { testDbKinds } from '../helpers/db.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { fixturePublicKey } from '../helpers/keys.ts';

/**
 * Autocrypt headers on inbound mail feed the recipient keys: recorded for an address without a key (source
 * 'autocrypt', only the User IDs of that address), never swapped in for a known key (logged and audited
 * with both fingerprints), ignored when they do not belong to the From address or the key is not usable.
 */
const FROM = 'kollege@klinik.example';

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

async function keyFor(emails: string[]): Promise<{ armored: string; fingerprint: string }> {
  const { publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: emails.map((email) => ({ email })),
    format: 'armored',
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return { armored: publicKey, fingerprint: key.getFingerprint().toUpperCase() };
}

function mailWith(from: string, header: string): string {
  return [`From: Kollege <${from}>`, `To: ${ANNA}`, 'Subject: hi', header, '', 'Hallo', ''].join('\r\n');
}

function autocrypt(addr: string, armored: string): string {
  const b64 = Buffer.from(binaryOf(armored)).toString('base64');
  return `Autocrypt: addr=${addr}; prefer-encrypt=mutual; keydata=\r\n ${(b64.match(/.{1,76}/g) ?? []).join('\r\n ')}`;
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
      gw = await startTestInbound({ kind });
      const key = await keyFor([FROM, 'private@elsewhere.example']);
      await gw.send({ from: FROM, to: [ANNA] }, mailWith(FROM, autocrypt(FROM, key.armored)));
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
      gw = await startTestInbound({ kind });
      const pinned = await keyFor([FROM]);
      await gw.keys.importKeys(pinned.armored);
      const other = await keyFor([FROM]);
      await gw.send({ from: FROM, to: [ANNA] }, mailWith(FROM, autocrypt(FROM, other.armored)));
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
      gw = await startTestInbound({ kind });
      const key = await keyFor([FROM]);
      await gw.send(
        { from: 'x@evil.example', to: [ANNA] },
        mailWith('x@evil.example', autocrypt(FROM, key.armored)),
      );
      await gw.send(
        { from: 'weak@example.org', to: [ANNA] },
        mailWith('weak@example.org', autocrypt('weak@example.org', fixturePublicKey('weak'))),
      );
      await gw.sink.waitFor(2);
      assert.equal((await recipientRows(FROM)).length, 0);
      assert.equal((await recipientRows('weak@example.org')).length, 0);
      assert.match(gw.logText(), /"code":"IN_AUTOCRYPT_IGNORED"[^\n]*"reason":"weak"/);
    });
  });
}
