import assert from 'node:assert/strict';
import type { EncryptionKey } from '../../keys/index.ts';
import { decryptAndVerify } from '../../keys/openpgp/index.ts';
import { testDbKinds } from '../helpers/db.ts';
import { replyCode, SENDER, startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/** A raw message, so that the test controls every header (nodemailer would drop Bcc itself). */
function rawMessage(headers: Record<string, string>, body: string): string {
  return `${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n')}\r\n\r\n${body}`;
}

function armoredPart(copy: Buffer): string {
  const m = /-----BEGIN PGP MESSAGE-----[\s\S]*?-----END PGP MESSAGE-----/.exec(copy.toString('latin1'));
  assert.ok(m, 'copy carries an armored OpenPGP message');
  return m[0];
}

function headerSection(bytes: Buffer | string): string {
  const text = bytes.toString();
  const end = text.search(/\r?\n\r?\n/);
  return end < 0 ? text : text.slice(0, end);
}

async function senderPublic(gw: TestGateway): Promise<EncryptionKey> {
  const sender = await gw.keys.senderKey(SENDER);
  assert.ok(sender);
  return { fingerprint: sender.signer.fingerprint, key: sender.signer.publicKey };
}

for (const kind of testDbKinds()) {
  describe(`gateway: submission to the outbound spool (${kind})`, () => {
    let gw: TestGateway | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    it('spools one sealed PGP/MIME copy per recipient (To, Cc, Bcc) and hides Bcc from every copy', async () => {
      gw = await startTestGateway({ kind });
      const to = await gw.addRecipient('bob@clinic.example');
      const cc = await gw.addRecipient('cleo@clinic.example');
      const bcc = await gw.addRecipient('hidden@other.example');
      const subject = 'Befund Frau M. 4711';
      const raw = rawMessage(
        {
          From: `Anna <${SENDER}>`,
          To: 'bob@clinic.example',
          Cc: 'cleo@clinic.example',
          Bcc: 'hidden@other.example',
          Subject: subject,
          'Message-ID': '<m1@praxis.example>',
        },
        'Therapy notes 4711\r\n',
      );
      const info = await gw.transport().sendMail({
        envelope: { from: SENDER, to: ['bob@clinic.example', 'cleo@clinic.example', 'hidden@other.example'] },
        raw,
      });
      assert.equal(replyCode(info.response), 'GW_ACCEPTED');
      assert.match(info.response ?? '', /^250 2\.0\.0 /);

      const rows = await gw.outbound();
      assert.deepEqual(
        rows.map((r) => r.recipient),
        ['bob@clinic.example', 'cleo@clinic.example', 'hidden@other.example'],
      );
      assert.equal(new Set(rows.map((r) => r.batch_id)).size, 1);
      assert.deepEqual([...gw.enqueued].sort(), rows.map((r) => r.id).sort());
      const verify = [await senderPublic(gw)];
      const privateKeys = [to, cc, bcc].map((r) => r.privateKey);
      for (const [i, row] of rows.entries()) {
        assert.equal(row.kind, 'pgp');
        assert.equal(row.status, 'queued');
        assert.equal(row.attempts, 0);
        assert.equal(row.envelope_from, SENDER);
        assert.equal(row.message_id, '<m1@praxis.example>');
        assert.ok(row.expires_at > row.next_attempt_at);
        assert.ok(!Buffer.from(row.body).includes('Therapy notes'), 'the spool holds no clear text');
        const copy = gw.openBody(row);
        assert.equal(row.size, copy.length);
        const outer = headerSection(copy);
        assert.match(outer, /^Subject: \[\.\.\.\]$/m);
        assert.ok(!outer.includes(subject), 'the real subject is not outside');
        assert.ok(!/hidden@other\.example|^bcc:/im.test(outer), 'no Bcc outside');
        const { data, verified } = await decryptAndVerify({
          armored: armoredPart(copy),
          decryptionKey: privateKeys[i]!,
          verificationKeys: verify,
          now: new Date(),
        });
        assert.equal(verified, true);
        const inner = Buffer.from(data).toString('utf8');
        assert.ok(inner.includes(`Subject: ${subject}`) && inner.includes('Therapy notes 4711'));
        assert.ok(!/hidden@other\.example|^bcc:/im.test(headerSection(inner)), 'no Bcc inside');
      }
      assert.ok(!gw.logText().includes(subject) && !gw.logText().includes('Therapy notes'));
    });

    it('adds a Message-ID when the client sent none and records it on every row', async () => {
      gw = await startTestGateway({ kind });
      await gw.addRecipient('bob@clinic.example');
      await gw.transport().sendMail({
        envelope: { from: SENDER, to: ['bob@clinic.example'] },
        raw: rawMessage({ From: SENDER, To: 'bob@clinic.example', Subject: 'x' }, 'hi\r\n'),
      });
      const [row] = await gw.outbound();
      assert.match(row!.message_id, /^<[0-9a-f-]{36}@sealpost\.test>$/);
      assert.ok(headerSection(gw.openBody(row!)).includes(`Message-ID: ${row!.message_id}`));
    });

    it('spools the original bytes, without Bcc, for a recipient a plain rule allows', async () => {
      gw = await startTestGateway({ kind });
      await gw.deps.db.kysely
        .insertInto('policy_rules')
        .values({ id: 'r-lab', match: 'lab.example', action: 'plain', note: null, created_at: 0 })
        .execute();
      const raw = rawMessage(
        { From: SENDER, To: 'orders@lab.example', Bcc: 'secret@lab.example', Subject: 'Order' },
        'Sample 12\r\n',
      );
      await gw.transport().sendMail({ envelope: { from: SENDER, to: ['orders@lab.example'] }, raw });
      const [row] = await gw.outbound();
      assert.equal(row!.kind, 'plain');
      const copy = gw.openBody(row!).toString('utf8');
      assert.ok(copy.includes('Subject: Order') && copy.endsWith('Sample 12\r\n'));
      // A Bcc field or the hidden address; not "bcc" anywhere (a random Message-ID may contain those letters).
      assert.ok(!/^bcc:|secret@lab/im.test(copy));
    });

    it('answers 552 to a message over the size limit and the connection still works', async () => {
      gw = await startTestGateway({ kind, limits: { maxMessageBytes: 4096 } });
      await gw.addRecipient('bob@clinic.example');
      const session = await gw.session();
      try {
        await session.login();
        const envelope = { from: SENDER, to: ['bob@clinic.example'] };
        const big = rawMessage(
          { From: SENDER, To: 'bob@clinic.example', Subject: 'big' },
          'x'.repeat(10_000),
        );
        await assert.rejects(
          session.send(envelope, big),
          (err: { responseCode?: number; response?: string }) => {
            assert.equal(err.responseCode, 552);
            assert.equal(replyCode(err.response), 'GW_SIZE_EXCEEDED');
            return true;
          },
        );
        assert.equal((await gw.outbound()).length, 0);
        const ok = await session.send(
          envelope,
          rawMessage({ From: SENDER, To: 'bob@clinic.example' }, 'small\r\n'),
        );
        assert.equal(replyCode(ok.response), 'GW_ACCEPTED');
        assert.equal((await gw.outbound()).length, 1);
      } finally {
        session.close();
      }
    });

    it('refuses a message without a valid header section with 550 5.6.0', async () => {
      gw = await startTestGateway({ kind });
      await gw.addRecipient('bob@clinic.example');
      await assert.rejects(
        gw.transport().sendMail({
          envelope: { from: SENDER, to: ['bob@clinic.example'] },
          raw: 'this line is no header field\r\n\r\nbody\r\n',
        }),
        (err: { responseCode?: number; response?: string }) => {
          assert.equal(err.responseCode, 550);
          assert.match(err.response ?? '', /^550 5\.6\.0 /);
          assert.equal(replyCode(err.response), 'GW_MESSAGE_INVALID');
          return true;
        },
      );
      assert.equal((await gw.outbound()).length, 0);
    });

    it('accepts submission on the implicit-TLS port', async () => {
      gw = await startTestGateway({ kind });
      await gw.addRecipient('bob@clinic.example');
      const info = await gw.transport({ port: 'smtps' }).sendMail({
        envelope: { from: SENDER, to: ['bob@clinic.example'] },
        raw: rawMessage({ From: SENDER, To: 'bob@clinic.example', Subject: 'tls' }, 'hello\r\n'),
      });
      assert.equal(replyCode(info.response), 'GW_ACCEPTED');
      assert.equal((await gw.outbound()).length, 1);
    });

    it('still answers 250 when enqueueing fails after the commit (reconcile will find the rows)', async () => {
      gw = await startTestGateway({
        kind,
        enqueue: async () => {
          throw new Error('redis down');
        },
      });
      await gw.addRecipient('bob@clinic.example');
      const info = await gw.transport().sendMail({
        envelope: { from: SENDER, to: ['bob@clinic.example'] },
        raw: rawMessage({ From: SENDER, To: 'bob@clinic.example' }, 'hello\r\n'),
      });
      assert.equal(replyCode(info.response), 'GW_ACCEPTED');
      const [row] = await gw.outbound();
      assert.equal(row!.status, 'queued');
      assert.ok(gw.logText().includes('GW_ENQUEUE_FAILED'));
    });

    it('refuses more recipients than the limit with 452 per extra recipient', async () => {
      gw = await startTestGateway({ kind, limits: { maxRecipients: 2 } });
      for (const r of ['a', 'b', 'c']) await gw.addRecipient(`${r}@clinic.example`);
      const info = await gw.transport().sendMail({
        envelope: { from: SENDER, to: ['a@clinic.example', 'b@clinic.example', 'c@clinic.example'] },
        raw: rawMessage({ From: SENDER, To: 'a@clinic.example' }, 'hello\r\n'),
      });
      assert.deepEqual(info.rejected, ['c@clinic.example']);
      const rejected = (info as { rejectedErrors?: { responseCode?: number; response?: string }[] })
        .rejectedErrors;
      assert.equal(rejected?.[0]?.responseCode, 452);
      assert.equal(replyCode(rejected?.[0]?.response), 'GW_TOO_MANY_RECIPIENTS');
      assert.equal((await gw.outbound()).length, 2);
    });
  });
}
