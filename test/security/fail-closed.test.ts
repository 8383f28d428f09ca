import assert from 'node:assert/strict';
import { sql } from 'kysely';
import { newId } from '../../core/ids.ts';
import { buildPgpMime } from '../../keys/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import {
  dbContains,
  rawSmtp,
  replyCode,
  SENDER,
  startTestGateway,
  type TestGateway,
} from '../helpers/gateway.ts';
import { fixtureAddress, fixturePublicKey, type PublicFixture } from '../helpers/keys.ts';

/**
 * Invariant 1, "Fail closed": a message leaves only encrypted to a valid key, or in clear where a rule
 * says so. Every other recipient gets a precise 5xx (no usable key) or 4xx (lookup, encryption or
 * storage failed) — and then nothing is stored: no outbound row, and the message text (a canary) is
 * nowhere in the database or the log.
 */
type SmtpErr = { responseCode?: number; response?: string; rejectedErrors?: SmtpErr[] };

const CANARY_SUBJECT = 'CANARY-SUBJECT-7f3kq9xd';
const CANARY_BODY = 'CANARY-BODY-2m8tzv4w';

/** `large`: a body of about 3 MB, so that each pgp copy is spooled in chunks while it is encrypted. */
function message(to: string[], large = false): string {
  return [
    `From: Anna <${SENDER}>`,
    `To: ${to.join(', ')}`,
    `Subject: ${CANARY_SUBJECT}`,
    '',
    `Diagnosis: ${CANARY_BODY}`,
    ...(large ? Array.from({ length: 40_000 }, (_, i) => `Befundzeile ${i} ${CANARY_BODY}`) : []),
    '',
  ].join('\r\n');
}

/** Send and return the SMTP error the client saw for `rcpt` (its RCPT reply or the DATA reply). */
async function refusal(gw: TestGateway, to: string[], large = false): Promise<SmtpErr> {
  try {
    const info = await gw.transport().sendMail({ envelope: { from: SENDER, to }, raw: message(to, large) });
    const rejected = (info as { rejectedErrors?: SmtpErr[] }).rejectedErrors;
    assert.ok(rejected?.length, `expected a refusal, got ${info.response}`);
    return rejected[0]!;
  } catch (err) {
    const e = err as SmtpErr;
    return e.rejectedErrors?.[0] ?? e;
  }
}

async function assertNothingStored(gw: TestGateway): Promise<void> {
  assert.equal((await gw.outbound()).length, 0, 'no outbound row');
  const chunks = await gw.deps.db.kysely.selectFrom('outbound_chunks').select('idx').execute();
  assert.equal(chunks.length, 0, 'no spool chunk left behind');
  assert.deepEqual(gw.enqueued, []);
  for (const canary of [CANARY_SUBJECT, CANARY_BODY]) {
    assert.equal(await dbContains(gw.testDb, canary), false, `${canary} is not in the database`);
    assert.ok(!gw.logText().includes(canary), `${canary} is not in the log`);
  }
}

/**
 * Pin a fixture key the way discovery will store one, bypassing import validation (which refuses unusable
 * keys): the gateway must judge the key at send time, whatever it was when stored.
 */
async function pinRaw(gw: TestGateway, address: string, armored: string, fingerprint: string): Promise<void> {
  await gw.deps.db.kysely
    .insertInto('recipient_keys')
    .values({
      id: newId(),
      address,
      fingerprint,
      public_key: armored,
      source: 'wkd',
      source_url: null,
      first_seen_at: 0,
      last_checked_at: 0,
      created_at: 0,
    })
    .execute();
}

async function pinFixture(gw: TestGateway, name: PublicFixture): Promise<string> {
  const address = fixtureAddress(name);
  await pinRaw(gw, address, fixturePublicKey(name), `FIXTURE-${name.toUpperCase()}`);
  return address;
}

/** Make every insert into `outbound` fail inside the transaction (a full disk, a lost connection). */
async function breakOutboundInserts(gw: TestGateway): Promise<void> {
  const db = gw.deps.db.kysely;
  if (gw.deps.db.dialect === 'sqlite') {
    await sql`CREATE TRIGGER outbound_fail BEFORE INSERT ON outbound BEGIN SELECT RAISE(ABORT, 'injected'); END`.execute(
      db,
    );
  } else {
    await sql`CREATE FUNCTION outbound_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'injected'; END $$`.execute(
      db,
    );
    await sql`CREATE TRIGGER outbound_fail BEFORE INSERT ON outbound FOR EACH ROW EXECUTE FUNCTION outbound_fail()`.execute(
      db,
    );
  }
}

for (const kind of testDbKinds()) {
  // With pickup on (the default) a keyless recipient gets a pickup instead; test/security/pickup-*.test.ts.
  const NO_PICKUP = { pickup: { enabled: false } };
  describe(`security: fail closed (${kind})`, () => {
    let gw: TestGateway | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    const unusable: [PublicFixture, string][] = [
      ['expired', 'GW_KEY_EXPIRED'],
      ['revoked', 'GW_KEY_REVOKED'],
      ['weak', 'GW_KEY_WEAK'],
      ['signonly', 'GW_KEY_NO_ENCRYPTION'],
    ];
    for (const [fixture, code] of unusable) {
      it(`refuses a recipient whose only key is ${fixture} with 550 ${code} and stores nothing (pickup off)`, async () => {
        gw = await startTestGateway({ kind, config: NO_PICKUP });
        const rcpt = await pinFixture(gw, fixture);
        const err = await refusal(gw, [rcpt]);
        assert.equal(err.responseCode, 550, err.response);
        assert.equal(replyCode(err.response), code);
        assert.ok(err.response?.includes(`(${rcpt})`), 'the reply names the recipient');
        await assertNothingStored(gw);
      });
    }

    it('refuses a recipient without any key with 550 GW_NO_KEY (the reply names the recipient; pickup off)', async () => {
      gw = await startTestGateway({ kind, config: NO_PICKUP });
      const err = await refusal(gw, ['bob@x.org']);
      assert.equal(
        err.response,
        '550 5.7.1 No usable OpenPGP key for this recipient; Sealpost does not send in clear (bob@x.org) [GW_NO_KEY]',
      );
      await assertNothingStored(gw);
    });

    it('stores only the encrypted copy when one recipient has a key and another has none (pickup off)', async () => {
      gw = await startTestGateway({ kind, config: NO_PICKUP });
      await gw.addRecipient('bob@clinic.example');
      const info = await gw.transport().sendMail({
        envelope: { from: SENDER, to: ['bob@clinic.example', 'nokey@x.org'] },
        raw: message(['bob@clinic.example', 'nokey@x.org']),
      });
      assert.deepEqual(info.rejected, ['nokey@x.org']);
      const rows = await gw.outbound();
      assert.deepEqual(
        rows.map((r) => [r.recipient, r.kind]),
        [['bob@clinic.example', 'pgp']],
      );
      assert.ok(!gw.openBody(rows[0]!).includes(CANARY_BODY), 'the stored copy is ciphertext');
      assert.equal(await dbContains(gw.testDb, CANARY_BODY), false);
    });

    it('defers (451 GW_DEFER) when the key lookup fails, even where a plain rule would allow clear text', async () => {
      gw = await startTestGateway({ kind });
      await gw.deps.db.kysely
        .insertInto('policy_rules')
        .values({ id: 'r1', match: 'x.org', action: 'plain', note: null, created_at: 0 })
        .execute();
      await pinRaw(gw, 'bob@x.org', 'this is not an OpenPGP key', 'BROKEN');
      const err = await refusal(gw, ['bob@x.org']);
      assert.equal(err.responseCode, 451);
      assert.equal(replyCode(err.response), 'GW_DEFER');
      await assertNothingStored(gw);
    });

    it('defers (451 GW_NO_SENDER_KEY) a pgp recipient when the sender has no signing key', async () => {
      gw = await startTestGateway({ kind, senderKey: false });
      await gw.addRecipient('bob@clinic.example');
      const err = await refusal(gw, ['bob@clinic.example']);
      assert.equal(err.responseCode, 451);
      assert.equal(replyCode(err.response), 'GW_NO_SENDER_KEY');
      await assertNothingStored(gw);
    });

    it('answers 451 and stores nothing when encryption throws (no fallback to clear text)', async () => {
      let calls = 0;
      gw = await startTestGateway({
        kind,
        buildPgpMime: async () => {
          calls++;
          throw new Error(`encryption failed for ${CANARY_SUBJECT}`); // a foreign message quoting content
        },
      });
      // a plain rule for the same domain must not become a fallback
      await gw.deps.db.kysely
        .insertInto('policy_rules')
        .values({ id: 'r1', match: '.clinic.example', action: 'plain', note: null, created_at: 0 })
        .execute();
      await gw.addRecipient('bob@clinic.example');
      const err = await refusal(gw, ['bob@clinic.example']);
      assert.equal(err.responseCode, 451);
      assert.equal(replyCode(err.response), 'GW_TEMP_FAILURE');
      assert.ok(!err.response?.includes(CANARY_SUBJECT), 'the foreign error text is not echoed');
      assert.equal(calls, 1);
      await assertNothingStored(gw);
    });

    it('answers 451 and stores nothing when one copy of several fails to encrypt', async () => {
      let calls = 0;
      gw = await startTestGateway({
        kind,
        buildPgpMime: async (input) => {
          if (++calls === 2) throw new Error('boom');
          return buildPgpMime(input);
        },
      });
      for (const r of ['a', 'b', 'c']) await gw.addRecipient(`${r}@clinic.example`);
      const to = ['a@clinic.example', 'b@clinic.example', 'c@clinic.example'];
      const err = await refusal(gw, to);
      assert.equal(replyCode(err.response), 'GW_TEMP_FAILURE');
      await assertNothingStored(gw);
    });

    it('answers 451 and stores nothing when the database fails during the commit', async () => {
      gw = await startTestGateway({ kind });
      for (const r of ['a', 'b']) await gw.addRecipient(`${r}@clinic.example`);
      await breakOutboundInserts(gw);
      const err = await refusal(gw, ['a@clinic.example', 'b@clinic.example']);
      assert.equal(err.responseCode, 451);
      assert.equal(replyCode(err.response), 'GW_TEMP_FAILURE');
      await assertNothingStored(gw);
      assert.ok(gw.logText().includes('GW_INTERNAL_ERROR'));
    });

    it('a large message: answers 451 and leaves no chunk when the commit fails', async () => {
      gw = await startTestGateway({ kind });
      for (const r of ['a', 'b']) await gw.addRecipient(`${r}@clinic.example`);
      await breakOutboundInserts(gw);
      const err = await refusal(gw, ['a@clinic.example', 'b@clinic.example'], true);
      assert.equal(err.responseCode, 451);
      assert.equal(replyCode(err.response), 'GW_TEMP_FAILURE');
      await assertNothingStored(gw);
    });

    it("a large message: answers 451 and drops the first copy's chunks when the second fails", async () => {
      let calls = 0;
      const current = () => gw!;
      gw = await startTestGateway({
        kind,
        buildPgpMime: async (input) => {
          if (++calls !== 2) return buildPgpMime(input);
          // Fail only once the other copy has written chunks of its own.
          const written = () =>
            current().deps.db.kysely.selectFrom('outbound_chunks').select('idx').execute();
          for (let i = 0; (await written()).length === 0; i++) {
            assert.ok(i < 2000, 'the other copy writes chunks');
            await new Promise((resolve) => setTimeout(resolve, 10));
          }
          throw new Error('boom');
        },
      });
      for (const r of ['a', 'b']) await gw.addRecipient(`${r}@clinic.example`);
      const err = await refusal(gw, ['a@clinic.example', 'b@clinic.example'], true);
      assert.equal(replyCode(err.response), 'GW_TEMP_FAILURE');
      await assertNothingStored(gw);
    });

    it('a large message: answers 451 and stores nothing when the orphan sweep took chunks before the commit', async () => {
      const current = () => gw!;
      gw = await startTestGateway({
        kind,
        buildPgpMime: async (input) => {
          const parts = await buildPgpMime(input);
          // The sweep of another process (whose clock is ahead) between the chunks and the commit.
          const swept = await current().deps.db.stores.outbound.chunks.sweep(Date.now() + 60_000);
          assert.ok(swept > 0, 'the sweep took chunks of the copy');
          return parts;
        },
      });
      await gw.addRecipient('a@clinic.example');
      const err = await refusal(gw, ['a@clinic.example'], true);
      assert.equal(err.responseCode, 451);
      assert.equal(replyCode(err.response), 'GW_TEMP_FAILURE');
      await assertNothingStored(gw);
    });

    it('answers 4xx when the database is gone, and the process keeps serving', async () => {
      gw = await startTestGateway({ kind });
      await gw.addRecipient('bob@clinic.example');
      await gw.deps.db.close();
      const err = await refusal(gw, ['bob@clinic.example']);
      assert.equal(Math.floor((err.responseCode ?? 0) / 100), 4, err.response);
      assert.deepEqual(gw.enqueued, []);
      const smtp = await rawSmtp(gw.ports.submissionPort);
      assert.match(smtp.greeting, /^220 /);
      smtp.close();
    });
  });
}
