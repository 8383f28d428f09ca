import assert from 'node:assert/strict';
import { explain, formatExplanation, newContactRecord, RecipientKeys } from '../../keys/index.ts';
import { autocryptHeader, clearMail, encryptedMail, testKey, type TestKey } from '../helpers/autocrypt.ts';
import { testDbKinds, type TestDbKind } from '../helpers/db.ts';
import { dkimDomain, dkimResolver, dkimSigned, type DkimDomain } from '../helpers/dkim.ts';
import { ANNA, BOB, failure, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { testCryptoPool } from '../helpers/crypto-pool.ts';

/**
 * A stranger plants an encryption key (issue 11, finding 1): one unauthenticated mail to the MX with
 * `From: <any address>` and an `Autocrypt:` header made Sealpost record that key — for a pickup contact
 * (whose next mail then went PGP/MIME to the attacker instead of to pickup), and for the practice's own
 * addresses. A key learned from mail now counts only when the message proves it: DKIM passes aligned with
 * the From domain AND the message is signed by the offered key; never for a local address; and never as a
 * silent replacement of a pickup contact or a known key (a change held for the admin).
 */
const VICTIM = 'kollege@klinik.example';
const klinik = dkimDomain('klinik.example');
const evil = dkimDomain('evil.example');
const praxis = dkimDomain('praxis.example');
/** A key for klinik.example that is not the one in its DNS (a forged signature). */
const forgedKlinik = dkimDomain('klinik.example');

interface Offer {
  from: string;
  /** The From field as written; default `Kollege <from>`. */
  fromField?: string;
  key: TestKey;
  /** Who signs the content: the offered key (default), another key, or nobody. */
  signer?: TestKey | null;
  dkim?: DkimDomain;
  headerList?: string[];
  extraHeaders?: string[];
}

async function offerMail(o: Offer): Promise<Buffer> {
  const signer = o.signer === undefined ? o.key : o.signer;
  let mail = await clearMail({
    from: o.from,
    to: ANNA,
    ...(signer ? { signer: signer.secretKey } : {}),
    headers: [autocryptHeader(o.from, o.key.binary), ...(o.extraHeaders ?? [])],
  });
  if (o.fromField) mail = Buffer.from(mail.toString('utf8').replace(/^From: .*$/m, `From: ${o.fromField}`));
  return o.dkim ? dkimSigned(mail, o.dkim, o.headerList ? { headerList: o.headerList } : {}) : mail;
}

async function start(kind: TestDbKind, config = {}): Promise<TestInbound> {
  return startTestInbound({ kind, dns: dkimResolver([klinik, evil, praxis]), config });
}

async function rowsFor(gw: TestInbound, address: string) {
  return gw.testDb.db.kysely
    .selectFrom('recipient_keys')
    .selectAll()
    .where('address', '=', address)
    .execute();
}

/** What `sealpost explain --from anna --to <rcpt>` says (the same code as the CLI, discovery off). */
async function explained(gw: TestInbound, rcpt: string) {
  const recipients = new RecipientKeys({ keys: gw.keys, log: gw.deps.log, clock: gw.deps.clock });
  const e = await explain(
    { keys: gw.keys, recipients, rules: { list: async () => [] }, config: gw.deps.config, log: gw.deps.log },
    { from: ANNA, to: [rcpt] },
  );
  return { recipient: e.recipients[0]!, text: formatExplanation(e) };
}

async function addContact(gw: TestInbound, address: string): Promise<string> {
  const record = await newContactRecord(address, gw.deps.clock.now(), testCryptoPool());
  await gw.testDb.db.kysely.insertInto('contacts').values(record.row).execute();
  return record.contact.fingerprint;
}

function unproven(gw: TestInbound, reason: string): boolean {
  return (
    gw.logText().includes(`"code":"IN_AUTOCRYPT_UNPROVEN"`) && gw.logText().includes(`"reason":"${reason}"`)
  );
}

for (const kind of testDbKinds()) {
  describe(`security: a stranger cannot plant an encryption key through Autocrypt (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('no DKIM: ignored, and a pickup contact stays on pickup', async () => {
      gw = await start(kind);
      await addContact(gw, VICTIM);
      const attacker = await testKey([VICTIM]);
      await gw.send({ from: VICTIM, to: [ANNA] }, await offerMail({ from: VICTIM, key: attacker }));
      await gw.sink.waitFor(1);
      assert.equal((await rowsFor(gw, VICTIM)).length, 0);
      assert.ok(unproven(gw, 'dkim-none'), gw.logText());
      assert.equal((await explained(gw, VICTIM)).recipient.verdict, 'pickup');
    });

    it('DKIM of another domain (not aligned with From): ignored', async () => {
      gw = await start(kind);
      const attacker = await testKey([VICTIM]);
      await gw.send(
        { from: VICTIM, to: [ANNA] },
        await offerMail({ from: VICTIM, key: attacker, dkim: evil }),
      );
      await gw.sink.waitFor(1);
      assert.equal((await rowsFor(gw, VICTIM)).length, 0);
      assert.ok(unproven(gw, 'dkim-not-aligned'), gw.logText());
    });

    it('a DKIM signature that does not verify against the domain key: ignored', async () => {
      gw = await start(kind);
      const attacker = await testKey([VICTIM]);
      const mail = await offerMail({ from: VICTIM, key: attacker, dkim: forgedKlinik });
      await gw.send({ from: VICTIM, to: [ANNA] }, mail);
      await gw.sink.waitFor(1);
      assert.equal((await rowsFor(gw, VICTIM)).length, 0);
      assert.ok(unproven(gw, 'dkim-fail'), gw.logText());
    });

    it('aligned DKIM that does not sign From: ignored', async () => {
      gw = await start(kind);
      const attacker = await testKey([VICTIM]);
      const mail = await offerMail({
        from: VICTIM,
        key: attacker,
        dkim: klinik,
        headerList: ['to', 'subject'],
      });
      await gw.send({ from: VICTIM, to: [ANNA] }, mail);
      await gw.sink.waitFor(1);
      assert.equal((await rowsFor(gw, VICTIM)).length, 0);
      assert.ok(unproven(gw, 'dkim-not-aligned'), gw.logText());
    });

    it('DKIM passes aligned, but the message is not signed by the offered key: ignored', async () => {
      gw = await start(kind);
      const offered = await testKey([VICTIM]);
      const other = await testKey([VICTIM]);
      await gw.send(
        { from: VICTIM, to: [ANNA] },
        await offerMail({ from: VICTIM, key: offered, signer: null, dkim: klinik }),
      );
      await gw.send(
        { from: VICTIM, to: [ANNA] },
        await offerMail({ from: VICTIM, key: offered, signer: other, dkim: klinik }),
      );
      await gw.sink.waitFor(2);
      assert.equal((await rowsFor(gw, VICTIM)).length, 0);
      assert.ok(unproven(gw, 'not-signed'), gw.logText());
    });

    it("a display name that looks like the victim, with the attacker's own DKIM: nothing for the victim", async () => {
      gw = await start(kind);
      const attacker = await testKey([VICTIM]);
      const mail = await offerMail({
        from: VICTIM,
        fromField: `"<${VICTIM}>" <x@evil.example>`,
        key: attacker,
        dkim: evil,
      });
      await gw.send({ from: 'x@evil.example', to: [ANNA] }, mail);
      const second = await offerMail({
        from: VICTIM,
        key: attacker,
        dkim: evil,
        extraHeaders: ['From: <x@evil.example>'],
      });
      // Two From fields are refused at the edge (one reading of a message, invariant 8) before any key is read.
      const refused = await gw.send({ from: 'x@evil.example', to: [ANNA] }, second).then(
        () => undefined,
        (err: unknown) => failure(err),
      );
      assert.equal(refused?.responseCode, 550);
      assert.match(String(refused?.response), /\[IN_MESSAGE_AMBIGUOUS\]/);
      await gw.sink.waitFor(1);
      assert.equal((await rowsFor(gw, VICTIM)).length, 0);
      assert.equal((await rowsFor(gw, 'x@evil.example')).length, 0);
    });

    it('DNS that never answers: the message goes on, the key is not learned (dkim-temperror)', async () => {
      const silent = () => new Promise<string[][]>(() => undefined);
      gw = await startTestInbound({ kind, dns: silent });
      const key = await testKey([VICTIM]);
      const info = await gw.send(
        { from: VICTIM, to: [ANNA] },
        await offerMail({ from: VICTIM, key, dkim: klinik }),
      );
      assert.match(String(info.response), /^250 /);
      assert.equal((await rowsFor(gw, VICTIM)).length, 0);
      assert.ok(unproven(gw, 'dkim-temperror'), gw.logText());
    });

    it('proven (DKIM aligned, signed by the key): recorded for a new address, and explain names the source', async () => {
      gw = await start(kind);
      const key = await testKey([VICTIM]);
      await gw.send({ from: VICTIM, to: [ANNA] }, await offerMail({ from: VICTIM, key, dkim: klinik }));
      await gw.sink.waitFor(1);
      const rows = await rowsFor(gw, VICTIM);
      assert.deepEqual(
        rows.map((r) => [r.fingerprint, r.source, r.status]),
        [[key.fingerprint, 'autocrypt', 'active']],
      );
      const { recipient, text } = await explained(gw, VICTIM);
      assert.equal(recipient.verdict, 'pgp');
      assert.equal(recipient.key.source, 'autocrypt');
      assert.match(text, new RegExp(`key: +${key.fingerprint} \\(usable, from autocrypt\\)`));
    });

    it('proven inside an encrypted message too (the combined signature is by the offered key)', async () => {
      gw = await start(kind);
      const key = await testKey([VICTIM]);
      const mail = await encryptedMail({
        from: VICTIM,
        to: ANNA,
        encryptTo: gw.publicKeys[ANNA]!,
        signer: key.secretKey,
        headers: [autocryptHeader(VICTIM, key.binary)],
      });
      await gw.send({ from: VICTIM, to: [ANNA] }, await dkimSigned(mail, klinik));
      const [got] = await gw.sink.waitFor(1);
      assert.match(got!.raw.toString('latin1'), /Sealpost-Security: decrypted; signature=unknown-key/);
      assert.equal((await rowsFor(gw, VICTIM))[0]?.source, 'autocrypt');
    });

    it('proven, for an existing pickup contact: held for the admin, the contact stays on pickup', async () => {
      gw = await start(kind);
      const pickupKey = await addContact(gw, VICTIM);
      const key = await testKey([VICTIM]);
      await gw.send({ from: VICTIM, to: [ANNA] }, await offerMail({ from: VICTIM, key, dkim: klinik }));
      await gw.sink.waitFor(1);
      assert.deepEqual(
        (await rowsFor(gw, VICTIM)).map((r) => [r.fingerprint, r.status]),
        [[key.fingerprint, 'held']],
      );
      const [change] = await gw.keys.listKeyChanges();
      assert.equal(change?.oldFingerprint, pickupKey);
      assert.equal(change?.newFingerprint, key.fingerprint);
      const { recipient } = await explained(gw, VICTIM);
      assert.equal(recipient.verdict, 'pickup');
      assert.equal(recipient.key.state, 'held');
      assert.match(gw.logText(), /"code":"IN_AUTOCRYPT_KEY_CHANGED"/);
    });

    it('proven, for an address with a known key: held, even with discovery.keyChange=accept-and-log', async () => {
      gw = await start(kind, { discovery: { keyChange: 'accept-and-log' } });
      const first = await testKey([VICTIM]);
      const second = await testKey([VICTIM]);
      await gw.send(
        { from: VICTIM, to: [ANNA] },
        await offerMail({ from: VICTIM, key: first, dkim: klinik }),
      );
      await gw.send(
        { from: VICTIM, to: [ANNA] },
        await offerMail({ from: VICTIM, key: second, dkim: klinik }),
      );
      await gw.sink.waitFor(2);
      const status = await gw.keys.recipientKey(VICTIM);
      assert.equal(status.state, 'held', 'neither key is used until the admin decides');
      const rows = await rowsFor(gw, VICTIM);
      assert.deepEqual(
        rows.map((r) => [r.fingerprint, r.status]).sort(),
        [
          [first.fingerprint, 'active'],
          [second.fingerprint, 'held'],
        ].sort(),
      );
      assert.equal((await gw.keys.listKeyChanges())[0]?.newFingerprint, second.fingerprint);
    });

    it('a local From (sender key, or a local domain) is never recorded, whatever DKIM says', async () => {
      gw = await start(kind);
      const attacker = await testKey([ANNA, 'empfang@praxis.example']);
      for (const from of [ANNA, 'empfang@praxis.example']) {
        const mail = await offerMail({ from, key: attacker, dkim: praxis });
        await gw.send({ from, to: [BOB] }, mail);
      }
      await gw.sink.waitFor(2);
      assert.equal((await rowsFor(gw, ANNA)).length, 0);
      assert.equal((await rowsFor(gw, 'empfang@praxis.example')).length, 0);
      assert.equal((gw.logText().match(/"code":"IN_AUTOCRYPT_LOCAL"/g) ?? []).length, 2);
      // Mail to Anna is encrypted to her sender key, nothing else.
      const own = await gw.keys.recipientKey(ANNA);
      assert.equal(own.state === 'usable' && own.source, 'sender');
    });
  });
}
