import { CONFIG, KEY_CONFIG, openpgp, type EncryptionKey, type SigningKey } from './boundary.ts';

/** Decrypt and verify (used by tests, inbound mail and reply handling). Throws on any failure. */
export async function decryptAndVerify(input: {
  /** The message, ASCII-armored (a string) or binary. */
  armored: string | Uint8Array;
  decryptionKey: SigningKey;
  verificationKeys: readonly EncryptionKey[];
  now: Date;
}): Promise<{ data: Uint8Array; signedBy: string | null; verified: boolean }> {
  const message =
    typeof input.armored === 'string'
      ? await openpgp.readMessage({ armoredMessage: input.armored, config: CONFIG })
      : await openpgp.readMessage({ binaryMessage: input.armored, config: CONFIG });
  const { data, signatures } = await openpgp.decrypt({
    message,
    decryptionKeys: input.decryptionKey.key,
    verificationKeys: input.verificationKeys.map((k) => k.key),
    format: 'binary',
    date: input.now,
    config: { ...CONFIG, allowUnauthenticatedMessages: false },
  });
  let verified = false;
  let signedBy: string | null = null;
  for (const sig of signatures) {
    try {
      await sig.verified;
      verified = true;
      signedBy = sig.keyID.toHex().toUpperCase();
    } catch {
      // an invalid signature leaves verified false
    }
  }
  return { data: data as Uint8Array, signedBy, verified };
}

/**
 * What an uploaded OpenPGP message claims without decrypting it: the key IDs it is encrypted to (upper-case
 * hex, 16 digits). Throws when the input is not an armored OpenPGP message.
 */
export async function encryptedToKeyIds(armored: string): Promise<string[]> {
  const message = await openpgp.readMessage({ armoredMessage: armored, config: CONFIG });
  return message.getEncryptionKeyIDs().map((id) => id.toHex().toUpperCase());
}

// ---------------------------------------------------------------------------------------------------------
// Inbound: decrypting replies to Sealpost's senders, verifying their signatures, Autocrypt keys.

/** Why an inbound OpenPGP message was not decrypted (the original is relayed untouched, or refused). */
export type InboundProblem =
  | 'not-for-us' // encrypted to no key Sealpost holds for the recipients
  | 'no-integrity' // SED without MDC (or an unauthenticated stream): EFAIL-prone, never decrypted
  | 'tampered' // the integrity check failed
  | 'too-big' // decompresses past the limit (a compression bomb)
  | 'failed'; // unreadable or undecryptable for another reason

/** The verdict on the signatures of a decrypted message, computed here and never taken from the message. */
export type SignatureVerdict =
  | { state: 'valid'; fingerprint: string } // primary-key fingerprint of the key that verified
  | { state: 'invalid'; keyId: string } // made by a key we know, but does not verify
  | { state: 'unknown-key'; keyId: string } // made by a key we do not know for the sender
  | { state: 'none' };

/** On success, `forKeys` holds the fingerprints of the given decryption keys the message is encrypted to. */
export type InboundDecryption =
  | { ok: true; data: Uint8Array; signature: SignatureVerdict; candidates: string[]; forKeys: string[] }
  | { ok: false; problem: InboundProblem };

/**
 * The signatures of one message: the verdict over the keys known for the sender before it arrived, and
 * the fingerprints of the *candidate* keys (offered by the message itself, e.g. its Autocrypt header) that
 * made a valid signature. A candidate never makes the verdict valid: its own key proves nothing about who
 * sent a message; it only shows that the message was signed by the key it offers.
 */
export interface SignatureCheck {
  verdict: SignatureVerdict;
  candidates: string[];
}

type VerificationResult = Awaited<ReturnType<typeof openpgp.verify>>['signatures'][number];

/** openpgp.js reports these by message only; the texts are those of openpgp 6. */
const PROBLEM_OF_ERROR: readonly [RegExp, InboundProblem][] = [
  [/maximum decompressed (message )?size exceeded/i, 'too-big'],
  [/not authenticated|unauthenticated/i, 'no-integrity'],
  [/modification detected|authentication tag|mdc|integrity/i, 'tampered'],
];

/**
 * openpgp.js rejects a signature made after the verification date as "in the future"; a colleague whose
 * clock runs a few minutes ahead must not read as a forgery. Keys expiring within this window are a
 * smaller risk than that false alarm.
 */
const CLOCK_SKEW_MS = 10 * 60 * 1000;

function verifyAt(now: Date): Date {
  return new Date(now.getTime() + CLOCK_SKEW_MS);
}

function inboundConfig(maxDecompressedBytes: number): openpgp.Config {
  return {
    ...KEY_CONFIG,
    allowUnauthenticatedMessages: false,
    allowUnauthenticatedStream: false,
    maxDecompressedMessageSize: maxDecompressedBytes,
  };
}

/**
 * Decrypt one inbound OpenPGP message with the recipients' sender keys, EFAIL-safe: a message without
 * integrity protection (SED, tag 9) is never decrypted, openpgp.js refuses unauthenticated data, and
 * decompression stops at `maxDecompressedBytes`. Every failure is a problem value, never plaintext.
 */
export async function decryptInbound(input: {
  armored: string;
  decryptionKeys: readonly SigningKey[];
  verificationKeys: readonly EncryptionKey[];
  candidateKeys?: readonly EncryptionKey[];
  now: Date;
  maxDecompressedBytes: number;
}): Promise<InboundDecryption> {
  const config = inboundConfig(input.maxDecompressedBytes);
  let message: openpgp.Message<string>;
  try {
    message = await openpgp.readMessage({ armoredMessage: input.armored, config });
  } catch {
    return { ok: false, problem: 'failed' };
  }
  if (message.packets.filterByTag(openpgp.enums.packet.symmetricallyEncryptedData).length > 0)
    return { ok: false, problem: 'no-integrity' };
  const ours = input.decryptionKeys.filter((k) => isEncryptedTo(message, k.key));
  if (ours.length === 0) return { ok: false, problem: 'not-for-us' };
  const candidates = safeCandidates(input.verificationKeys, input.candidateKeys ?? []);
  try {
    const { data, signatures } = await openpgp.decrypt({
      message,
      decryptionKeys: ours.map((k) => k.key),
      verificationKeys: [...input.verificationKeys, ...candidates].map((k) => k.key),
      format: 'binary',
      date: verifyAt(input.now),
      config,
    });
    const check = await checkSignatures(signatures, input.verificationKeys, candidates);
    return {
      ok: true,
      data: data as Uint8Array,
      signature: check.verdict,
      candidates: check.candidates,
      forKeys: ours.map((k) => k.fingerprint),
    };
  } catch (err) {
    const text = err instanceof Error ? err.message : '';
    return { ok: false, problem: PROBLEM_OF_ERROR.find(([re]) => re.test(text))?.[1] ?? 'failed' };
  }
}

function isEncryptedTo(message: openpgp.Message<string>, key: openpgp.PrivateKey): boolean {
  const ids = message.getEncryptionKeyIDs();
  return key.getKeys().some((k) => ids.some((id) => id.equals(k.getKeyID(), true)));
}

/**
 * Candidate keys that share a key ID with a different known key are dropped: openpgp.js picks the key to
 * verify with by key ID, so such a candidate could make a signature look like one by the known key.
 */
function safeCandidates(
  known: readonly EncryptionKey[],
  candidates: readonly EncryptionKey[],
): EncryptionKey[] {
  const ids = (k: EncryptionKey) => k.key.getKeyIDs().map((id) => id.toHex());
  return candidates.filter((c) =>
    known.every((k) => k.fingerprint === c.fingerprint || !ids(k).some((id) => ids(c).includes(id))),
  );
}

/**
 * One verdict over all signatures by the known keys (any valid one wins, then invalid, then unknown key),
 * and the candidate keys with a valid signature.
 */
async function checkSignatures(
  signatures: readonly VerificationResult[],
  known: readonly EncryptionKey[],
  candidates: readonly EncryptionKey[],
): Promise<SignatureCheck> {
  let valid: SignatureVerdict | undefined;
  let invalid: SignatureVerdict | undefined;
  let unknown: SignatureVerdict | undefined;
  const proven: string[] = [];
  for (const sig of signatures) {
    const keyId = sig.keyID.toHex().toUpperCase();
    const owner = known.find((k) => k.key.getKeys(sig.keyID).length > 0);
    const candidate = candidates.find((k) => k.key.getKeys(sig.keyID).length > 0);
    const verified = await sig.verified.then(
      () => true,
      () => false,
    );
    if (verified && candidate && !proven.includes(candidate.fingerprint)) proven.push(candidate.fingerprint);
    if (owner && verified) valid ??= { state: 'valid', fingerprint: owner.fingerprint };
    else if (owner) invalid ??= { state: 'invalid', keyId };
    else unknown ??= { state: 'unknown-key', keyId };
  }
  return { verdict: valid ?? invalid ?? unknown ?? { state: 'none' }, candidates: proven };
}

/**
 * Verify an RFC 3156 §5 detached signature (the second part of a multipart/signed) over the exact bytes of
 * the signed part. A signature that cannot even be read counts as invalid.
 */
export async function verifyDetached(input: {
  data: Uint8Array;
  armoredSignature: string;
  verificationKeys: readonly EncryptionKey[];
  candidateKeys?: readonly EncryptionKey[];
  now: Date;
}): Promise<SignatureCheck> {
  let signature: openpgp.Signature;
  try {
    signature = await openpgp.readSignature({ armoredSignature: input.armoredSignature, config: CONFIG });
  } catch {
    return { verdict: { state: 'invalid', keyId: 'unreadable' }, candidates: [] };
  }
  const candidates = safeCandidates(input.verificationKeys, input.candidateKeys ?? []);
  const message = await openpgp.createMessage({ binary: input.data });
  const { signatures } = await openpgp.verify({
    message,
    signature,
    verificationKeys: [...input.verificationKeys, ...candidates].map((k) => k.key),
    format: 'binary',
    date: verifyAt(input.now),
    config: KEY_CONFIG,
  });
  return checkSignatures(signatures, input.verificationKeys, candidates);
}
