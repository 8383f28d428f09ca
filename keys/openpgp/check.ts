import {
  CONFIG,
  KEY_CONFIG,
  emailOf,
  openpgp,
  readAnyKey,
  type EncryptionKey,
  type SigningKey,
} from './boundary.ts';

/** Reading, checking and converting keys: is this key usable for encrypting to its owner, and why not. */
export type KeyProblem = 'unreadable' | 'expired' | 'revoked' | 'no-encryption-key' | 'weak' | 'private-key';

export interface KeyFacts {
  fingerprint: string; // upper-case hex
  userIds: string[];
  emails: string[]; // lower-cased addresses of the User IDs
  created: Date;
  expires: Date | null; // null: never
  algorithm: string; // primary key, e.g. 'eddsaLegacy', 'rsaEncryptSign'
  bits: number | null;
  curve: string | null; // an elliptic curve key's curve, e.g. 'ed25519Legacy'
  isPrivate: boolean;
}

export type KeyCheck =
  { usable: true; facts: KeyFacts } | { usable: false; problem: KeyProblem; facts?: KeyFacts };

/** RSA, DSA and ElGamal below this many bits are refused (DESIGN.md "Keys"). */
export const MIN_FINITE_FIELD_BITS = 2048;
const FINITE_FIELD = new Set(['rsaEncryptSign', 'rsaEncrypt', 'rsaSign', 'dsa', 'elgamal']);
/** Elliptic curves we accept: the ones GnuPG, Sequoia and openpgp.js all implement at ≥ 128-bit strength. */
const WEAK_CURVES = new Set(['secp256k1']);

function isWeak(info: openpgp.AlgorithmInfo): boolean {
  if (FINITE_FIELD.has(info.algorithm)) return (info.bits ?? 0) < MIN_FINITE_FIELD_BITS;
  return !!info.curve && WEAK_CURVES.has(info.curve);
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
    curve: info.curve ?? null,
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

/** Read a binary private key (a pickup contact's, in tests and tools). */
export async function parseBinarySigningKey(binary: Uint8Array): Promise<SigningKey> {
  const key = await openpgp.readPrivateKey({ binaryKey: binary, config: CONFIG });
  return { fingerprint: key.getFingerprint().toUpperCase(), key, publicKey: key.toPublic() };
}

export function armorPublic(key: openpgp.Key): string {
  return (key.isPrivate() ? key.toPublic() : key).armor(KEY_CONFIG);
}

/** The binary public key (for Autocrypt keydata and WKD). */
export function binaryPublic(key: openpgp.Key): Uint8Array {
  return (key.isPrivate() ? key.toPublic() : key).write();
}

/** The key IDs (primary and subkeys, upper-case hex) of a public key, to match against encryptedToKeyIds. */
export function keyIds(key: EncryptionKey): string[] {
  return key.key.getKeyIDs().map((id) => id.toHex().toUpperCase());
}
