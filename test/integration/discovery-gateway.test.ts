import assert from 'node:assert/strict';
import { parseConfig, type ConfigInput } from '../../core/config.ts';
import { PolicyRuleStore } from '../../core/policy-rules.ts';
import { discoverySettings, KeyDiscovery } from '../../keys/discovery/index.ts';
import { explain, RecipientKeys } from '../../keys/index.ts';
import { SENDER, replyCode } from '../helpers/gateway.ts';
import { testDbKinds } from '../helpers/db.ts';
import { gpgDecryptVerify } from '../helpers/interop.ts';
import { startKeyDirectory, type KeyDirectory } from '../helpers/key-directory.ts';
import { freshKeyPair, type TestKeyPair } from '../helpers/keys.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import type { SinkMessage } from '../helpers/sink.ts';

/**
 * Key discovery end to end: the gateway finds a key at RCPT in a real HTTPS Web Key Directory (test CA,
 * injected resolver), the message arrives PGP/MIME and GnuPG decrypts it; a key replaced at its source is
 * held for the admin (pickup meanwhile) or accepted and logged, per policy; a directory that does not
 * answer leads to 451 or pickup, per policy. Every part is real: gateway, BullMQ, worker, SMTP sink.
 */
const DOMAIN = 'kollege.example';
const COLLEAGUE = `dr.weber@${DOMAIN}`;
const HOUR = 3600_000;

class TestClock {
  offset = 0;
  now(): Date {
    return new Date(Date.now() + this.offset);
  }
}

const isPgpMime = (m: SinkMessage) => /multipart\/encrypted/i.test(m.raw.toString('latin1'));

for (const kind of testDbKinds()) {
  describe(`key discovery through the gateway (${kind})`, function () {
    this.timeout(120_000);
    let dir: KeyDirectory;
    let stack: Stack | undefined;
    let clock: TestClock;
    let colleague: TestKeyPair;

    beforeEach(async () => {
      dir = await startKeyDirectory({ domains: [DOMAIN] });
      clock = new TestClock();
      colleague = await freshKeyPair(COLLEAGUE, clock.now());
    });
    afterEach(async () => {
      await stack?.close();
      stack = undefined;
      await dir.close();
    });

    async function start(discovery: NonNullable<ConfigInput['discovery']> = {}) {
      const config = { discovery: { ...discovery, vksUrl: dir.vksUrl } };
      const settings = discoverySettings(parseConfig(config).discovery);
      const log = { info() {}, warn() {}, error() {}, debug() {}, child: () => log };
      const kd = new KeyDiscovery({ settings, clock, log, net: dir.net });
      stack = await startStack({ kind, clock, config, discovery: kd });
      return { stack, kd };
    }

    const send = (s: Stack, text: string) =>
      s.gw.transport().sendMail({ from: SENDER, to: COLLEAGUE, subject: 'Befund', text });

    async function decryptWith(pair: TestKeyPair, m: SinkMessage, s: Stack): Promise<string> {
      const out = await gpgDecryptVerify({
        message: m.raw,
        recipientSecretKeyArmored: pair.privateKey,
        senderPublicKeyArmored: (await s.gw.keys.exportPublic(SENDER))!,
      });
      assert.ok(out.goodSignature, out.diagnostics);
      return out.plaintext.toString('utf8');
    }

    it('finds a key only the WKD has, sends PGP/MIME that GnuPG decrypts, and records where it came from', async () => {
      dir.publishWkd(COLLEAGUE, colleague.publicKey, { method: 'advanced' });
      const { stack: s } = await start();
      await send(s, 'erste Nachricht');
      const [m] = await s.sink.waitFor(1);
      assert.ok(isPgpMime(m!), 'PGP/MIME');
      assert.match(await decryptWith(colleague, m!, s), /erste Nachricht/);
      const rows = await s.gw.testDb.db.kysely
        .selectFrom('recipient_keys')
        .selectAll()
        .where('address', '=', COLLEAGUE)
        .execute();
      assert.equal(rows.length, 1);
      assert.equal(rows[0]!.fingerprint, colleague.signer.fingerprint);
      assert.equal(rows[0]!.source, 'wkd-advanced');
      assert.match(
        rows[0]!.source_url ?? '',
        /^https:\/\/openpgpkey\.kollege\.example\/\.well-known\/openpgpkey\//,
      );
      // The second message uses the stored key: no new request.
      const before = dir.requests.length;
      await send(s, 'zweite Nachricht');
      const got = await s.sink.waitFor(2);
      assert.ok(isPgpMime(got[1]!));
      assert.equal(dir.requests.length, before, 'no lookup for a stored, recently confirmed key');
    });

    it('holds a key replaced at the WKD: pickup meanwhile, the change listed with both fingerprints; approved, the new key is used', async () => {
      dir.publishWkd(COLLEAGUE, colleague.publicKey);
      const { stack: s } = await start();
      await send(s, 'vorher');
      await s.sink.waitFor(1);

      const replacement = await freshKeyPair(COLLEAGUE, clock.now());
      dir.publishWkd(COLLEAGUE, replacement.publicKey);
      clock.offset += 2 * HOUR; // past the positive cache and the recheck interval
      await send(s, 'während die Änderung wartet');
      const afterHold = await s.sink.waitFor(3); // notification to the colleague + receipt to anna
      const toColleague = afterHold.slice(1).filter((m) => m.to.includes(COLLEAGUE));
      assert.equal(toColleague.length, 1);
      assert.ok(!isPgpMime(toColleague[0]!), 'a pickup notification, not PGP/MIME to either key');
      assert.doesNotMatch(toColleague[0]!.raw.toString('utf8'), /während die Änderung wartet/);

      const [change] = await s.gw.keys.listKeyChanges();
      assert.equal(change?.address, COLLEAGUE);
      assert.equal(change?.oldFingerprint, colleague.signer.fingerprint);
      assert.equal(change?.newFingerprint, replacement.signer.fingerprint);
      assert.equal(change?.status, 'held');
      assert.match(change?.sourceUrl ?? '', /^https:\/\//);
      assert.match(s.gw.logText(), /"code":"KD_KEY_CHANGE_HELD"/);

      await s.gw.keys.decideKeyChange(change!.id, 'approve', 'test-admin');
      await send(s, 'nach der Freigabe');
      const all = await s.sink.waitFor(4);
      assert.ok(isPgpMime(all[3]!));
      assert.match(await decryptWith(replacement, all[3]!, s), /nach der Freigabe/);
      await assert.rejects(decryptWith(colleague, all[3]!, s), 'the old key no longer reads it');
    });

    it("with 'accept-and-log', a replaced key is used at once and the change is recorded as accepted", async () => {
      dir.publishWkd(COLLEAGUE, colleague.publicKey);
      const { stack: s } = await start({ keyChange: 'accept-and-log' });
      await send(s, 'vorher');
      await s.sink.waitFor(1);
      const replacement = await freshKeyPair(COLLEAGUE, clock.now());
      dir.publishWkd(COLLEAGUE, replacement.publicKey);
      clock.offset += 2 * HOUR;
      await send(s, 'nachher');
      const got = await s.sink.waitFor(2);
      assert.match(await decryptWith(replacement, got[1]!, s), /nachher/);
      const [change] = await s.gw.keys.listKeyChanges({ status: 'all' });
      assert.equal(change?.status, 'accepted');
      assert.equal(change?.oldFingerprint, colleague.signer.fingerprint);
      assert.match(s.gw.logText(), /"code":"KD_KEY_CHANGE_ACCEPTED"/);
    });

    it("a directory that does not answer: 451 with 'defer', a pickup with 'pickup'", async () => {
      dir.publishWkd(COLLEAGUE, colleague.publicKey);
      dir.setBehaviour('*', 'all', { delayMs: 5000 });
      const timing = { sourceTimeoutMs: 300, budgetMs: 800 };
      const { stack: s } = await start({ ...timing, onTimeout: 'defer' });
      const err = await send(s, 'x').then(
        () => undefined,
        (e: { response?: string; responseCode?: number }) => e,
      );
      assert.equal(err?.responseCode, 451);
      assert.equal(replyCode(err?.response), 'GW_KEY_LOOKUP_TIMEOUT');
      await stack!.close();
      stack = undefined;

      const { stack: p } = await start({ ...timing, onTimeout: 'pickup' });
      await send(p, 'geheim');
      const got = await p.sink.waitFor(2);
      const note = got.find((m) => m.to.includes(COLLEAGUE))!;
      assert.ok(!isPgpMime(note));
      assert.doesNotMatch(note.raw.toString('utf8'), /geheim/);
    });

    it('asks no directory for a recipient under a plain or reject rule', async () => {
      dir.publishWkd(COLLEAGUE, colleague.publicKey);
      const { stack: s } = await start();
      const rules = new PolicyRuleStore(s.gw.testDb.db.kysely);
      await rules.set({ match: DOMAIN, action: 'plain' }, clock.now());
      await send(s, 'klar erlaubt');
      const [m] = await s.sink.waitFor(1);
      assert.ok(!isPgpMime(m!), 'plain, as the rule says');
      await rules.set({ match: COLLEAGUE, action: 'reject' }, clock.now());
      await assert.rejects(
        send(s, 'x'),
        (e: { response?: string }) => replyCode(e.response) === 'GW_POLICY_REJECT',
      );
      assert.equal(dir.requests.length, 0, 'no request reached the directory');
    });

    it('explain answers like the gateway, with key, source and validity, and records nothing', async () => {
      dir.publishWkd(COLLEAGUE, colleague.publicKey, { method: 'direct' });
      const { stack: s, kd } = await start();
      const rules = new PolicyRuleStore(s.gw.testDb.db.kysely);
      await rules.set({ match: 'klar.example', action: 'plain' }, clock.now());
      const recipients = new RecipientKeys({ keys: s.gw.keys, discovery: kd, log: s.gw.deps.log, clock });
      const answer = await explain(
        { keys: s.gw.keys, recipients, rules, config: s.gw.deps.config, log: s.gw.deps.log },
        { from: SENDER, to: [COLLEAGUE, 'a@klar.example', 'nobody@nowhere.example'] },
      );
      const [c, plain, none] = answer.recipients;
      assert.equal(c?.verdict, 'pgp');
      assert.equal(c?.key.fingerprint, colleague.signer.fingerprint);
      assert.equal(c?.key.source, 'wkd-direct');
      assert.match(c?.key.sourceUrl ?? '', /^https:\/\/kollege\.example\//);
      assert.equal(c?.discovery, 'found');
      assert.equal(plain?.verdict, 'plain');
      assert.equal(plain?.rule?.match, 'klar.example');
      assert.equal(plain?.discovery, 'not-asked-rule');
      assert.equal(none?.verdict, 'pickup');
      assert.equal(answer.senderKey?.fingerprint !== undefined, true);
      const stored = await s.gw.testDb.db.kysely.selectFrom('recipient_keys').selectAll().execute();
      assert.equal(stored.length, 0, 'explain records nothing');
      assert.equal(s.sink.messages.length, 0);
    });
  });
}
