import * as openpgp from 'openpgp';

/**
 * The OpenPGP boundary: the only server module that imports `openpgp` (a lint rule keeps it so); its
 * siblings in keys/openpgp/ (check, generate, encrypt, decrypt, narrow) reach the library through it.
 * Every call passes its own `config`; `openpgp.config` is never mutated. Dates come from the caller's
 * clock so that expiry and revocation are testable.
 *
 * Interop floor: keys are v4 with Ed25519/Cv25519 ("legacy" curve25519) and messages SEIPDv1 unless every
 * recipient asks for more, because GnuPG 2.2 reads neither v6 keys nor SEIPDv2 (AEAD).
 */
export const CONFIG: Partial<openpgp.Config> = {
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
export const KEY_CONFIG: openpgp.Config = Object.freeze({ ...openpgp.config, ...CONFIG });

export { openpgp };

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

/** The lower-cased address of a User ID (`Name <a@b>` or a bare `a@b`), or null. */
export function emailOf(userId: string): string | null {
  const angle = /<([^<>\s]+@[^<>\s]+)>/.exec(userId);
  if (angle?.[1]) return angle[1].toLowerCase();
  const bare = /^\s*([^\s<>]+@[^\s<>]+)\s*$/.exec(userId);
  return bare?.[1] ? bare[1].toLowerCase() : null;
}
