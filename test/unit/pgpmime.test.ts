import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { fixedClock } from '../../core/clock.ts';
import { fieldValue, splitMessage, type HeaderField } from '../../keys/mime/mime.ts';
import {
  checkKey,
  decryptAndVerify,
  STREAM_THRESHOLD,
  type EncryptionKey,
  type SigningKey,
} from '../../keys/openpgp/index.ts';
import { buildPgpMime, OBSCURED_SUBJECT, plainCopy, prepare } from '../../keys/mime/pgpmime.ts';
import { extractArmoredPayload, gpgDecryptVerify, sqDecryptVerify } from '../helpers/interop.ts';
import {
  FIXTURE_NOW,
  fixturePair,
  freshKeyPair,
  type SecretFixture,
  type TestKeyPair,
} from '../helpers/keys.ts';

const clock = fixedClock(FIXTURE_NOW);
const SECRET_SUBJECT = 'Befund =?UTF-8?Q?M=C3=BCller?= – Termin';
const HIDDEN = 'hidden-supervisor@example.net';

/** A client's message as it arrives at submission: folded fields, Bcc, a transport field, 8-bit body. */
const BODY = Buffer.concat([
  Buffer.from(
    '--b1\r\nContent-Type: text/plain; charset=iso-8859-1\r\nContent-Transfer-Encoding: 8bit\r\n\r\n' +
      'Sehr geehrte Frau M',
    'latin1',
  ),
  Buffer.from([0xfc]), // ü in ISO-8859-1, not valid UTF-8
  Buffer.from(
    'ller,  \r\ntrailing spaces stay.\t\r\n\r\n--b1\r\nContent-Type: application/octet-stream\r\n' +
      'Content-Transfer-Encoding: base64\r\n\r\nAAECAwQFBgcICQ==\r\n--b1--\r\n',
    'latin1',
  ),
]);
const ORIGINAL = Buffer.concat([
  Buffer.from(
    [
      'Received: from client.example (client.example [192.0.2.1])\r\n\tby sealpost; Sun, 1 Jun 2025 12:00:00 +0000',
      'From: "Dr. Doc" <doc@practice.example>',
      'To: Patient <patient@example.org>',
      'Cc: colleague@example.org',
      `Bcc: ${HIDDEN}`,
      `Subject: ${SECRET_SUBJECT}\r\n and more`,
      'Date: Sun, 1 Jun 2025 12:00:00 +0200',
      'Message-ID: <m1@practice.example>',
      'MIME-Version: 1.0',
      'Content-Type: multipart/mixed;\r\n boundary="b1"',
      '',
      '',
    ].join('\r\n'),
    'utf8', // an 8-bit (SMTPUTF8) subject as some clients send it
  ),
  BODY,
]);

function fieldsOf(mail: Buffer): HeaderField[] {
  return splitMessage(mail).fields;
}

function values(fields: readonly HeaderField[], lower: string): string[] {
  return fields.filter((f) => f.lower === lower).map(fieldValue);
}

async function build(raw: Buffer, sender: TestKeyPair, recipient: EncryptionKey): Promise<Buffer> {
  const message = prepare(splitMessage(raw), {
    now: clock.now(),
    newMessageId: () => '<new@practice.example>',
  });
  return Buffer.concat(
    await buildPgpMime({
      message,
      signer: sender.signer,
      senderAddress: sender.address,
      recipientKey: recipient,
      now: clock.now(),
    }),
  );
}

async function openWith(mail: Buffer, key: SigningKey, sender: TestKeyPair) {
  return decryptAndVerify({
    armored: extractArmoredPayload(mail),
    decryptionKey: key,
    verificationKeys: [sender.encryption],
    now: clock.now(),
  });
}

describe('keys/pgpmime: buildPgpMime', () => {
  let sender: TestKeyPair;
  let recipient: Awaited<ReturnType<typeof fixturePair>>;
  let mail: Buffer;

  before(async () => {
    sender = await freshKeyPair('doc@practice.example', clock.now());
    recipient = await fixturePair('gpg25519');
    mail = await build(ORIGINAL, sender, recipient.pub);
  });

  it('has an RFC 3156 outer structure with the routing fields and the obscured subject', () => {
    const outer = fieldsOf(mail);
    assert.deepEqual(values(outer, 'subject'), [OBSCURED_SUBJECT]);
    assert.deepEqual(values(outer, 'from'), ['"Dr. Doc" <doc@practice.example>']);
    assert.deepEqual(values(outer, 'to'), ['Patient <patient@example.org>']);
    assert.deepEqual(values(outer, 'cc'), ['colleague@example.org']);
    assert.deepEqual(values(outer, 'date'), ['Sun, 1 Jun 2025 12:00:00 +0200']);
    assert.deepEqual(values(outer, 'message-id'), ['<m1@practice.example>']);
    assert.deepEqual(values(outer, 'mime-version'), ['1.0']);
    assert.match(values(outer, 'content-type')[0] ?? '', /^multipart\/encrypted;/);
    assert.doesNotThrow(() => extractArmoredPayload(mail));
  });

  it('shows neither Bcc nor the subject nor any body text outside the encryption', () => {
    const text = mail.toString('latin1');
    assert.deepEqual(values(fieldsOf(mail), 'bcc'), []);
    assert.equal(text.toLowerCase().includes(HIDDEN), false);
    assert.equal(text.includes('Befund'), false);
    assert.equal(text.includes('Sehr geehrte'), false);
    assert.equal(text.includes('Received:'), false);
  });

  it('the payload is the original message: fields minus Bcc, hp params, HP-Outer, body byte for byte', async () => {
    const out = await openWith(mail, recipient.sec, sender);
    const inner = splitMessage(Buffer.from(out.data));
    const original = splitMessage(ORIGINAL);
    assert.ok(inner.body.equals(original.body), 'the body is byte for byte the original');
    assert.ok(inner.body.equals(BODY));

    const kept = original.fields.filter((f) => !['bcc', 'received', 'return-path'].includes(f.lower));
    const innerOwn = inner.fields.filter((f) => f.lower !== 'hp-outer');
    assert.deepEqual(
      innerOwn.map((f) => f.name),
      kept.map((f) => f.name),
    );
    for (const [i, field] of kept.entries()) {
      const got = innerOwn[i]!.raw.toString('latin1');
      if (field.lower === 'content-type') {
        assert.equal(
          got,
          'Content-Type: multipart/mixed;\r\n boundary="b1";\r\n hp="cipher"; protected-headers="v1"\r\n',
        );
      } else {
        assert.equal(got, field.raw.toString('latin1'), `${field.name} is kept byte for byte`);
      }
    }
    assert.deepEqual(values(inner.fields, 'bcc'), []);
    assert.equal(Buffer.from(out.data).toString('latin1').includes(HIDDEN), false);

    const hpOuter = values(inner.fields, 'hp-outer');
    assert.deepEqual(hpOuter, [
      'Date: Sun, 1 Jun 2025 12:00:00 +0200',
      'From: "Dr. Doc" <doc@practice.example>',
      'To: Patient <patient@example.org>',
      'Cc: colleague@example.org',
      'Message-ID: <m1@practice.example>',
      `Subject: ${OBSCURED_SUBJECT}`,
    ]);
  });

  it('is signed by the sender and encrypted to both recipient and sender', async () => {
    const forRecipient = await openWith(mail, recipient.sec, sender);
    assert.equal(forRecipient.verified, true);
    assert.equal(forRecipient.signedBy, sender.signer.fingerprint.slice(-16));
    const forSender = await openWith(mail, sender.signer, sender);
    assert.equal(forSender.verified, true);
    assert.ok(Buffer.from(forSender.data).equals(Buffer.from(forRecipient.data)));
    const stranger = await freshKeyPair('stranger@example.org', clock.now());
    await assert.rejects(openWith(mail, stranger.signer, sender));
    const notBySender = await decryptAndVerify({
      armored: extractArmoredPayload(mail),
      decryptionKey: recipient.sec,
      verificationKeys: [stranger.encryption],
      now: clock.now(),
    });
    assert.equal(notBySender.verified, false);
  });

  it('advertises the sender public key in a parseable Autocrypt header', async () => {
    const autocrypt = values(fieldsOf(mail), 'autocrypt');
    assert.equal(autocrypt.length, 1);
    const attrs = new Map(
      autocrypt[0]!.split(';').map((a) => {
        const eq = a.indexOf('=');
        return [a.slice(0, eq).trim(), a.slice(eq + 1).trim()] as const;
      }),
    );
    assert.equal(attrs.get('addr'), 'doc@practice.example');
    assert.equal(attrs.get('prefer-encrypt'), 'mutual');
    const keydata = Buffer.from((attrs.get('keydata') ?? '').replace(/\s+/g, ''), 'base64');
    const check = await checkKey(keydata, clock.now());
    assert.equal(check.usable, true);
    assert.equal(check.facts?.fingerprint, sender.signer.fingerprint);
    assert.equal(check.facts?.isPrivate, false);
    assert.deepEqual(check.facts?.emails, ['doc@practice.example']);
  });

  it('fills in Date and Message-ID the client left out, the same outside and inside', async () => {
    const raw = Buffer.from(
      'From: doc@practice.example\r\nTo: patient@example.org\r\nSubject: s\r\n\r\nhi\r\n',
    );
    const built = await build(raw, sender, recipient.pub);
    const outer = fieldsOf(built);
    assert.deepEqual(values(outer, 'message-id'), ['<new@practice.example>']);
    assert.deepEqual(values(outer, 'date'), ['Sun, 01 Jun 2025 12:00:00 +0000']);
    const inner = splitMessage(Buffer.from((await openWith(built, recipient.sec, sender)).data));
    assert.deepEqual(values(inner.fields, 'message-id'), ['<new@practice.example>']);
    assert.deepEqual(values(inner.fields, 'date'), ['Sun, 01 Jun 2025 12:00:00 +0000']);
    // No Content-Type from the client: the payload says text/plain and carries the hp parameters.
    assert.deepEqual(values(inner.fields, 'content-type'), [
      'text/plain; charset=us-ascii; hp="cipher"; protected-headers="v1"',
    ]);
    assert.equal(inner.body.toString('latin1'), 'hi\r\n');
  });

  it('plainCopy drops Bcc and keeps everything else byte for byte', () => {
    const copy = Buffer.concat(
      plainCopy(prepare(splitMessage(ORIGINAL), { now: clock.now(), newMessageId: () => '<x@y>' })),
    );
    assert.equal(copy.toString('latin1').includes(HIDDEN), false);
    assert.ok(copy.subarray(copy.length - BODY.length).equals(BODY));
    assert.deepEqual(values(fieldsOf(copy), 'subject'), [`${SECRET_SUBJECT} and more`]);
  });
});

describe('keys/pgpmime: interop with GnuPG and Sequoia (the same built message)', function () {
  this.timeout(120_000);
  let sender: TestKeyPair;

  before(async () => {
    sender = await freshKeyPair('doc@practice.example', clock.now());
  });

  async function expectInner(mail: Buffer, plaintext: Buffer, key: SigningKey) {
    const ours = await openWith(mail, key, sender);
    assert.ok(plaintext.equals(Buffer.from(ours.data)), 'the other tool decrypts to the same payload');
    assert.ok(splitMessage(plaintext).body.equals(BODY));
  }

  const recipients: { name: SecretFixture; tools: ('gpg' | 'sq')[] }[] = [
    { name: 'gpg25519', tools: ['gpg', 'sq'] },
    { name: 'sq25519', tools: ['gpg', 'sq'] },
    { name: 'rsa3072', tools: ['gpg', 'sq'] },
  ];
  for (const { name, tools } of recipients) {
    for (const tool of tools) {
      it(`${tool} decrypts and verifies a message to the ${name} key`, async () => {
        const recipient = await fixturePair(name);
        const mail = await build(ORIGINAL, sender, recipient.pub);
        const decrypt = tool === 'gpg' ? gpgDecryptVerify : sqDecryptVerify;
        const result = await decrypt({
          message: mail,
          recipientSecretKeyArmored: recipient.armoredSecret,
          senderPublicKeyArmored: sender.publicKey,
        });
        assert.equal(result.goodSignature, true, result.diagnostics);
        assert.equal(result.signerFingerprint, sender.signer.fingerprint);
        await expectInner(mail, result.plaintext, recipient.sec);
      });
    }
  }

  // Above STREAM_THRESHOLD openpgp.js runs on streams (partial body lengths): the other tools must read
  // that output just the same, and the payload must come back byte for byte.
  for (const tool of ['gpg', 'sq'] as const) {
    it(`${tool} decrypts and verifies a streamed (3 MB) message byte for byte`, async () => {
      const recipient = await fixturePair('gpg25519');
      const attachment = randomBytes(2_300_000).toString('base64').replace(/.{76}/g, '$&\r\n');
      const big = Buffer.concat([
        Buffer.from(
          'From: doc@practice.example\r\nTo: patient@example.org\r\nSubject: big\r\n' +
            'Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
        ),
        Buffer.from(attachment),
      ]);
      assert.ok(big.length > STREAM_THRESHOLD * 2);
      const mail = await build(big, sender, recipient.pub);
      const decrypt = tool === 'gpg' ? gpgDecryptVerify : sqDecryptVerify;
      const result = await decrypt({
        message: mail,
        recipientSecretKeyArmored: recipient.armoredSecret,
        senderPublicKeyArmored: sender.publicKey,
      });
      assert.equal(result.goodSignature, true, result.diagnostics);
      assert.ok(splitMessage(result.plaintext).body.equals(splitMessage(big).body));
    });
  }

  for (const tool of ['gpg', 'sq'] as const) {
    it(`${tool} opens the sender's own copy with the sender key`, async () => {
      const recipient = await fixturePair('gpg25519');
      const mail = await build(ORIGINAL, sender, recipient.pub);
      const decrypt = tool === 'gpg' ? gpgDecryptVerify : sqDecryptVerify;
      const result = await decrypt({
        message: mail,
        recipientSecretKeyArmored: sender.privateKey,
        senderPublicKeyArmored: sender.publicKey,
      });
      assert.equal(result.goodSignature, true, result.diagnostics);
      await expectInner(mail, result.plaintext, sender.signer);
    });

    it(`${tool} does not call it a good signature when the signer cert is someone else's`, async () => {
      const recipient = await fixturePair('gpg25519');
      const mail = await build(ORIGINAL, sender, recipient.pub);
      const stranger = await freshKeyPair('stranger@example.org', clock.now());
      const decrypt = tool === 'gpg' ? gpgDecryptVerify : sqDecryptVerify;
      const result = await decrypt({
        message: mail,
        recipientSecretKeyArmored: recipient.armoredSecret,
        senderPublicKeyArmored: stranger.publicKey,
      });
      assert.equal(result.goodSignature, false, result.diagnostics);
      assert.equal(result.signerFingerprint === sender.signer.fingerprint, false);
    });

    it(`${tool} refuses a corrupted ciphertext`, async () => {
      const recipient = await fixturePair('gpg25519');
      const armored = extractArmoredPayload(await build(ORIGINAL, sender, recipient.pub));
      const lines = armored.split('\r\n');
      const i = Math.floor(lines.length / 2);
      const line = lines[i]!;
      lines[i] = (line[0] === 'A' ? 'B' : 'A') + line.slice(1);
      const decrypt = tool === 'gpg' ? gpgDecryptVerify : sqDecryptVerify;
      await assert.rejects(
        decrypt({
          message: Buffer.from(lines.join('\r\n')),
          recipientSecretKeyArmored: recipient.armoredSecret,
          senderPublicKeyArmored: sender.publicKey,
        }),
      );
    });
  }
});
