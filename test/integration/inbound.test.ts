import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { simpleParser, type ParsedMail } from 'mailparser';
import { testDbKinds } from '../helpers/db.ts';
import { dkimDomain, dkimResolver, dkimSigned } from '../helpers/dkim.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { fixtureAddress, fixturePublicKey, fixtureSecretKey } from '../helpers/keys.ts';
import { peer, pgpMimeMail, type PeerTool } from '../helpers/peers.ts';

/**
 * A colleague answers from a mail program built on GnuPG or Sequoia: the reply is encrypted to Anna's
 * sender key (and signed, or not). Through the inbound listener it must reach the practice's server — the
 * sink — decrypted, with its real subject, its attachment byte for byte, and the right signature verdict.
 */
const SUBJECT = 'Re: Befund Frau M. 4711';
const TEXT = 'Liebe Anna,\r\nder Befund liegt bei. Herzliche Grüße\r\n';

function crlf(lines: string[]): string {
  return lines.join('\r\n');
}

function base64Lines(data: Buffer): string {
  return (data.toString('base64').match(/.{1,76}/g) ?? []).join('\r\n');
}

/** The inner MIME entity a mail program encrypts: protected headers, a text part and a PDF attachment. */
function innerEntity(from: string, attachment: Buffer, text = TEXT): Buffer {
  const b = `inner-${randomBytes(6).toString('hex')}`;
  return Buffer.from(
    crlf([
      `Content-Type: multipart/mixed; boundary="${b}"; protected-headers="v1"`,
      `Subject: ${SUBJECT}`,
      `From: Dr. Kollege <${from}>`,
      `To: <${ANNA}>`,
      '',
      `--${b}`,
      'Content-Type: text/plain; charset=utf-8',
      'Content-Transfer-Encoding: 8bit',
      '',
      text,
      `--${b}`,
      'Content-Type: application/pdf; name="befund.pdf"',
      'Content-Disposition: attachment; filename="befund.pdf"',
      'Content-Transfer-Encoding: base64',
      '',
      base64Lines(attachment),
      `--${b}--`,
      '',
    ]),
    'utf8',
  );
}

/** RFC 3156 §5 inside the encryption: multipart/signed over `part`, signature made over `signedBytes`. */
async function signedEntity(tool: PeerTool, part: Buffer, signedBytes: Buffer, signer: string) {
  const signature = await peer[tool].detachSign(signedBytes, signer);
  const b = `signed-${randomBytes(6).toString('hex')}`;
  return Buffer.concat([
    Buffer.from(
      crlf([
        `Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="${b}"`,
        '',
        `--${b}`,
        '',
      ]),
    ),
    part,
    Buffer.from(
      crlf([
        '',
        `--${b}`,
        'Content-Type: application/pgp-signature; name="signature.asc"',
        '',
        signature.replace(/\r?\n/g, '\r\n').trimEnd(),
        `--${b}--`,
        '',
      ]),
    ),
  ]);
}

type Case = 'valid' | 'valid-detached' | 'invalid' | 'unknown-key' | 'unsigned';

const FIXTURE: Record<PeerTool, 'gpg25519' | 'sq25519'> = { gpg: 'gpg25519', sq: 'sq25519' };

async function reply(gw: TestInbound, tool: PeerTool, which: Case, attachment: Buffer): Promise<Buffer> {
  const name = FIXTURE[tool];
  const from = fixtureAddress(name);
  const signer = fixtureSecretKey(name);
  const to = gw.publicKeys[ANNA]!;
  let payload = innerEntity(from, attachment);
  if (which === 'valid-detached') payload = await signedEntity(tool, payload, payload, signer);
  if (which === 'invalid') {
    const tampered = innerEntity(from, attachment, TEXT.replace('liegt bei', 'liegt NICHT bei'));
    payload = await signedEntity(tool, tampered, payload, signer);
  }
  const sign = which === 'valid' || which === 'unknown-key';
  const armored = await peer[tool].encrypt({ data: payload, to, ...(sign ? { signer } : {}) });
  return pgpMimeMail({ armored, from: `Dr. Kollege <${from}>`, to: ANNA });
}

function securityHeaders(raw: Buffer): string[] {
  const head = raw
    .toString('utf8')
    .split(/\r\n\r\n/)[0]!
    .replace(/\r\n[ \t]+/g, ' ');
  return head
    .split('\r\n')
    .filter((l) => /^sealpost-security:/i.test(l))
    .map((l) => l.slice(l.indexOf(':') + 1).trim());
}

const EXPECTED: Record<Case, { header: RegExp; line: RegExp }> = {
  valid: { header: /^decrypted; signature=valid; signer=\S+; key=[0-9A-F]{40}$/, line: /Signatur geprüft/ },
  'valid-detached': { header: /^decrypted; signature=valid; /, line: /Signatur geprüft/ },
  invalid: {
    header: /^decrypted; signature=invalid; key-id=[0-9A-F]{16}$/,
    line: /ACHTUNG: Die Signatur ist ungültig/,
  },
  'unknown-key': {
    header: /^decrypted; signature=unknown-key; key-id=[0-9A-F]{16}$/,
    line: /unbekannten Schlüssel/,
  },
  unsigned: { header: /^decrypted; signature=none$/, line: /Nicht signiert/ },
};

for (const kind of testDbKinds()) {
  describe(`inbound: encrypted replies from real peers reach the practice decrypted (${kind})`, function () {
    this.timeout(120_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    for (const tool of ['gpg', 'sq'] as const) {
      for (const which of Object.keys(EXPECTED) as Case[]) {
        it(`${tool}: ${which}`, async () => {
          gw = await startTestInbound({ kind });
          const name = FIXTURE[tool];
          if (which !== 'unknown-key') await gw.keys.importKeys(fixturePublicKey(name));
          const attachment = randomBytes(20_000);
          const mail = await reply(gw, tool, which, attachment);
          const info = await gw.send({ from: fixtureAddress(name), to: [ANNA] }, mail);
          assert.match(info.response, /^250 2\.0\.0 .*\[IN_RELAYED\]$/);

          const [got] = await gw.sink.waitFor(1);
          assert.ok(got!.secure, 'relayed to the practice server over TLS');
          assert.deepEqual(got!.to, [ANNA]);
          assert.ok(!got!.raw.includes('BEGIN PGP MESSAGE'), 'no ciphertext left');
          const headers = securityHeaders(got!.raw);
          assert.equal(headers.length, 1, 'exactly one Sealpost-Security field');
          assert.match(headers[0]!, EXPECTED[which].header);
          if (which === 'valid') {
            const fpr = (await gw.keys.recipientKey(fixtureAddress(name))) as { fingerprint: string };
            assert.ok(headers[0]!.endsWith(`key=${fpr.fingerprint}`), headers[0]);
          }
          const parsed: ParsedMail = await simpleParser(got!.raw);
          assert.equal(parsed.subject, SUBJECT, 'the protected subject is restored');
          const text = parsed.text ?? '';
          assert.ok(text.startsWith('[Sealpost] Verschlüsselt empfangen.'), text.slice(0, 200));
          assert.match(text.split('\n')[0]!, EXPECTED[which].line);
          assert.ok(text.includes(which === 'invalid' ? 'liegt NICHT bei' : 'liegt bei'));
          assert.equal(parsed.attachments.length, 1);
          assert.equal(parsed.attachments[0]!.filename, 'befund.pdf');
          assert.ok(parsed.attachments[0]!.content.equals(attachment), 'attachment byte for byte');
          assert.ok(
            !gw.logText().includes('Befund') && !gw.logText().includes('liegt'),
            'no content in logs',
          );
        });
      }
    }

    it('decrypts a whole-body inline PGP message (gpg --armor) into a text/plain body', async () => {
      gw = await startTestInbound({ kind, config: { inbound: { language: 'en' } } });
      await gw.keys.importKeys(fixturePublicKey('gpg25519'));
      const from = fixtureAddress('gpg25519');
      const armored = await peer.gpg.encrypt({
        data: Buffer.from('Inline reply 4711 with ümlauts\n', 'utf8'),
        to: gw.publicKeys[ANNA]!,
        signer: fixtureSecretKey('gpg25519'),
      });
      const mail = crlf([`From: <${from}>`, `To: <${ANNA}>`, 'Subject: inline', '', armored]);
      await gw.send({ from, to: [ANNA] }, mail);
      const [got] = await gw.sink.waitFor(1);
      const parsed = await simpleParser(got!.raw);
      assert.match(securityHeaders(got!.raw)[0]!, /^decrypted; signature=valid; /);
      assert.match(parsed.text ?? '', /^\[Sealpost\] Received encrypted\. Signed by gpg25519@example\.org/);
      assert.ok((parsed.text ?? '').includes('Inline reply 4711 with ümlauts'));
    });

    it("verifies a signature made by a clock a few minutes ahead of ours (no false 'invalid')", async () => {
      gw = await startTestInbound({ kind });
      await gw.keys.importKeys(fixturePublicKey('gpg25519'));
      const from = fixtureAddress('gpg25519');
      const armored = await peer.gpg.encrypt({
        data: innerEntity(from, randomBytes(10)),
        to: gw.publicKeys[ANNA]!,
        signer: fixtureSecretKey('gpg25519'),
        clock: new Date(Date.now() + 4 * 60 * 1000),
      });
      await gw.send({ from, to: [ANNA] }, pgpMimeMail({ armored, from, to: ANNA }));
      const [got] = await gw.sink.waitFor(1);
      assert.match(securityHeaders(got!.raw)[0]!, /^decrypted; signature=valid; /);
    });

    it('passes an unencrypted message through unchanged but for the trace and security fields', async () => {
      gw = await startTestInbound({ kind });
      const body = 'Plain text stays as it came.\r\n..a dot line\r\n';
      const mail = crlf(['From: <someone@other.example>', `To: <${ANNA}>`, 'Subject: plain', '', body]);
      await gw.send({ from: 'someone@other.example', to: [ANNA] }, mail);
      const [got] = await gw.sink.waitFor(1);
      const text = got!.raw.toString('utf8');
      assert.ok(text.endsWith(mail.slice(mail.indexOf('From:'))), 'original bytes follow our fields');
      assert.match(text, /^Received: from mx\.clinic\.example \(\[127\.0\.0\.1\]\)\r\n\tby sealpost\.test/);
      assert.deepEqual(securityHeaders(got!.raw), ['not-encrypted']);
    });

    it('relays mail encrypted to a key Sealpost does not hold unchanged', async () => {
      gw = await startTestInbound({ kind });
      const armored = await peer.sq.encrypt({
        data: innerEntity('x@clinic.example', randomBytes(10)),
        to: fixturePublicKey('gpg25519'),
      });
      const mail = pgpMimeMail({ armored, from: 'x@clinic.example', to: ANNA });
      await gw.send({ from: 'x@clinic.example', to: [ANNA] }, mail);
      const [got] = await gw.sink.waitFor(1);
      assert.deepEqual(securityHeaders(got!.raw), ['not-decrypted; reason=not-for-us']);
      assert.ok(got!.raw.includes(mail.subarray(mail.indexOf('From:'))), 'the original, byte for byte');
    });

    it('decrypts only for the recipients whose key the message is encrypted to', async () => {
      gw = await startTestInbound({ kind });
      const armored = await peer.gpg.encrypt({
        data: innerEntity('x@clinic.example', randomBytes(10)),
        to: gw.publicKeys[ANNA]!,
      });
      const mail = pgpMimeMail({ armored, from: 'x@clinic.example', to: ANNA });
      await gw.send({ from: 'x@clinic.example', to: [ANNA, 'bob@praxis.example'] }, mail);
      const got = await gw.sink.waitFor(2);
      const forAnna = got.find((m) => m.to.includes(ANNA))!;
      const forBob = got.find((m) => m.to.includes('bob@praxis.example'))!;
      assert.deepEqual(forAnna.to, [ANNA]);
      assert.match(securityHeaders(forAnna.raw)[0]!, /^decrypted; /);
      assert.deepEqual(securityHeaders(forBob.raw), ['not-decrypted; reason=not-for-us']);
      assert.ok(forBob.raw.includes('BEGIN PGP MESSAGE') && !forBob.raw.includes('Befund'));
    });

    it('records a proven Autocrypt key of the From address and verifies the next message with it', async () => {
      // Proven: DKIM aligned with the From domain, and the message signed by the offered key.
      const domain = dkimDomain('example.org');
      gw = await startTestInbound({ kind, dns: dkimResolver([domain]) });
      const name = 'sq25519';
      const from = fixtureAddress(name);
      const keydata = Buffer.from(
        fixturePublicKey(name)
          .split(/\r?\n\r?\n/)[1]!
          .replace(/^=.*$/m, '')
          .replace(/-----END[\s\S]*/, '')
          .replace(/\s+/g, ''),
        'base64',
      );
      const header = `Autocrypt: addr=${from}; prefer-encrypt=mutual; keydata=${keydata.toString('base64')}`;
      const send = async () => {
        const armored = await peer.sq.encrypt({
          data: innerEntity(from, randomBytes(10)),
          to: gw!.publicKeys[ANNA]!,
          signer: fixtureSecretKey(name),
        });
        await gw!.send(
          { from, to: [ANNA] },
          await dkimSigned(pgpMimeMail({ armored, from, to: ANNA, extraHeaders: [header] }), domain),
        );
      };
      await send();
      await send();
      const got = await gw.sink.waitFor(2);
      assert.match(securityHeaders(got[0]!.raw)[0]!, /signature=unknown-key/, 'its own key proves nothing');
      assert.match(securityHeaders(got[1]!.raw)[0]!, /signature=valid/);
      const status = await gw.keys.recipientKey(from);
      assert.equal(status.state, 'usable');
      assert.equal((status as { source: string }).source, 'autocrypt');
    });
  });
}
