import assert from 'node:assert/strict';
import { parseConfig } from '../../core/config.ts';
import { discoverySettings, KeyDiscovery } from '../../keys/discovery/index.ts';
import { RecipientKeys } from '../../keys/index.ts';
import { binaryPublic, readAnyKey } from '../../keys/openpgp/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startKeyDirectory, type KeyDirectory } from '../helpers/key-directory.ts';
import { freshKeyPair } from '../helpers/keys.ts';

/**
 * DESIGN.md "Keys": "A changed key for a known address is flagged for the admin, not silently swapped."
 * An attacker who controls a colleague's WKD (or forges an Autocrypt header) presents another key. Under
 * the default policy neither that key nor the old one encrypts anything until the admin decides; the
 * change is on record with both fingerprints; a rejected key stays rejected when it is served again; and
 * admin-pinned keys are never displaced by what the network says.
 */
const DOMAIN = 'kollege.example';
const ADDR = `dr.weber@${DOMAIN}`;

for (const kind of testDbKinds()) {
  describe(`security: a key change is never silent (${kind})`, function () {
    this.timeout(60_000);
    let dir: KeyDirectory;
    let gw: TestGateway;
    let recipients: RecipientKeys;

    beforeEach(async () => {
      dir = await startKeyDirectory({ domains: [DOMAIN] });
      gw = await startTestGateway({ kind, config: { discovery: { vksUrl: dir.vksUrl } } });
      const settings = discoverySettings(parseConfig({ discovery: { vksUrl: dir.vksUrl } }).discovery);
      const discovery = new KeyDiscovery({ settings, clock: gw.deps.clock, log: gw.deps.log, net: dir.net });
      recipients = new RecipientKeys({ keys: gw.keys, discovery, log: gw.deps.log, clock: gw.deps.clock });
    });
    afterEach(async () => {
      await gw.close();
      await dir.close();
    });

    const audits = () =>
      gw.testDb.db.kysely.selectFrom('audit').selectAll().where('subject', '=', ADDR).execute();

    it('a different key at the WKD is held: neither key is used, the audit holds both fingerprints', async () => {
      const original = await freshKeyPair(ADDR, new Date());
      dir.publishWkd(ADDR, original.publicKey);
      assert.equal((await recipients.resolve(ADDR)).fact.state, 'usable');
      const attacker = await freshKeyPair(ADDR, new Date());
      dir.publishWkd(ADDR, attacker.publicKey);
      await recipients.refreshAll();
      const status = await gw.keys.recipientKey(ADDR);
      assert.equal(status.state, 'held', 'not the old key, not the new one');
      const held = await audits();
      assert.ok(
        held.some(
          (a) =>
            a.action === 'recipient-key.change-held' &&
            a.detail === `${original.signer.fingerprint} -> ${attacker.signer.fingerprint}`,
        ),
      );
      // The gateway answers with a pickup (pickup on) — never PGP/MIME to the presented key.
      await gw.transport().sendMail({ from: 'anna@praxis.example', to: ADDR, subject: 's', text: 't' });
      const [row] = (await gw.outbound()).filter((r) => r.recipient === ADDR);
      assert.ok(row, 'a row for the recipient');
      assert.equal(row.kind, 'notification');
    });

    it('a rejected key stays rejected when served again; the earlier key stays in use', async () => {
      const original = await freshKeyPair(ADDR, new Date());
      dir.publishWkd(ADDR, original.publicKey);
      await recipients.resolve(ADDR);
      const attacker = await freshKeyPair(ADDR, new Date());
      dir.publishWkd(ADDR, attacker.publicKey);
      await recipients.refreshAll();
      const [change] = await gw.keys.listKeyChanges();
      await gw.keys.decideKeyChange(change!.id, 'reject', 'admin@praxis.example');
      await recipients.refreshAll();
      await recipients.refreshAll();
      assert.equal((await gw.keys.listKeyChanges()).length, 0, 'no new change for the same refused key');
      const status = await gw.keys.recipientKey(ADDR);
      assert.equal(status.state === 'usable' && status.fingerprint, original.signer.fingerprint);
      await assert.rejects(gw.keys.decideKeyChange(change!.id, 'approve', 'x'), /already decided/);
    });

    it('a forged Autocrypt key never displaces an admin-pinned key', async () => {
      const pinned = await freshKeyPair(ADDR, new Date());
      await gw.keys.importKeys(pinned.publicKey);
      const forged = await freshKeyPair(ADDR, new Date());
      const outcome = await gw.keys.recordAutocrypt(ADDR, binaryPublic(await readAnyKey(forged.publicKey)));
      assert.equal(outcome, 'changed');
      const status = await gw.keys.recipientKey(ADDR);
      assert.equal(status.state === 'usable' && status.fingerprint, pinned.signer.fingerprint);
      assert.equal((await gw.keys.listKeyChanges())[0]?.newFingerprint, forged.signer.fingerprint);
    });

    it("'accept-and-log' takes the new key but still files the change and a warning", async () => {
      await gw.close();
      gw = await startTestGateway({
        kind,
        config: { discovery: { vksUrl: dir.vksUrl, keyChange: 'accept-and-log' } },
      });
      const settings = discoverySettings(parseConfig({ discovery: { vksUrl: dir.vksUrl } }).discovery);
      const discovery = new KeyDiscovery({ settings, clock: gw.deps.clock, log: gw.deps.log, net: dir.net });
      recipients = new RecipientKeys({ keys: gw.keys, discovery, log: gw.deps.log, clock: gw.deps.clock });
      const original = await freshKeyPair(ADDR, new Date());
      dir.publishWkd(ADDR, original.publicKey);
      await recipients.resolve(ADDR);
      const next = await freshKeyPair(ADDR, new Date());
      dir.publishWkd(ADDR, next.publicKey);
      await recipients.refreshAll();
      const [change] = await gw.keys.listKeyChanges({ status: 'all' });
      assert.equal(change?.status, 'accepted');
      assert.equal(change?.oldFingerprint, original.signer.fingerprint);
      assert.match(gw.logText(), /"code":"KD_KEY_CHANGE_ACCEPTED"/);
      const status = await gw.keys.recipientKey(ADDR);
      assert.equal(status.state === 'usable' && status.fingerprint, next.signer.fingerprint);
    });
  });
}
