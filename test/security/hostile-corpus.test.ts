import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { simpleParser } from 'mailparser';
import { testDbKinds } from '../helpers/db.ts';
import { dbContains, replyCode, SENDER, SENDER_PASSWORD } from '../helpers/gateway.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { rawSmtpSession, type RawSmtpSession } from '../helpers/raw-smtp.ts';
import { redisContents } from '../helpers/redis-scan.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * The hostile corpus (issue 11, finding 7): every `.eml` in test/fixtures/hostile/ (one per attack, named
 * after it; see its README) goes through both listeners — the real submission gateway (anna logged in, to
 * a pgp recipient and a pickup recipient, delivered by the real worker to a real sink) and the real inbound
 * listener (relaying to a real sink) — over one raw SMTP connection each, so that the bytes arrive as
 * written. Then:
 *  - every case got the reply code of manifest.json on each listener;
 *  - the servers are still up: a normal message goes through both afterwards, on the same connections;
 *  - nothing in clear left: no marker (subject or body, in clear, base64 or quoted-printable) in any copy
 *    that reached the sink for the pgp or the pickup recipient; every relayed inbound message carries
 *    exactly one Sealpost-Security field;
 *  - nothing in clear rests: no marker in either database (every row; the SQLite file and its WAL), in
 *    Redis (every key and value), or in the logs.
 */
const DIR = 'test/fixtures/hostile';
const PGP_RCPT = 'bob@clinic.example';
const PICKUP_RCPT = 'max@example.org';

interface Manifest {
  subjectMark: string;
  bodyMark: string;
  cases: { file: string; attack: string; submission: string; inbound: string }[];
}
const manifest = JSON.parse(readFileSync(path.join(DIR, 'manifest.json'), 'utf8')) as Manifest;

/** A marker as it may appear: in clear, or base64 at any of the three offsets. */
function forms(marker: string): string[] {
  const bytes = Buffer.from(marker);
  return [
    marker,
    ...[0, 1, 2].map((shift) => {
      const b64 = Buffer.concat([Buffer.alloc(shift), bytes]).toString('base64');
      return b64.slice(shift ? 4 : 0, Math.floor((shift + bytes.length) / 3) * 4);
    }),
  ];
}
const NEEDLES = [...forms(manifest.subjectMark), ...forms(manifest.bodyMark)];

function markersIn(bytes: Buffer): string[] {
  const text = bytes.toString('latin1');
  const joined = text.replace(/=?\r?\n/g, '');
  return NEEDLES.filter((n) => text.includes(n) || joined.includes(n));
}

const normal = (from: string, to: string) =>
  Buffer.from(`From: ${from}\r\nTo: ${to}\r\nSubject: Termin\r\n\r\nBis morgen.\r\n`);

for (const kind of testDbKinds()) {
  describe(`security: the hostile corpus through both listeners (${kind})`, function () {
    this.timeout(600_000);
    let stack: Stack | undefined;
    let inbound: TestInbound | undefined;
    const sessions: RawSmtpSession[] = [];
    afterEach(async () => {
      for (const s of sessions.splice(0)) s.close();
      await stack?.close();
      await inbound?.close();
      stack = undefined;
      inbound = undefined;
    });

    it(`answers each of the ${manifest.cases.length} cases as the manifest says; nothing leaks`, async () => {
      assert.ok(manifest.cases.length >= 150, 'at least 150 cases');
      stack = await startStack({ kind });
      inbound = await startTestInbound({ kind });
      await stack.gw.addRecipient(PGP_RCPT);
      const submission = await rawSmtpSession(stack.gw.ports.submissionPort, {
        starttls: true,
        auth: { user: SENDER, pass: SENDER_PASSWORD },
      });
      sessions.push(submission);
      const mx = await rawSmtpSession(inbound.port, { starttls: true });
      sessions.push(mx);

      const wrong: string[] = [];
      let accepted = 0;
      let relayed = 0;
      for (const c of manifest.cases) {
        const raw = readFileSync(path.join(DIR, c.file));
        const out = replyCode(
          (await submission.send({ from: SENDER, to: [PGP_RCPT, PICKUP_RCPT] }, raw)).text,
        );
        if (out !== c.submission) wrong.push(`${c.file} submission: ${out} (want ${c.submission})`);
        if (out === 'GW_ACCEPTED') accepted++;
        const inn = replyCode((await mx.send({ from: 'chef@clinic.example', to: [ANNA] }, raw)).text);
        if (inn !== c.inbound) wrong.push(`${c.file} inbound: ${inn} (want ${c.inbound})`);
        if (inn === 'IN_RELAYED') relayed++;
      }
      assert.deepEqual(wrong, [], 'every case gets its expected reply');

      // Still up, on the same connections.
      const ok = await submission.send(
        { from: SENDER, to: [PGP_RCPT, PICKUP_RCPT] },
        normal(SENDER, PGP_RCPT),
      );
      assert.equal(replyCode(ok.text), 'GW_ACCEPTED', ok.text);
      const okIn = await mx.send(
        { from: 'chef@clinic.example', to: [ANNA] },
        normal('chef@clinic.example', ANNA),
      );
      assert.equal(replyCode(okIn.text), 'IN_RELAYED', okIn.text);
      accepted++;
      relayed++;

      // Nothing in clear left: a pgp copy and a notification per accepted message, and one receipt.
      const out = await stack.sink.waitFor(2 * accepted + 1, 300_000);
      const leaks = out.filter((m) => markersIn(m.raw).length > 0).map((m) => m.to.join(','));
      assert.deepEqual(leaks, [], 'no marker in clear in a copy for the pgp or the pickup recipient');
      const arrived = await inbound.sink.waitFor(relayed);
      for (const m of arrived) {
        const fields = (await simpleParser(m.raw)).headerLines.filter((h) => h.key === 'sealpost-security');
        assert.equal(fields.length, 1, `one verdict field: ${fields.map((f) => f.line).join(' | ')}`);
      }

      // Nothing in clear rests.
      for (const marker of [manifest.subjectMark, manifest.bodyMark]) {
        assert.equal(await dbContains(stack.gw.testDb, marker), false, `gateway database: ${marker}`);
        assert.equal(await dbContains(inbound.testDb, marker), false, `inbound database: ${marker}`);
      }
      assert.deepEqual(markersIn(await redisContents(stack.redis)), [], 'Redis');
      assert.deepEqual(markersIn(Buffer.from(stack.gw.logText())), [], 'gateway and worker log');
      assert.deepEqual(markersIn(Buffer.from(inbound.logText())), [], 'inbound log');
    });
  });
}
