import * as openpgp from 'openpgp';

/**
 * The OpenPGP boundary: the only server module that imports `openpgp` (a lint rule keeps it so).
 * Every call passes its own `config`; `openpgp.config` is never mutated. Dates come from the caller's
 * clock so that expiry and revocation are testable.
 *
 * Interop floor: keys are v4 with Ed25519/Cv25519 ("legacy" curve25519) and messages SEIPDv1 unless every
 * recipient asks for more, because GnuPG 2.2 reads neither v6 keys nor SEIPDv2 (AEAD).
 */
const CONFIG: Partial<openpgp.Config> = {
  preferredCompressionAlgorithm: openpgp.enums.compression.uncompressed,
  aeadProtect: false,
  v6Keys: false,
  // We check strength ourselves (checkKey) so that the reason can be reported; openpgp stays strict too.
  minRSABits: 2047,
};
/**
 * Key methods (getEncryptionKey, isRevoked, verifyPrimaryKey, getExpirationTime, armor) use their config
 * argument as it is; only the top-level functions merge it over the defaults. A partial config there makes
 * every self-signature check throw (`config.rejectPublicKeyAlgorithms` is undefined), so good keys look
 * unusable and revocations and expiry go unnoticed. Merge once over a copy of the defaults.
 */
const KEY_CONFIG: openpgp.Config = Object.freeze({ ...openpgp.config, ...CONFIG });

export type KeyProblem = 'unreadable' | 'expired' | 'revoked' | 'no-encryption-key' | 'weak' | 'private-key';

export interface KeyFacts {
  fingerprint: string; // upper-case hex
  userIds: string[];
  emails: string[]; // lower-cased addresses of the User IDs
  created: Date;
  expires: Date | null; // null: never
  algorithm: string; // primary key, e.g. 'eddsaLegacy', 'rsaEncryptSign'
  bits: number | null;
  isPrivate: boolean;
}

export type KeyCheck =
  { usable: true; facts: KeyFacts } | { usable: false; problem: KeyProblem; facts?: KeyFacts };

/** An opaque parsed public key, ready for encryption. */
export interface EncryptionKey {
  readonly fingerprint: string;
  readonly key: openpgp.PublicKey;
}

/** An opaque parsed private key (unlocked), ready for signing and decryption. */
export interface SigningKey {
  readonly fingerprint: string;
  readonly key: openpgp.PrivateKey;
  readonly publicKey: openpgp.PublicKey;
}

/** RSA, DSA and ElGamal below this many bits are refused (DESIGN.md "Keys"). */
export const MIN_FINITE_FIELD_BITS = 2048;
const FINITE_FIELD = new Set(['rsaEncryptSign', 'rsaEncrypt', 'rsaSign', 'dsa', 'elgamal']);
/** Elliptic curves we accept: the ones GnuPG, Sequoia and openpgp.js all implement at ≥ 128-bit strength. */
const WEAK_CURVES = new Set(['secp256k1']);

function isWeak(info: openpgp.AlgorithmInfo): boolean {
  if (FINITE_FIELD.has(info.algorithm)) return (info.bits ?? 0) < MIN_FINITE_FIELD_BITS;
  return !!info.curve && WEAK_CURVES.has(info.curve);
}

export async function readAnyKey(input: string | Uint8Array): Promise<openpgp.Key> {
  return typeof input === 'string'
    ? openpgp.readKey({ armoredKey: input, config: CONFIG })
    : openpgp.readKey({ binaryKey: input, config: CONFIG });
}

/** Read every key in an armored or binary block (a keyring export may hold several). */
export async function readAllKeys(input: string | Uint8Array): Promise<openpgp.Key[]> {
  return typeof input === 'string'
    ? openpgp.readKeys({ armoredKeys: input, config: CONFIG })
    : openpgp.readKeys({ binaryKeys: input, config: CONFIG });
}

function emailOf(userId: string): string | null {
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(userId);
  if (angle?.[1]) return angle[1].toLowerCase();
  const bare = /^\s*([^\s<>]+@[^\s<>]+)\s*$/.exec(userId);
  return bare?.[1] ? bare[1].toLowerCase() : null;
}

export async function keyFacts(key: openpgp.Key): Promise<KeyFacts> {
  const info = key.getAlgorithmInfo();
  const userIds = key.getUserIDs();
  // A key with no valid self-signature throws here; checkParsedKey reports it as unusable anyway.
  const exp = await key.getExpirationTime(undefined, KEY_CONFIG).catch(() => null);
  const expires = exp instanceof Date ? exp : null;
  return {
    fingerprint: key.getFingerprint().toUpperCase(),
    userIds,
    emails: userIds.map(emailOf).filter((e): e is string => !!e),
    created: key.getCreationTime(),
    expires,
    algorithm: info.algorithm,
    bits: info.bits ?? null,
    isPrivate: key.isPrivate(),
  };
}

/**
 * Is this key usable for encrypting to its owner at `now`? Not revoked, not expired, has an
 * encryption-capable (sub)key valid at `now`, meets the algorithm floor (primary and encryption key).
 */
export async function checkParsedKey(key: openpgp.Key, now: Date): Promise<KeyCheck> {
  const facts = await keyFacts(key);
  if (isWeak(key.getAlgorithmInfo())) return { usable: false, problem: 'weak', facts };
  if (await key.isRevoked(undefined, undefined, now, KEY_CONFIG)) {
    return { usable: false, problem: 'revoked', facts };
  }
  if (facts.expires && facts.expires.getTime() <= now.getTime())
    return { usable: false, problem: 'expired', facts };
  // Expired/revoked subkeys and unusable self-signatures surface here.
  let encryptionKey: openpgp.Key | openpgp.Subkey;
  try {
    encryptionKey = await key.getEncryptionKey(undefined, now, undefined, KEY_CONFIG);
  } catch {
    // A key whose primary self-signature is outside its validity is expired, not "no encryption key".
    try {
      await key.verifyPrimaryKey(now, undefined, KEY_CONFIG);
    } catch (err) {
      const msg = (err as Error).message.toLowerCase();
      if (msg.includes('revoked')) return { usable: false, problem: 'revoked', facts };
      if (msg.includes('expired')) return { usable: false, problem: 'expired', facts };
    }
    // openpgp passes over RSA subkeys below minRSABits: a key whose only encryption subkey is one is weak.
    const weak = await key
      .getEncryptionKey(undefined, now, undefined, { ...KEY_CONFIG, minRSABits: 0 })
      .catch(() => null);
    if (weak && isWeak(weak.getAlgorithmInfo())) return { usable: false, problem: 'weak', facts };
    return { usable: false, problem: 'no-encryption-key', facts };
  }
  if (isWeak(encryptionKey.getAlgorithmInfo())) return { usable: false, problem: 'weak', facts };
  return { usable: true, facts };
}

export async function checkKey(input: string | Uint8Array, now: Date): Promise<KeyCheck> {
  let key: openpgp.Key;
  try {
    key = await readAnyKey(input);
  } catch {
    return { usable: false, problem: 'unreadable' };
  }
  return checkParsedKey(key, now);
}

export function toEncryptionKey(key: openpgp.Key): EncryptionKey {
  const pub = key.isPrivate() ? key.toPublic() : (key as openpgp.PublicKey);
  return { fingerprint: key.getFingerprint().toUpperCase(), key: pub };
}

export async function parseEncryptionKey(armored: string): Promise<EncryptionKey> {
  return toEncryptionKey(await readAnyKey(armored));
}

export async function parseSigningKey(armoredPrivate: string): Promise<SigningKey> {
  const key = await openpgp.readPrivateKey({ armoredKey: armoredPrivate, config: CONFIG });
  if (!key.isDecrypted()) throw new Error('private key is locked with a passphrase; import it unlocked');
  return { fingerprint: key.getFingerprint().toUpperCase(), key, publicKey: key.toPublic() };
}

export interface GeneratedKeyPair {
  publicKey: string;
  privateKey: string; // armored, not passphrase-protected: it is sealed at rest by the caller
  fingerprint: string;
}

/** A sender key: Ed25519 primary (certify + sign) and a Cv25519 encryption subkey, v4, no expiry. */
export async function generateKeyPair(input: {
  address: string;
  name?: string;
  now: Date;
}): Promise<GeneratedKeyPair> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: input.address, ...(input.name ? { name: input.name } : {}) }],
    date: input.now,
    keyExpirationTime: 0,
    format: 'armored',
    config: CONFIG,
  });
  const parsed = await openpgp.readKey({ armoredKey: publicKey, config: CONFIG });
  return { publicKey, privateKey, fingerprint: parsed.getFingerprint().toUpperCase() };
}

export function armorPublic(key: openpgp.Key): string {
  return (key.isPrivate() ? key.toPublic() : key).armor(KEY_CONFIG);
}

/** The binary public key (for Autocrypt keydata and WKD). */
export function binaryPublic(key: openpgp.Key): Uint8Array {
  return (key.isPrivate() ? key.toPublic() : key).write();
}

/**
 * Sign with `signer` and encrypt to every key in `to`, as one OpenPGP message (RFC 3156 §6.2,
 * the combined method). Binary literal data, no compression, ASCII-armored output.
 */
export async function encryptAndSign(input: {
  data: Uint8Array;
  to: readonly EncryptionKey[];
  signer: SigningKey;
  now: Date;
}): Promise<string> {
  if (input.to.length === 0) throw new Error('no encryption keys');
  const message = await openpgp.createMessage({ binary: input.data, format: 'binary', date: input.now });
  return openpgp.encrypt({ message, ...signAndEncryptTo(input) });
}

/** The options every outgoing message is encrypted with: to these keys, signed, armored, no compression. */
function signAndEncryptTo(input: { to: readonly EncryptionKey[]; signer: SigningKey; now: Date }) {
  return {
    encryptionKeys: input.to.map((k) => k.key),
    signingKeys: input.signer.key,
    date: input.now,
    format: 'armored' as const,
    config: CONFIG,
  };
}

/**
 * Above this many bytes openpgp.js runs on streams: the input is fed in chunks and the armored output is
 * collected in chunks, so a 25 MB message is not copied whole at every step (in-memory peak about a third).
 * Below it the whole-buffer call is several times faster, and messages are small.
 */
export const STREAM_THRESHOLD = 1024 * 1024;
const STREAM_CHUNK = 256 * 1024;

/**
 * Sign and encrypt `parts` (concatenated, never copied into one buffer first) and return the ASCII armor
 * as chunks of bytes with CRLF line ends, ready for a MIME body (the caller joins them once). The result
 * is the same OpenPGP message either way; the streamed one uses partial body lengths, which every OpenPGP
 * implementation reads (the interop tests check gpg and sq).
 */
export async function encryptAndSignArmoredCrlf(input: {
  parts: readonly Uint8Array[];
  to: readonly EncryptionKey[];
  signer: SigningKey;
  now: Date;
}): Promise<Buffer[]> {
  if (input.to.length === 0) throw new Error('no encryption keys');
  const total = input.parts.reduce((n, p) => n + p.length, 0);
  if (total <= STREAM_THRESHOLD) {
    const data = input.parts.length === 1 ? input.parts[0]! : Buffer.concat(input.parts);
    const armored = await encryptAndSign({ data, to: input.to, signer: input.signer, now: input.now });
    return [Buffer.from(toCrlf(armored), 'latin1')];
  }
  const message = await openpgp.createMessage({
    binary: chunkedStream(input.parts),
    format: 'binary',
    date: input.now,
  });
  const armored = await openpgp.encrypt({ message, ...signAndEncryptTo(input) });
  const out: Buffer[] = [];
  // Errors anywhere in the pipeline (a bad key, a failing signature) reject this loop: nothing is returned.
  for await (const chunk of armored as unknown as AsyncIterable<string>) {
    out.push(Buffer.from(toCrlf(chunk), 'latin1'));
  }
  return out;
}

/** Armor has no meaningful CR: dropping every CR and expanding every LF is safe chunk by chunk. */
function toCrlf(text: string): string {
  return text.replace(/\r/g, '').replace(/\n/g, '\r\n');
}

function chunkedStream(parts: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let part = 0;
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      while (part < parts.length && offset >= parts[part]!.length) {
        part++;
        offset = 0;
      }
      const current = parts[part];
      if (!current) {
        controller.close();
        return;
      }
      const end = Math.min(offset + STREAM_CHUNK, current.length);
      controller.enqueue(current.subarray(offset, end));
      offset = end;
    },
  });
}

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

/** A pickup contact's key pair: like a sender key, with the private key as binary packets (to be locked). */
export async function generateContactKeyPair(input: {
  address: string;
  now: Date;
}): Promise<{ publicKey: string; privateKey: Uint8Array; fingerprint: string }> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: input.address }],
    date: input.now,
    keyExpirationTime: 0,
    format: 'object',
    config: CONFIG,
  });
  return {
    publicKey: armorPublic(privateKey),
    privateKey: privateKey.write(),
    fingerprint: privateKey.getFingerprint().toUpperCase(),
  };
}

/** Read a binary private key (a pickup contact's, in tests and tools). */
export async function parseBinarySigningKey(binary: Uint8Array): Promise<SigningKey> {
  const key = await openpgp.readPrivateKey({ binaryKey: binary, config: CONFIG });
  return { fingerprint: key.getFingerprint().toUpperCase(), key, publicKey: key.toPublic() };
}

/**
 * Sign and encrypt `parts` as one binary OpenPGP message (a pickup: only our own browser code reads it).
 * Streams above STREAM_THRESHOLD like encryptAndSignArmoredCrlf; returns the message as chunks.
 */
export async function encryptAndSignBinary(input: {
  parts: readonly Uint8Array[];
  to: readonly EncryptionKey[];
  signer: SigningKey;
  now: Date;
}): Promise<Buffer[]> {
  if (input.to.length === 0) throw new Error('no encryption keys');
  const total = input.parts.reduce((n, p) => n + p.length, 0);
  const binary = total <= STREAM_THRESHOLD ? Buffer.concat(input.parts) : chunkedStream(input.parts);
  const message = await openpgp.createMessage({ binary, format: 'binary', date: input.now });
  const out = await openpgp.encrypt({ message, ...signAndEncryptTo(input), format: 'binary' });
  if (out instanceof Uint8Array) return [Buffer.from(out.buffer, out.byteOffset, out.byteLength)];
  const chunks: Buffer[] = [];
  for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return chunks;
}

/**
 * What an uploaded OpenPGP message claims without decrypting it: the key IDs it is encrypted to (upper-case
 * hex, 16 digits). Throws when the input is not an armored OpenPGP message.
 */
export async function encryptedToKeyIds(armored: string): Promise<string[]> {
  const message = await openpgp.readMessage({ armoredMessage: armored, config: CONFIG });
  return message.getEncryptionKeyIDs().map((id) => id.toHex().toUpperCase());
}

/** The key IDs (primary and subkeys, upper-case hex) of a public key, to match against encryptedToKeyIds. */
export function keyIds(key: EncryptionKey): string[] {
  return key.key.getKeyIDs().map((id) => id.toHex().toUpperCase());
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

export type AutocryptKeyResult =
  { ok: true; binary: Uint8Array; fingerprint: string } | { ok: false; problem: KeyProblem | 'no-user-id' };

/**
 * An Autocrypt `keydata` key, reduced to what its header vouches for: a usable public key (checkParsedKey at
 * `now`) with only the User IDs whose address is `address` (and no user attributes). The packets are kept
 * in order: each User ID with the signatures that follow it, every subkey with its bindings.
 */
export async function autocryptKey(input: {
  keydata: Uint8Array;
  address: string;
  now: Date;
}): Promise<AutocryptKeyResult> {
  let key: openpgp.Key;
  try {
    key = await openpgp.readKey({ binaryKey: input.keydata, config: CONFIG });
  } catch {
    return { ok: false, problem: 'unreadable' };
  }
  if (key.isPrivate()) return { ok: false, problem: 'private-key' };
  const kept = new openpgp.PacketList<openpgp.AnyPacket>();
  let keep = true;
  for (const packet of key.toPacketList()) {
    if (packet instanceof openpgp.UserIDPacket) keep = emailOf(packet.userID) === input.address;
    else if (packet instanceof openpgp.UserAttributePacket) keep = false;
    else if (!(packet instanceof openpgp.SignaturePacket)) keep = true; // the primary key, a subkey
    if (keep) kept.push(packet);
  }
  let narrowed: openpgp.PublicKey;
  try {
    narrowed = new openpgp.PublicKey(kept);
  } catch {
    return { ok: false, problem: 'unreadable' };
  }
  if (narrowed.users.length === 0) return { ok: false, problem: 'no-user-id' };
  const check = await checkParsedKey(narrowed, input.now);
  if (!check.usable) return { ok: false, problem: check.problem };
  return { ok: true, binary: narrowed.write(), fingerprint: check.facts.fingerprint };
}

// ---------------------------------------------------------------------------------------------------------
// Key discovery (WKD, VKS): a published key, reduced to what the lookup vouches for.

export type NarrowedKeyResult =
  | { ok: true; binary: Uint8Array; fingerprint: string; expires: Date | null }
  | {
      ok: false;
      problem: KeyProblem | 'no-user-id';
      /**
       * Set when a public key with a User ID of the address was served but is not usable (revoked, expired,
       * weak, no encryption key): that key, narrowed the same way, so that a refresh can merge a revocation
       * or an expiry into the copy it holds. Never a key to encrypt to.
       */
      refused?: { binary: Uint8Array; fingerprint: string };
    };

const ARMOR_START = '-----BEGIN PGP';
/** A directory serves one key, at times a few (old and new); checking thousands would only burn CPU. */
const MAX_KEYS_PER_BLOCK = 16;

/**
 * The key with only the User IDs whose address is `address` (lower case), their signatures, and every
 * subkey with its bindings; no user attributes. The same reduction as autocryptKey's; null when no User ID
 * is left or the rest is no key.
 */
function narrowedToAddress(key: openpgp.Key, address: string): openpgp.PublicKey | null {
  const kept = new openpgp.PacketList<openpgp.AnyPacket>();
  let keep = true;
  for (const packet of key.toPacketList()) {
    if (packet instanceof openpgp.UserIDPacket) keep = emailOf(packet.userID) === address;
    else if (packet instanceof openpgp.UserAttributePacket) keep = false;
    else if (!(packet instanceof openpgp.SignaturePacket)) keep = true; // the primary key, a subkey
    if (keep) kept.push(packet);
  }
  try {
    const narrowed = new openpgp.PublicKey(kept);
    return narrowed.users.length > 0 ? narrowed : null;
  } catch {
    return null;
  }
}

/**
 * A published public key (binary, or ASCII-armored as text or bytes; a block may hold several keys),
 * narrowed like an Autocrypt key: only the User IDs whose address is `address` (case-insensitive), usable
 * at `now`. The first usable key wins; otherwise the first key's problem (and the first refused key).
 */
export async function narrowKeyToAddress(input: {
  data: Uint8Array | string;
  address: string;
  now: Date;
}): Promise<NarrowedKeyResult> {
  let data = input.data;
  if (typeof data !== 'string') {
    const head = Buffer.from(data.subarray(0, 64)).toString('latin1').trimStart();
    if (head.startsWith(ARMOR_START)) data = Buffer.from(data).toString('utf8');
  }
  let keys: openpgp.Key[];
  try {
    keys = await readAllKeys(data);
  } catch {
    return { ok: false, problem: 'unreadable' };
  }
  const address = input.address.toLowerCase();
  let problem: KeyProblem | 'no-user-id' | undefined;
  let refused: { binary: Uint8Array; fingerprint: string } | undefined;
  for (const key of keys.slice(0, MAX_KEYS_PER_BLOCK)) {
    if (key.isPrivate()) {
      problem ??= 'private-key';
      continue;
    }
    const narrowed = narrowedToAddress(key, address);
    if (!narrowed) {
      problem ??= 'no-user-id';
      continue;
    }
    const check = await checkParsedKey(narrowed, input.now);
    const binary = narrowed.write();
    if (check.usable) {
      return { ok: true, binary, fingerprint: check.facts.fingerprint, expires: check.facts.expires };
    }
    problem ??= check.problem;
    refused ??= { binary, fingerprint: narrowed.getFingerprint().toUpperCase() };
  }
  return { ok: false, problem: problem ?? 'unreadable', ...(refused ? { refused } : {}) };
}

/**
 * Merge the signatures of `update` (the same key, fetched again: new subkeys, a later expiry, a revocation)
 * into the stored armored key. Returns the merged armored public key, or undefined when `update` is not
 * the same key or unreadable. openpgp's update keeps only signatures that verify.
 */
export async function mergeKeys(stored: string, update: Uint8Array): Promise<string | undefined> {
  try {
    const base = await openpgp.readKey({ armoredKey: stored, config: CONFIG });
    const fresh = await openpgp.readKey({ binaryKey: update, config: CONFIG });
    if (fresh.isPrivate() || fresh.getFingerprint() !== base.getFingerprint()) return undefined;
    const merged = await base.update(fresh, undefined, KEY_CONFIG);
    return merged.toPublic().armor();
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// WKD publishing: a sender's public key as Sealpost's Web Key Directory serves it.

/**
 * The binary public key to publish for `address`: only the User IDs of that address (and their
 * signatures), every subkey, no user attributes — the reduction narrowKeyToAddress applies to a fetched
 * key. No usability check: it is our own sender key, served as it is. Undefined when no User ID carries
 * the address or the input is no key.
 */
export async function publishedKey(input: {
  armored: string;
  address: string;
}): Promise<{ binary: Uint8Array; fingerprint: string } | undefined> {
  let key: openpgp.Key;
  try {
    key = await readAnyKey(input.armored);
  } catch {
    return undefined;
  }
  const narrowed = narrowedToAddress(key.isPrivate() ? key.toPublic() : key, input.address.toLowerCase());
  if (!narrowed) return undefined;
  return { binary: narrowed.write(), fingerprint: narrowed.getFingerprint().toUpperCase() };
}
