import { isUtf8 } from 'node:buffer';
import { smtpError } from '../../core/errors.ts';
import { errName } from '../../core/log.ts';
import { autocryptFinding } from '../../keys/autocrypt.ts';
import {
  assembleDecrypted,
  classify,
  contentFields,
  fromAddress,
  passThrough,
  unwrapPayload,
} from '../../keys/inbound.ts';
import { base64Lines, withNotice } from '../../keys/inbound-notice.ts';
import { MimeError, makeField, splitMessage, type SplitMessage } from '../../keys/mime.ts';
import {
  decryptInbound,
  verifyDetached,
  type EncryptionKey,
  type SignatureVerdict,
  type SigningKey,
} from '../../keys/pgp.ts';
import type { InboundContext, InboundTransaction } from './context.ts';
import { noticeLine, securityField, type InboundOutcome, type Language } from './verdict.ts';

/**
 * One inbound message, in memory: what each recipient is handed. Recipients whose key the message is
 * encrypted to get it decrypted; the others (and everyone, for mail that is not decrypted) get the
 * original bytes. Either way an incoming Sealpost-Security field is replaced by ours.
 */
export interface Variant {
  recipients: string[];
  message: Buffer;
  outcome: InboundOutcome;
}

const CRLF = Buffer.from('\r\n');

export async function variantsOf(
  ctx: InboundContext,
  raw: Buffer,
  tx: InboundTransaction,
  session: string,
): Promise<Variant[]> {
  let split: SplitMessage;
  try {
    split = splitMessage(raw);
  } catch (err) {
    if (err instanceof MimeError) throw smtpError('IN_MESSAGE_INVALID');
    throw err;
  }
  const from = fromAddress(split.fields);
  // Signatures are checked against the keys known before this message: its own Autocrypt key proves nothing.
  const verification = from ? await verificationKeys(ctx, from) : [];
  await harvestAutocrypt(ctx, split, session);
  const all = tx.recipients;
  const shape = classify(split);
  if (shape.kind === 'plain') return [original(split, all, { kind: 'not-encrypted' })];
  if (shape.kind === 'partly-encrypted')
    return [original(split, all, { kind: 'not-decrypted', reason: 'partly-encrypted' })];

  const keys = await decryptionKeys(ctx, all);
  const result = await decryptInbound({
    armored: shape.armored,
    decryptionKeys: [...new Map([...keys.values()].map((k) => [k.fingerprint, k])).values()],
    verificationKeys: verification,
    now: ctx.deps.clock.now(),
    maxDecompressedBytes: ctx.deps.config.inbound.decompressLimitBytes,
  });
  if (!result.ok) {
    if (result.problem === 'too-big') throw smtpError('IN_DECOMPRESSION_LIMIT');
    return [original(split, all, { kind: 'not-decrypted', reason: result.problem })];
  }
  const readers = all.filter((r) => result.forKeys.includes(keys.get(r)?.fingerprint ?? ''));
  const others = all.filter((r) => !readers.includes(r));
  const data = Buffer.from(result.data.buffer, result.data.byteOffset, result.data.byteLength);
  const decrypted =
    shape.kind === 'pgp-mime'
      ? await pgpMime(ctx, split, data, result.signature, from, verification)
      : inline(split, data, result.signature, from, language(ctx));
  const variants: Variant[] = [{ recipients: readers, ...decrypted }];
  if (others.length > 0)
    variants.push(original(split, others, { kind: 'not-decrypted', reason: 'not-for-us' }));
  return variants;
}

function original(split: SplitMessage, recipients: string[], outcome: InboundOutcome): Variant {
  return { recipients, message: Buffer.concat(passThrough(split, securityField(outcome))), outcome };
}

function language(ctx: InboundContext): Language {
  return ctx.deps.config.inbound.language ?? ctx.deps.config.pickup.language;
}

async function pgpMime(
  ctx: InboundContext,
  split: SplitMessage,
  data: Buffer,
  combined: SignatureVerdict,
  from: string | undefined,
  verification: EncryptionKey[],
): Promise<Omit<Variant, 'recipients'>> {
  let unwrapped;
  try {
    unwrapped = unwrapPayload(data);
  } catch (err) {
    // A payload that is no MIME entity (some tools encrypt bare text into the PGP/MIME frame) is text.
    if (err instanceof MimeError) return inline(split, data, combined, from, language(ctx));
    throw err;
  }
  // RFC 3156 §5 inside the encryption (sign, then encrypt): the detached signature decides.
  const signature = unwrapped.signed
    ? await verifyDetached({
        data: unwrapped.signed.data,
        armoredSignature: unwrapped.signed.armoredSignature,
        verificationKeys: verification,
        now: ctx.deps.clock.now(),
      })
    : combined;
  const outcome: InboundOutcome = { kind: 'decrypted', signature, from };
  const marked = withNotice(unwrapped.entity, noticeLine(signature, from, language(ctx)));
  const entityFields = marked.fields.filter((f) => /^content-/.test(f.lower)).map((f) => f.raw);
  const parts = assembleDecrypted({
    outer: split.fields,
    protectedFields: unwrapped.protectedFields,
    security: securityField(outcome),
    entityFields: entityFields.length > 0 ? entityFields : contentFields(unwrapped.entity),
    body: marked.body,
  });
  return { message: Buffer.concat(parts), outcome };
}

/** A whole-body inline PGP message: the decrypted text becomes a text/plain body with the line on top. */
function inline(
  split: SplitMessage,
  data: Buffer,
  signature: SignatureVerdict,
  from: string | undefined,
  lang: Language,
): Omit<Variant, 'recipients'> {
  const utf8 = isUtf8(data);
  const line = Buffer.from(noticeLine(signature, from, lang), utf8 ? 'utf8' : 'latin1');
  const outcome: InboundOutcome = { kind: 'decrypted', signature, from };
  const parts = assembleDecrypted({
    outer: split.fields,
    protectedFields: [],
    security: securityField(outcome),
    entityFields: [
      makeField('Content-Type', `text/plain; charset=${utf8 ? 'utf-8' : 'iso-8859-1'}`),
      makeField('Content-Transfer-Encoding', 'base64'),
    ],
    body: [base64Lines(Buffer.concat([line, CRLF, CRLF, data]))],
  });
  return { message: Buffer.concat(parts), outcome };
}

/** The active sender key of each recipient that has one (the keys replies are encrypted to). */
async function decryptionKeys(
  ctx: InboundContext,
  recipients: readonly string[],
): Promise<Map<string, SigningKey>> {
  const keys = new Map<string, SigningKey>();
  for (const rcpt of recipients) {
    const sender = await ctx.deps.keys.senderKey(rcpt);
    if (sender) keys.set(rcpt, sender.signer);
  }
  return keys;
}

/** The From address's usable key (pinned, registered or harvested), and its sender key when it is ours. */
async function verificationKeys(ctx: InboundContext, from: string): Promise<EncryptionKey[]> {
  const out: EncryptionKey[] = [];
  const known = await ctx.deps.keys.recipientKey(from);
  if (known.state === 'usable') out.push(known.key);
  const own = await ctx.deps.keys.senderKey(from);
  if (own) out.push({ fingerprint: own.signer.fingerprint, key: own.signer.publicKey });
  return out;
}

/** Record an Autocrypt key of the From address; a failure here never stops the message. */
async function harvestAutocrypt(ctx: InboundContext, split: SplitMessage, session: string): Promise<void> {
  const { log, keys, clock } = ctx.deps;
  try {
    const finding = await autocryptFinding(split.fields, clock.now());
    if (!finding.found) return;
    if (!finding.ok) {
      log.info('IN_AUTOCRYPT_IGNORED', { session, from: finding.address, reason: finding.problem });
      return;
    }
    await keys.recordAutocrypt(finding.address, finding.binary);
  } catch (err) {
    log.warn('IN_AUTOCRYPT_FAILED', { session, errName: errName(err) });
  }
}
