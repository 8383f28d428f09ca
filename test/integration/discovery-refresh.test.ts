import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import { parseConfig } from '../../core/config.ts';
import { discoverySettings, KeyDiscovery } from '../../keys/discovery/index.ts';
import { RecipientKeys } from '../../keys/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startKeyDirectory, type KeyDirectory } from '../helpers/key-directory.ts';

/**
 * Key lifecycle (DESIGN.md "Keys"): the refresh job looks every discovered key up again at its source and
 * drops what became unusable; validity follows the injected clock, so an expiry takes effect the moment it
 * passes, at RCPT as in the refresh.
 */
const DOMAIN = 'kollege.example';
const ADDR = `dr.weber@${DOMAIN}`;
const DAY = 86_400_000;

class TestClock {
  offset = 0;
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
}

async function keyPair(expiresInSeconds: number, date: Date) {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: ADDR }],
    date,
    keyExpirationTime: expiresInSeconds,
    format: 'object',
  });
  return { privateKey, publicKey, fingerprint: publicKey.getFingerprint().toUpperCase() };
}

for (const kind of testDbKinds()) {
  describe(`key refresh and lifecycle (${kind})`, function () {
    this.timeout(60_000);
    let dir: KeyDirectory;
    let gw: TestGateway;
    let clock: TestClock;
    let recipients: RecipientKeys;

    beforeEach(async () => {
      dir = await startKeyDirectory({ domains: [DOMAIN] });
      clock = new TestClock();
      gw = await startTestGateway({ kind, clock, config: { discovery: { vksUrl: dir.vksUrl } } });
      const settings = discoverySettings(parseConfig({ discovery: { vksUrl: dir.vksUrl } }).discovery);
      const discovery = new KeyDiscovery({ settings, clock, log: gw.deps.log, net: dir.net });
      recipients = new RecipientKeys({ keys: gw.keys, discovery, log: gw.deps.log, clock });
    });
    afterEach(async () => {
      await gw.close();
      await dir.close();
    });

    const rows = () =>
      gw.testDb.db.kysely.selectFrom('recipient_keys').selectAll().where('address', '=', ADDR).execute();

    it('an expired key stops being used the moment it expires, and the refresh drops it', async () => {
      const k = await keyPair(2 * 24 * 3600, clock.now());
      dir.publishWkd(ADDR, k.publicKey.write());
      const first = await recipients.resolve(ADDR);
      assert.equal(first.fact.state, 'usable');
      clock.offset = 2 * DAY + 60_000;
      const stored = await gw.keys.recipientKey(ADDR);
      assert.equal(stored.state, 'unusable');
      assert.equal(stored.state === 'unusable' && stored.problem, 'expired');
      const result = await recipients.refreshAll();
      assert.equal(result.dropped, 1);
      const [row] = await rows();
      assert.equal(row?.status, 'dropped');
      assert.equal(row?.problem, 'expired');
      assert.match(gw.logText(), /"code":"KD_KEY_DROPPED"/);
    });

    it('a later expiry published at the source is taken by the refresh (same key, new self-signature)', async () => {
      const k = await keyPair(2 * 24 * 3600, clock.now());
      dir.publishWkd(ADDR, k.publicKey.write());
      await recipients.resolve(ADDR);
      const extended = await openpgp.reformatKey({
        privateKey: k.privateKey,
        userIDs: [{ email: ADDR }],
        keyExpirationTime: 30 * 24 * 3600,
        date: new Date(clock.now().getTime() + 1000),
        format: 'object',
      });
      assert.equal(extended.publicKey.getFingerprint().toUpperCase(), k.fingerprint);
      dir.publishWkd(ADDR, extended.publicKey.write());
      clock.offset = 60_000; // the new self-signature is a second younger than the key
      const result = await recipients.refreshAll();
      assert.equal(
        result.confirmed,
        1,
        JSON.stringify(result) +
          gw
            .logText()
            .split('\n')
            .filter((l) => l.includes('KD_'))
            .join('\n'),
      );
      clock.offset = 3 * DAY;
      const stored = await gw.keys.recipientKey(ADDR);
      assert.equal(stored.state, 'usable', 'the extended key is still valid after the first expiry');
    });

    it('a revocation published at the source is merged and the key dropped', async () => {
      const k = await keyPair(0, clock.now());
      dir.publishWkd(ADDR, k.publicKey.write());
      await recipients.resolve(ADDR);
      const { publicKey: revoked } = await openpgp.revokeKey({
        key: k.privateKey,
        date: new Date(clock.now().getTime() + 1000),
        format: 'object',
      });
      dir.publishWkd(ADDR, revoked.write());
      clock.offset = 60_000;
      const result = await recipients.refreshAll();
      assert.equal(result.dropped, 1);
      const [row] = await rows();
      assert.equal(row?.status, 'dropped');
      assert.equal(row?.problem, 'revoked');
      assert.notEqual((await gw.keys.recipientKey(ADDR)).state, 'usable');
    });

    it('a different key at the source during the refresh is a key change (held by default)', async () => {
      const k = await keyPair(0, clock.now());
      dir.publishWkd(ADDR, k.publicKey.write());
      await recipients.resolve(ADDR);
      const other = await keyPair(0, clock.now());
      dir.publishWkd(ADDR, other.publicKey.write());
      const result = await recipients.refreshAll();
      assert.equal(result.changed, 1);
      const status = await gw.keys.recipientKey(ADDR);
      assert.equal(status.state, 'held');
      assert.equal(status.state === 'held' && status.previous, k.fingerprint);
    });

    it('refreshes each address once per interval (what the 15-minute worker tick relies on)', async () => {
      const k = await keyPair(0, clock.now());
      dir.publishWkd(ADDR, k.publicKey.write());
      await recipients.resolve(ADDR);
      assert.equal((await recipients.refreshAll({ olderThanMs: DAY })).addresses, 0, 'just found: not due');
      clock.offset = DAY + 60_000;
      assert.equal((await recipients.refreshAll({ olderThanMs: DAY })).addresses, 1);
      assert.equal((await recipients.refreshAll({ olderThanMs: DAY })).addresses, 0, 'refreshed: not due');
      dir.setBehaviour('*', 'all', { status: 500 });
      clock.offset = 2 * DAY + 120_000;
      assert.equal((await recipients.refreshAll({ olderThanMs: DAY })).unanswered, 1);
      assert.equal(
        (await recipients.refreshAll({ olderThanMs: DAY })).addresses,
        0,
        'asked, even unanswered',
      );
    });

    it('a source that does not answer changes nothing: the stored key serves until it expires', async () => {
      const k = await keyPair(0, clock.now());
      dir.publishWkd(ADDR, k.publicKey.write());
      await recipients.resolve(ADDR);
      dir.setBehaviour('*', 'all', { status: 500 });
      const result = await recipients.refreshAll();
      assert.equal(result.unanswered, 1);
      assert.equal(result.dropped, 0);
      assert.equal((await gw.keys.recipientKey(ADDR)).state, 'usable');
    });
  });
}
