import { parseMailbox } from '../../keys/mime/author.ts';
import { sectionProblem, toCrlf } from '../../keys/mime/edge.ts';
import {
  MimeError,
  fieldValue,
  withCrlf,
  type HeaderField,
  type SplitMessage,
} from '../../keys/mime/mime.ts';
import { isAttachment, parseEntity, transferEncoding, type MimeEntity } from '../../keys/mime/mime-tree.ts';

/**
 * Inbound mail, structure only (pure functions, no crypto): which messages may be decrypted, how a
 * decrypted RFC 3156 payload is unwrapped, and how the message handed to the practice is put together.
 *
 * EFAIL (Poddebniak et al., 2018) works by wrapping ciphertext into a message that also holds parts the
 * attacker wrote, so that the decrypted text is exfiltrated by those parts. Sealpost therefore decrypts
 * only a message that is encrypted as a whole — RFC 3156 multipart/encrypted at the top, or a body that is
 * exactly one armored block — and never splices decrypted parts into a tree that holds anything else.
 */
export type InboundShape =
  | { kind: 'pgp-mime'; armored: string }
  | { kind: 'inline-pgp'; armored: string }
  | { kind: 'partly-encrypted' } // encrypted content inside a message that is not encrypted as a whole
  | { kind: 'plain' };

/** The header Sealpost computes for every inbound message; an incoming one of this name is removed. */
export const SECURITY_HEADER = 'Sealpost-Security';
const SECURITY_LOWER = SECURITY_HEADER.toLowerCase();

const ARMOR_BEGIN = '-----BEGIN PGP MESSAGE-----';
const ARMOR_END = '-----END PGP MESSAGE-----';
/** The one armored block of a whole body, nothing but white space around it. */
const WHOLE_ARMOR = /^\s*(-----BEGIN PGP MESSAGE-----\r?\n[\s\S]*?\r?\n-----END PGP MESSAGE-----)\s*$/;

/** Drop every incoming Sealpost-Security field: only Sealpost writes that header. */
export function withoutSecurityHeader(fields: readonly HeaderField[]): HeaderField[] {
  return fields.filter((f) => f.lower !== SECURITY_LOWER);
}

export function classify(split: SplitMessage): InboundShape {
  let top: MimeEntity;
  try {
    top = parseEntity(Buffer.concat([...split.fields.map((f) => withCrlf(f.raw)), CRLF, split.body]));
  } catch (err) {
    if (!(err instanceof MimeError)) throw err;
    return hasEncryptedContent(split.body.toString('latin1'))
      ? { kind: 'partly-encrypted' }
      : { kind: 'plain' };
  }
  if (top.type === 'multipart/encrypted') {
    const armored = pgpMimeArmor(top);
    return armored ? { kind: 'pgp-mime', armored } : { kind: 'partly-encrypted' };
  }
  const text = split.body.toString('latin1');
  if (top.type === 'text/plain' && ['7bit', '8bit'].includes(transferEncoding(top))) {
    const m = WHOLE_ARMOR.exec(text);
    if (m && m[1]!.indexOf(ARMOR_BEGIN, 1) < 0) return { kind: 'inline-pgp', armored: m[1]! };
  }
  return hasEncryptedContent(text) ? { kind: 'partly-encrypted' } : { kind: 'plain' };
}

/** Encrypted content anywhere: an armored message, or an encrypted MIME part. */
function hasEncryptedContent(text: string): boolean {
  return text.includes(ARMOR_BEGIN) || /multipart\/encrypted|application\/pgp-encrypted/i.test(text);
}

/** RFC 3156 §4: exactly two parts, `Version: 1` control part, then one armored message and nothing else. */
function pgpMimeArmor(top: MimeEntity): string | undefined {
  if (top.params.get('protocol')?.toLowerCase() !== 'application/pgp-encrypted') return undefined;
  if (top.children.length !== 2) return undefined;
  const [control, data] = top.children.map((c) => c.entity) as [MimeEntity, MimeEntity];
  if (control.type !== 'application/pgp-encrypted') return undefined;
  if (!/^\s*Version:\s*1\s*$/m.test(control.body.toString('latin1'))) return undefined;
  if (data.type !== 'application/octet-stream' || !['7bit', '8bit'].includes(transferEncoding(data)))
    return undefined;
  const m = WHOLE_ARMOR.exec(data.body.toString('latin1'));
  if (!m || m[1]!.indexOf(ARMOR_BEGIN, 1) >= 0 || m[1]!.indexOf(ARMOR_END) !== m[1]!.lastIndexOf(ARMOR_END))
    return undefined;
  return m[1];
}

/**
 * The fields RFC 9788 / protected-headers="v1" protect, restored from inside the encryption. From is not
 * among them: the signature is checked against the key of the outer From, so that is the From shown.
 */
const PROTECTED = new Set([
  'subject',
  'to',
  'cc',
  'reply-to',
  'date',
  'message-id',
  'in-reply-to',
  'references',
]);
/** Fields that describe the MIME entity (and so come from the decrypted payload, never from outside). */

export interface Unwrapped {
  /** The entity to show: the payload, or the signed part of an inner multipart/signed. */
  entity: MimeEntity;
  /** RFC 3156 §5 (sign, then encrypt): the exact signed bytes and the armored detached signature. */
  signed?: { data: Buffer; armoredSignature: string };
  /** Protected header fields found in the payload (RFC 9788 hp=, or protected-headers="v1"). */
  protectedFields: HeaderField[];
}

/**
 * Unwrap a decrypted PGP/MIME payload. Throws MimeError when it is no MIME entity at all, or when a header
 * section whose fields reach the relayed message holds what the edge refuses (keys/mime/edge.ts): the payload
 * is then shown as text. Its line ends are made CRLF first, as for a message at the edge: a bare CR in
 * the payload must not become a line end only when the relay sends it on (invariant 8).
 */
export function unwrapPayload(plaintext: Buffer): Unwrapped {
  const payload = parseEntity(toCrlf(plaintext));
  const parts = signedParts(payload);
  const entity = parts?.entity ?? payload;
  if (sectionProblem(payload.fields) || sectionProblem(entity.fields))
    throw new MimeError('the decrypted header cannot be read one way only');
  const holder = [payload, entity].find(hasProtectedHeaders);
  const protectedFields = holder ? holder.fields.filter((f) => PROTECTED.has(f.lower)) : [];
  return { entity, ...(parts ? { signed: parts.signed } : {}), protectedFields };
}

/** An RFC 3156 §5 multipart/signed: the signed entity, its exact bytes and the armored detached signature. */
function signedParts(
  entity: MimeEntity,
): { entity: MimeEntity; signed: NonNullable<Unwrapped['signed']> } | undefined {
  if (
    entity.type !== 'multipart/signed' ||
    entity.params.get('protocol')?.toLowerCase() !== 'application/pgp-signature' ||
    entity.children.length !== 2
  )
    return undefined;
  const [part, sig] = entity.children as [MimeEntity['children'][0], MimeEntity['children'][0]];
  if (sig.entity.type !== 'application/pgp-signature') return undefined;
  return {
    entity: part.entity,
    signed: {
      data: entity.body.subarray(part.start, part.end),
      armoredSignature: sig.entity.body.toString('latin1'),
    },
  };
}

/**
 * The signed content of a clear (not encrypted) RFC 3156 multipart/signed message, for checking that a
 * message was signed by the key its Autocrypt header offers; undefined for any other message.
 */
export function clearSigned(split: SplitMessage): NonNullable<Unwrapped['signed']> | undefined {
  try {
    const top = parseEntity(Buffer.concat([...split.fields.map((f) => withCrlf(f.raw)), CRLF, split.body]));
    return signedParts(top)?.signed;
  } catch (err) {
    if (err instanceof MimeError) return undefined;
    throw err;
  }
}

function hasProtectedHeaders(entity: MimeEntity): boolean {
  return entity.params.has('hp') || entity.params.get('protected-headers')?.toLowerCase() === 'v1';
}

const CRLF = Buffer.from('\r\n');

/** Every field but an incoming Sealpost-Security, with Sealpost's own field first, then the body as it came. */
export function passThrough(split: SplitMessage, security: Buffer): Buffer[] {
  const fields = withoutSecurityHeader(split.fields).map((f) => withCrlf(f.raw));
  return [Buffer.concat([security, ...fields, CRLF]), split.body];
}

/**
 * The From address of a field list, lower-cased: the one mailbox of the one From field, read as every
 * reader reads it (keys/mime/author.ts); undefined for anything else — then no signature is checked against it.
 */
export function fromAddress(fields: readonly HeaderField[]): string | undefined {
  const from = fields.filter((f) => f.lower === 'from');
  if (from.length !== 1) return undefined;
  const reading = parseMailbox(fieldValue(from[0]!));
  return reading.ok ? reading.mailbox.address : undefined;
}

/** Whether an entity (or any part below it) is a text part to show, i.e. not an attachment. */
export function hasTextPart(entity: MimeEntity): boolean {
  if (entity.children.length > 0) return entity.children.some((c) => hasTextPart(c.entity));
  return (entity.type === 'text/plain' || entity.type === 'text/html') && !isAttachment(entity);
}
