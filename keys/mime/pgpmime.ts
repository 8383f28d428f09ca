import { randomBytes } from 'node:crypto';
import { authorProblem } from './author.ts';
import { readAtEdge } from './edge.ts';
import {
  appendParams,
  findField,
  foldedBase64,
  getValue,
  makeField,
  MimeError,
  withCrlf,
  type SplitMessage,
} from './mime.ts';
import { inThreadSignEncrypt, type SignEncrypt } from '../sign-encrypt.ts';
import {
  binaryPublic,
  decryptInbound,
  parseEncryptionKey,
  STREAM_THRESHOLD,
  type ArmorSink,
  type EncryptionKey,
  type InboundProblem,
  type SignatureVerdict,
  type SigningKey,
} from '../openpgp/index.ts';
import { rfc5322Date } from '../../core/rfc5322-date.ts';

/**
 * RFC 3156 PGP/MIME output with RFC 9788 header protection.
 *
 * The cryptographic payload is the original message as the client sent it: its header fields (but Bcc and
 * transport fields) and its body, byte for byte. Only the top Content-Type gains `hp="cipher"` (RFC 9788)
 * and `protected-headers="v1"` (what Thunderbird and K-9 understand today), and `HP-Outer` fields record
 * what the outer header shows. The outer message carries the routing fields and the obscured subject.
 */
export const OBSCURED_SUBJECT = '[...]';

/** Fields that never travel in an outgoing copy: Bcc would reveal hidden recipients. */
const DROP_ALWAYS = new Set(['bcc', 'resent-bcc']);
/** Transport fields of the submission hop; the next hop adds its own. */
const DROP_FROM_PAYLOAD = new Set(['return-path', 'received', 'x-originating-ip']);
/** Copied from the original onto the outer message (raw bytes), in this order, when present. */
const OUTER_FIELDS = [
  'date',
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'message-id',
  'in-reply-to',
  'references',
];
const CRLF = Buffer.from('\r\n');

export interface PreparedMessage {
  split: SplitMessage;
  /** Date and Message-ID fields added when the client sent none (shared by every copy). */
  added: Buffer[];
  messageId: string;
}

/**
 * Fill in Date and Message-ID when the client left them out, so that every copy and the sent folder agree;
 * and From (`author`, the envelope sender the gateway checked) when there is none, as an MTA does for a
 * message without one (RFC 5322 §3.6 requires it; receivers refuse mail without it).
 */
export function prepare(
  split: SplitMessage,
  input: { now: Date; newMessageId: () => string; author?: string },
): PreparedMessage {
  const added: Buffer[] = [];
  if (input.author && !findField(split.fields, 'from')) added.push(makeField('From', input.author));
  let messageId = getValue(split.fields, 'message-id');
  if (!messageId) {
    messageId = input.newMessageId();
    added.push(makeField('Message-ID', messageId));
  }
  if (!findField(split.fields, 'date')) added.push(makeField('Date', rfc5322Date(input.now)));
  return { split, added, messageId };
}

/**
 * The original message as one recipient's copy: Bcc removed, added fields in, body untouched. Returned as
 * parts (header block, body) in order: the body is not copied.
 */
export function plainCopy(message: PreparedMessage): Buffer[] {
  const fields = message.split.fields.filter((f) => !DROP_ALWAYS.has(f.lower)).map((f) => withCrlf(f.raw));
  return [Buffer.concat([...message.added, ...fields, CRLF]), message.split.body];
}

/** The payload as parts (header block, then the body as it came): a large body is never copied here. */
function payload(message: PreparedMessage, outerFields: Buffer[]): Buffer[] {
  const parts: Buffer[] = [];
  let sawContentType = false;
  for (const field of message.split.fields) {
    if (DROP_ALWAYS.has(field.lower) || DROP_FROM_PAYLOAD.has(field.lower)) continue;
    if (field.lower === 'content-type') {
      sawContentType = true;
      parts.push(appendParams(field, 'hp="cipher"; protected-headers="v1"'));
    } else {
      parts.push(withCrlf(field.raw));
    }
  }
  if (!sawContentType) {
    parts.push(
      makeField('Content-Type', 'text/plain; charset=us-ascii; hp="cipher"; protected-headers="v1"'),
    );
  }
  // RFC 9788 §2.2.1: HP-Outer records each outer field's exact value, the obscured Subject included.
  for (const raw of outerFields) parts.push(Buffer.from(`HP-Outer: ${raw.toString('latin1')}`, 'latin1'));
  return [Buffer.concat([...message.added, ...parts, CRLF]), message.split.body];
}

export function autocryptHeader(address: string, signer: SigningKey): Buffer {
  return Buffer.from(
    `Autocrypt: addr=${address}; prefer-encrypt=mutual; keydata=\r\n ${keydata(signer)}\r\n`,
    'latin1',
  );
}

/** The folded base64 of the signer's public key, once per key object (not once per message). */
const keydataOf = new WeakMap<object, string>();
function keydata(signer: SigningKey): string {
  let text = keydataOf.get(signer.publicKey);
  if (text === undefined) {
    text = foldedBase64(binaryPublic(signer.publicKey));
    keydataOf.set(signer.publicKey, text);
  }
  return text;
}

export interface BuildPgpMimeInput {
  message: PreparedMessage;
  signer: SigningKey;
  /** The sender address advertised in the Autocrypt header. */
  senderAddress: string;
  /** The recipient's key; the sender's own key is added so that the sent copy stays readable. */
  recipientKey: EncryptionKey;
  now: Date;
  /** Where the OpenPGP work runs (keys/sign-encrypt.ts); default: this thread. */
  signEncrypt?: SignEncrypt;
  /**
   * Where a large copy goes as it is built (the spool's chunk writer): when the payload is above
   * STREAM_THRESHOLD the whole copy, header to closing delimiter, is written here in order and [] is
   * returned. A small copy ignores it and comes back as parts.
   */
  sink?: ArmorSink;
}

/**
 * Build one recipient's RFC 3156 multipart/encrypted message, as parts in order (header, MIME preamble,
 * armor chunks, closing delimiter), so that a large message is not joined into one more buffer before it
 * is sealed.
 */
export async function buildPgpMime(input: BuildPgpMimeInput): Promise<Buffer[]> {
  const { message } = input;
  const outer: Buffer[] = [...message.added];
  for (const name of OUTER_FIELDS) {
    for (const field of message.split.fields) if (field.lower === name) outer.push(withCrlf(field.raw));
  }
  const subject = makeField('Subject', OBSCURED_SUBJECT);
  outer.push(subject);
  const hpOuter = outer.filter((f) => /^(date|from|to|cc|message-id|subject):/i.test(f.toString('latin1')));
  const signEncrypt = input.signEncrypt ?? inThreadSignEncrypt;
  const parts = payload(message, hpOuter);
  const request = {
    parts,
    to: [input.recipientKey, { fingerprint: input.signer.fingerprint, key: input.signer.publicKey }],
    signer: input.signer,
    now: input.now,
  };
  const fields = [...outer, autocryptHeader(input.senderAddress, input.signer)];
  const sink = input.sink;
  if (sink && parts.reduce((n, p) => n + p.length, 0) > STREAM_THRESHOLD) {
    const envelope = encryptedEnvelope(fields);
    for (const part of envelope.head) await sink(part);
    let lastByte: number | undefined;
    const rest = await signEncrypt(request, 'armored-crlf', async (chunk) => {
      if (chunk.length > 0) lastByte = chunk[chunk.length - 1];
      await sink(chunk);
    });
    // Fail closed: armor handed back instead of to the sink would be lost (an empty message sent).
    if (rest.length > 0) throw new Error('streamed armor returned as parts');
    await sink(envelope.after(lastByte));
    return [];
  }
  return wrapEncrypted(fields, await signEncrypt(request, 'armored-crlf'));
}

/**
 * RFC 3156 §4 around an ASCII-armored OpenPGP message: `outer` header fields (each ending in CRLF), then the
 * multipart/encrypted body with the version part and the armor (chunks with CRLF line ends).
 */
export function wrapEncrypted(outer: readonly Buffer[], armored: readonly Buffer[]): Buffer[] {
  const envelope = encryptedEnvelope(outer);
  return [...envelope.head, ...armored, envelope.after(armored.at(-1)?.at(-1))];
}

/**
 * What goes before the armor (header and MIME preamble) and after it (the closing delimiter, on a line of
 * its own: `lastByte` is the armor's last byte), so that a streamed armor can be written between them.
 */
function encryptedEnvelope(outer: readonly Buffer[]): {
  head: Buffer[];
  after: (lastByte: number | undefined) => Buffer;
} {
  const boundary = `sealpost-${randomBytes(12).toString('hex')}`;
  const head = [
    ...outer,
    makeField('MIME-Version', '1.0'),
    makeField(
      'Content-Type',
      `multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${boundary}"`,
    ),
  ];
  const before = [
    'This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)',
    `--${boundary}`,
    'Content-Type: application/pgp-encrypted',
    'Content-Description: PGP/MIME version identification',
    '',
    'Version: 1',
    '',
    `--${boundary}`,
    'Content-Type: application/octet-stream; name="encrypted.asc"',
    'Content-Description: OpenPGP encrypted message',
    'Content-Disposition: inline; filename="encrypted.asc"',
    '',
    '',
  ].join('\r\n');
  return {
    head: [...head, CRLF, Buffer.from(before, 'latin1')],
    // The armor ends with CRLF; the closing delimiter follows on its own line.
    after: (lastByte) => Buffer.from(`${lastByte === 0x0a ? '' : '\r\n'}--${boundary}--\r\n`, 'latin1'),
  };
}

/**
 * A pickup: the same protected payload a PGP/MIME recipient gets (Subject, From, To, Date inside), signed by
 * the sender and encrypted to the contact's key alone — never to a key the server holds (invariant 4).
 * Binary OpenPGP, as chunks.
 */
export async function buildPickupCiphertext(input: {
  message: PreparedMessage;
  signer: SigningKey;
  contactKey: EncryptionKey;
  now: Date;
  signEncrypt?: SignEncrypt;
}): Promise<Buffer[]> {
  return (input.signEncrypt ?? inThreadSignEncrypt)(
    { parts: payload(input.message, []), to: [input.contactKey], signer: input.signer, now: input.now },
    'binary',
  );
}

/**
 * Open a PGP/MIME message that we wrapped ourselves (a pickup reply): the armored block between the
 * markers, decrypted with `decryptionKey` as inbound mail is (keys/openpgp/decrypt.ts `decryptInbound`:
 * EFAIL-safe, decompression capped), its signature judged against the contact's key alone. A crypto
 * problem is a value, never plaintext. The inner message is what a contact wrote, so it passes the same
 * edge as mail at the listeners (keys/mime/edge.ts), and its `From:` must be the contact's own address
 * (`author`), as a sender's is bound to her login: a MimeError otherwise. The inner entity's own
 * `Sealpost-Security` fields are dropped: only the caller's verdict may carry that name.
 */
export type OpenedReply =
  { ok: true; inner: Buffer; signature: SignatureVerdict } | { ok: false; problem: InboundProblem };

export async function decryptReply(input: {
  raw: Buffer;
  /** The sender's key, or all her keys (active, rotated away, revoked): a reply may use an earlier one. */
  decryptionKey: SigningKey | readonly SigningKey[];
  contactPublicKey: string;
  author: string;
  now: Date;
  maxDecompressedBytes: number;
}): Promise<OpenedReply> {
  const text = input.raw.toString('latin1');
  const begin = text.indexOf('-----BEGIN PGP MESSAGE-----');
  const end = text.indexOf('-----END PGP MESSAGE-----', begin);
  if (begin < 0 || end < 0) return { ok: false, problem: 'failed' };
  const result = await decryptInbound({
    armored: text.slice(begin, end + '-----END PGP MESSAGE-----'.length),
    decryptionKeys: Array.isArray(input.decryptionKey) ? input.decryptionKey : [input.decryptionKey],
    verificationKeys: [await parseEncryptionKey(input.contactPublicKey)],
    now: input.now,
    maxDecompressedBytes: input.maxDecompressedBytes,
  });
  if (!result.ok) return result;
  const reading = readAtEdge(Buffer.from(result.data));
  if (!reading.ok) throw new MimeError(`the reply cannot be read one way only: ${reading.problem}`);
  const { split } = reading;
  const author = authorProblem(split.fields, new Set([input.author.toLowerCase()]));
  if (!author.ok || author.missing) throw new MimeError('the reply is not from the contact');
  const fields = split.fields.filter((f) => f.lower !== 'sealpost-security').map((f) => withCrlf(f.raw));
  return { ok: true, inner: Buffer.concat([...fields, CRLF, split.body]), signature: result.signature };
}
