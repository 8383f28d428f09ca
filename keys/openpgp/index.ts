/**
 * The OpenPGP boundary (keys/openpgp/): boundary.ts is the only server module that imports `openpgp`;
 * check (read, validate, convert), generate, encrypt, decrypt (and verify) and narrow (a key reduced to
 * what a lookup, an Autocrypt header or WKD publishing vouches for) sit beside it. Everything outside this
 * folder imports from here and sees only opaque keys and plain results.
 */
export { readAnyKey, readAllKeys, type EncryptionKey, type SigningKey } from './boundary.ts';
export {
  MIN_FINITE_FIELD_BITS,
  armorPublic,
  binaryPublic,
  checkKey,
  checkParsedKey,
  keyFacts,
  keyIds,
  parseBinarySigningKey,
  parseEncryptionKey,
  parseSigningKey,
  toEncryptionKey,
  type KeyCheck,
  type KeyFacts,
  type KeyProblem,
} from './check.ts';
export { generateContactKeyPair, generateKeyPair, type GeneratedKeyPair } from './generate.ts';
export { lockedPrivateKey } from './export.ts';
export { revokedPublicKey, unlockedPrivateKey } from './revoke.ts';
export { encryptionKeyFromBytes, keyBytes, signingKeyFromBytes } from './wire.ts';
export {
  STREAM_THRESHOLD,
  encryptAndSign,
  encryptAndSignArmoredCrlf,
  encryptAndSignBinary,
  encryptToKey,
  type ArmorSink,
} from './encrypt.ts';
export {
  decryptAndVerify,
  decryptInbound,
  encryptedToKeyIds,
  verifyDetached,
  type InboundDecryption,
  type InboundProblem,
  type SignatureCheck,
  type SignatureVerdict,
} from './decrypt.ts';
export {
  autocryptKey,
  mergeKeys,
  narrowKeyToAddress,
  publishedKey,
  type AutocryptKeyResult,
  type NarrowedKeyResult,
} from './narrow.ts';
