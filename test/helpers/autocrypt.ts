import { randomBytes } from 'node:crypto';
import * as openpgp from 'openpgp';
import { pgpMimeMail } from './peers.ts';

/**
 * Someone who writes to the practice with an Autocrypt header (a colleague, or an attacker pretending to
 * be one): a key pair made here, and mails that offer its public key — clear RFC 3156 multipart/signed, or
 * PGP/MIME encrypted to a Sealpost sender key — signed by any key the test names (or not at all).
 */
export interface TestKey {
  fingerprint: string;
  publicKey: string;
  secretKey: string;
  /** The binary public key, as an Autocrypt header carries it. */
  binary: Uint8Array;
}

export async function testKey(emails: readonly string[]): Promise<TestKey> {
  const { publicKey, privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: emails.map((email) => ({ email })),
    format: 'armored',
  });
  const key = await openpgp.readKey({ armoredKey: publicKey });
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    publicKey,
    secretKey: privateKey,
    binary: key.write(),
  };
}

/** `Autocrypt: addr=…; prefer-encrypt=mutual; keydata=…` (folded). */
export function autocryptHeader(addr: string, binary: Uint8Array): string {
  const b64 = Buffer.from(binary).toString('base64');
  return `Autocrypt: addr=${addr}; prefer-encrypt=mutual; keydata=\r\n ${(b64.match(/.{1,76}/g) ?? []).join('\r\n ')}`;
}

export interface MailInput {
  from: string;
  to: string;
  /** The armored secret key that signs the content; unsigned when absent. */
  signer?: string;
  /** Header fields on top (Autocrypt, …), without line ends. */
  headers?: string[];
  text?: string;
}

async function detachedSignature(data: Buffer, signer: string): Promise<string> {
  const signingKeys = await openpgp.readPrivateKey({ armoredKey: signer });
  const message = await openpgp.createMessage({ binary: data });
  return openpgp.sign({ message, signingKeys, detached: true, format: 'armored' });
}

/** A clear mail: multipart/signed (RFC 3156) when `signer` is given, else a plain text/plain mail. */
export async function clearMail(input: MailInput): Promise<Buffer> {
  const text = input.text ?? 'Hallo Anna,\r\nanbei mein Schlüssel.\r\n';
  const head = [
    `From: Kollege <${input.from}>`,
    `To: <${input.to}>`,
    'Subject: Hallo',
    'Date: Mon, 23 Nov 2026 10:00:00 +0100',
    `Message-ID: <${randomBytes(8).toString('hex')}@clinic.example>`,
    ...(input.headers ?? []),
    'MIME-Version: 1.0',
  ];
  if (!input.signer) {
    return Buffer.from([...head, 'Content-Type: text/plain; charset=utf-8', '', text].join('\r\n'), 'utf8');
  }
  const b = `signed-${randomBytes(6).toString('hex')}`;
  const part = Buffer.from(`Content-Type: text/plain; charset=utf-8\r\n\r\n${text}`, 'utf8');
  const signature = await detachedSignature(part, input.signer);
  return Buffer.concat([
    Buffer.from(
      [
        ...head,
        `Content-Type: multipart/signed; micalg=pgp-sha256; protocol="application/pgp-signature"; boundary="${b}"`,
        '',
        `--${b}`,
        '',
      ].join('\r\n'),
      'utf8',
    ),
    part,
    Buffer.from(
      [
        '',
        `--${b}`,
        'Content-Type: application/pgp-signature; name="signature.asc"',
        '',
        signature.replace(/\r?\n/g, '\r\n').trimEnd(),
        `--${b}--`,
        '',
      ].join('\r\n'),
      'utf8',
    ),
  ]);
}

/** PGP/MIME encrypted to `encryptTo` (armored public key), signed (inside, combined) by `signer`. */
export async function encryptedMail(input: MailInput & { encryptTo: string }): Promise<Buffer> {
  const inner = Buffer.from(
    `Content-Type: text/plain; charset=utf-8\r\n\r\n${input.text ?? 'Vertraulich: der Befund.\r\n'}`,
    'utf8',
  );
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ binary: inner }),
    encryptionKeys: await openpgp.readKey({ armoredKey: input.encryptTo }),
    ...(input.signer ? { signingKeys: await openpgp.readPrivateKey({ armoredKey: input.signer }) } : {}),
    format: 'armored',
  });
  return pgpMimeMail({
    armored,
    from: `Kollege <${input.from}>`,
    to: input.to,
    ...(input.headers ? { extraHeaders: input.headers } : {}),
  });
}

/** A whole-body inline PGP message (text/plain, the armored block alone), encrypted to `encryptTo`. */
export async function inlineEncryptedMail(input: MailInput & { encryptTo: string }): Promise<Buffer> {
  const armored = await openpgp.encrypt({
    message: await openpgp.createMessage({ text: input.text ?? 'Vertraulich.\r\n' }),
    encryptionKeys: await openpgp.readKey({ armoredKey: input.encryptTo }),
    ...(input.signer ? { signingKeys: await openpgp.readPrivateKey({ armoredKey: input.signer }) } : {}),
    format: 'armored',
  });
  const head = [
    `From: Kollege <${input.from}>`,
    `To: <${input.to}>`,
    'Subject: [...]',
    ...(input.headers ?? []),
  ];
  return Buffer.from([...head, '', armored.replace(/\r?\n/g, '\r\n')].join('\r\n'), 'utf8');
}
