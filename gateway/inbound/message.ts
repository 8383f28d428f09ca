import { isUtf8 } from 'node:buffer';
import { smtpError } from '../../core/errors.ts';
import { effectiveSettings } from '../../core/settings.ts';
import { classify, clearSigned, fromAddress, unwrapPayload } from './mime.ts';
import { base64Lines, withNotice } from '../../keys/verdict-line/notice.ts';
import { markText } from '../../keys/verdict-line/look-alike.ts';
import { MimeError, makeField, splitMessage, type SplitMessage } from '../../keys/mime/mime.ts';
import {
  verifyDetached,
  type EncryptionKey,
  type SignatureCheck,
  type SigningKey,
} from '../../keys/openpgp/index.ts';
import { autocryptOffer, learnAutocrypt } from './autocrypt.ts';
import type { InboundContext, InboundTransaction } from './inbound-context.ts';
import { isLocalAddress } from './local.ts';
import { original } from './look-alike.ts';
import { assembleDecrypted, checkLookAlikes, mimeFields } from '../../keys/verdict-line/decrypted.ts';
import {
  noticeLine,
  securityField,
  type InboundOutcome,
  type Language,
} from '../../keys/verdict-line/verdict.ts';

/**
 * One inbound message, in memory: what each recipient is handed. Recipients whose key the message is
 * encrypted to get it decrypted; the others (and everyone, for mail that is not decrypted) get the
 * original bytes. Either way an incoming Sealpost-Security field is replaced by ours, and a look-alike of
 * our visible line in the text is marked as not from Sealpost (with ours on top).
 */
export interface Variant {
  recipients: string[];
  message: Buffer;
  outcome: InboundOutcome;
}

/** Who signed, as far as this message can tell: the From address and the keys to check it with. */
interface Signers {
  from: string | undefined;
  /** The keys known for From before this message (its sender key alone, for a local address). */
  verification: EncryptionKey[];
  /** Keys the message offers itself (Autocrypt): checked, but they never make a signature valid. */
  candidates: EncryptionKey[];
}

interface Built {
  variants: Variant[];
  /** Fingerprints of candidate keys with a valid signature over the content. */
  proven: string[];
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
  const address = fromAddress(split.fields);
  const from = address ? { address, local: await isLocalAddress(ctx, address) } : undefined;
  // Signatures are checked against the keys known before this message: its own Autocrypt key proves nothing.
  const verification = from ? await verificationKeys(ctx, from) : [];
  const offer = await autocryptOffer(ctx, split, from, session);
  const signers: Signers = { from: address, verification, candidates: offer ? [offer.key] : [] };
  const built = await build(ctx, split, tx.recipients, signers);
  if (offer) await learnAutocrypt(ctx, raw, offer, built.proven.includes(offer.fingerprint), session);
  return built.variants;
}

async function build(
  ctx: InboundContext,
  split: SplitMessage,
  all: string[],
  signers: Signers,
): Promise<Built> {
  const shape = classify(split);
  if (shape.kind === 'plain') {
    const proven = signers.candidates.length > 0 ? await clearlySigned(ctx, split, signers) : [];
    return { variants: [original(split, all, { kind: 'not-encrypted' }, await language(ctx))], proven };
  }
  if (shape.kind === 'partly-encrypted') {
    const outcome = { kind: 'not-decrypted', reason: 'partly-encrypted' } as const;
    return { variants: [original(split, all, outcome, await language(ctx))], proven: [] };
  }
  const keys = await decryptionKeys(ctx, all);
  const result = await ctx.openInbound({
    armored: shape.armored,
    decryptionKeys: [...new Map([...keys.values()].flat().map((k) => [k.fingerprint, k])).values()],
    verificationKeys: signers.verification,
    candidateKeys: signers.candidates,
    now: ctx.deps.clock.now(),
    maxDecompressedBytes: ctx.deps.config.inbound.decompressLimitBytes,
  });
  if (!result.ok) {
    if (result.problem === 'too-big') throw smtpError('IN_DECOMPRESSION_LIMIT');
    return {
      variants: [
        original(split, all, { kind: 'not-decrypted', reason: result.problem }, await language(ctx)),
      ],
      proven: [],
    };
  }
  const readers = all.filter((r) => (keys.get(r) ?? []).some((k) => result.forKeys.includes(k.fingerprint)));
  const others = all.filter((r) => !readers.includes(r));
  const data = Buffer.from(result.data.buffer, result.data.byteOffset, result.data.byteLength);
  const combined: SignatureCheck = { verdict: result.signature, candidates: result.candidates };
  const decrypted =
    shape.kind === 'pgp-mime'
      ? await pgpMime(ctx, split, data, combined, signers)
      : inline(split, data, combined, signers.from, await language(ctx));
  const variants: Variant[] = [
    { recipients: readers, message: decrypted.message, outcome: decrypted.outcome },
  ];
  if (others.length > 0)
    variants.push(
      original(split, others, { kind: 'not-decrypted', reason: 'not-for-us' }, await language(ctx)),
    );
  return { variants, proven: decrypted.proven };
}

/** A clear RFC 3156 multipart/signed message: which offered keys signed it (for Autocrypt only). */
async function clearlySigned(ctx: InboundContext, split: SplitMessage, signers: Signers): Promise<string[]> {
  const signed = clearSigned(split);
  if (!signed) return [];
  const check = await verifyDetached({
    ...signed,
    verificationKeys: signers.verification,
    candidateKeys: signers.candidates,
    now: ctx.deps.clock.now(),
  });
  return check.candidates;
}

/** The visible line's language: inbound.language, else the notification language in force (the admin's setting). */
async function language(ctx: InboundContext): Promise<Language> {
  return ctx.deps.config.inbound.language ?? (await effectiveSettings(ctx.deps)).language;
}

interface Decrypted {
  message: Buffer;
  outcome: InboundOutcome;
  proven: string[];
}

async function pgpMime(
  ctx: InboundContext,
  split: SplitMessage,
  data: Buffer,
  combined: SignatureCheck,
  signers: Signers,
): Promise<Decrypted> {
  const lang = await language(ctx);
  let unwrapped;
  try {
    unwrapped = unwrapPayload(data);
  } catch (err) {
    // A payload that is no MIME entity (some tools encrypt bare text into the PGP/MIME frame) is text.
    if (err instanceof MimeError) return inline(split, data, combined, signers.from, lang);
    throw err;
  }
  // RFC 3156 §5 inside the encryption (sign, then encrypt): the detached signature decides.
  const check = unwrapped.signed
    ? await verifyDetached({
        data: unwrapped.signed.data,
        armoredSignature: unwrapped.signed.armoredSignature,
        verificationKeys: signers.verification,
        candidateKeys: signers.candidates,
        now: ctx.deps.clock.now(),
      })
    : combined;
  const checked = checkLookAlikes(unwrapped.entity, lang);
  const outcome: InboundOutcome = {
    kind: 'decrypted',
    signature: check.verdict,
    from: signers.from,
    ...(checked.lookAlike ? { lookAlike: checked.lookAlike } : {}),
  };
  const marked = withNotice(checked.entity, noticeLine(outcome, lang));
  const parts = assembleDecrypted({
    outer: split.fields,
    protectedFields: unwrapped.protectedFields,
    security: securityField(outcome),
    entityFields: mimeFields(marked, checked.entity),
    body: marked.body,
  });
  return { message: Buffer.concat(parts), outcome, proven: check.candidates };
}

/** A whole-body inline PGP message: the decrypted text becomes a text/plain body with the line on top. */
function inline(
  split: SplitMessage,
  data: Buffer,
  check: SignatureCheck,
  from: string | undefined,
  lang: Language,
): Decrypted {
  let utf8 = isUtf8(data);
  const marked = markText(data.toString(utf8 ? 'utf8' : 'latin1'), lang);
  if (marked.count > 0) {
    data = Buffer.from(marked.text, 'utf8');
    utf8 = true;
  }
  const outcome: InboundOutcome = {
    kind: 'decrypted',
    signature: check.verdict,
    from,
    ...(marked.count > 0 ? { lookAlike: 'marked' as const } : {}),
  };
  const line = Buffer.from(noticeLine(outcome, lang), utf8 ? 'utf8' : 'latin1');
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
  return { message: Buffer.concat(parts), outcome, proven: check.candidates };
}

/**
 * The sender keys of each recipient (the keys replies are encrypted to): the active one and those rotated
 * away or revoked, so that a correspondent who still uses an earlier key is read (docs/admin-console.md).
 */
async function decryptionKeys(
  ctx: InboundContext,
  recipients: readonly string[],
): Promise<Map<string, SigningKey[]>> {
  const keys = new Map<string, SigningKey[]>();
  for (const rcpt of recipients) {
    const own = await ctx.deps.keys.decryptionKeys(rcpt);
    if (own.length > 0) keys.set(rcpt, own);
  }
  return keys;
}

/**
 * The keys a signature by From is checked against. A local address: its sender key, nothing else (a key
 * planted for it anywhere else must never verify "from" a local user). Any other address: its usable
 * recipient key (pinned, registered, discovered, or learned from a proven Autocrypt header).
 */
async function verificationKeys(
  ctx: InboundContext,
  from: { address: string; local: boolean },
): Promise<EncryptionKey[]> {
  if (from.local) {
    const own = await ctx.deps.keys.senderKey(from.address);
    return own ? [{ fingerprint: own.signer.fingerprint, key: own.signer.publicKey }] : [];
  }
  const known = await ctx.deps.keys.recipientKey(from.address);
  return known.state === 'usable' ? [known.key] : [];
}
