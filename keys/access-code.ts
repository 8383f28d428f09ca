import { createCipheriv, createDecipheriv, createHash, randomBytes, randomInt } from 'node:crypto';
import { argon2id } from 'hash-wasm';

/**
 * Access codes and the key derivation shared with the pickup app (docs/pickup.md, DESIGN.md "Pickup
 * crypto"). The browser implements the same steps; a unit test pins them with a known vector.
 */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32
export const CODE_LENGTH = 10; // 50 bits: guessable only online, against a lockout after 5 failures

/**
 * The parameters a person's own secret (a console password; in the browser, a chosen passphrase) is
 * derived with; an upload may not choose weaker ones (webmail/contract/pickup.ts KDF_MINIMUM).
 */
export const DEFAULT_KDF = Object.freeze({
  alg: 'argon2id' as const,
  memoryKiB: 65536,
  iterations: 3,
  parallelism: 1,
});

/**
 * The parameters an issued access code is derived with (webmail/contract/pickup.ts CODE_KDF): its 50 bits
 * come from the CSPRNG, so one pass over the same 64 MiB keeps an offline search out of reach
 * (docs/pickup.md "Key derivation cost") and the recipient waits a third as long.
 */
export const CODE_KDF = Object.freeze({
  alg: 'argon2id' as const,
  memoryKiB: 65536,
  iterations: 1,
  parallelism: 1,
});

/** Whose secret: a code Sealpost issued (random, 50 bits) or one a person chose. */
export type SecretKind = 'code' | 'passphrase';

/**
 * Argon2id parameters as stored with a contact and sent to the app. What an upload may carry is checked by
 * the pickup API's contract (webmail/contract/pickup.ts `kdfSchema`, whose minimums are DEFAULT_KDF).
 */
export interface KdfParams {
  alg: 'argon2id';
  salt: string; // base64 of 16 random bytes
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** A fresh code from the CSPRNG (rejection-free: randomInt is uniform over the 32 letters). */
export function newAccessCode(): string {
  let code = '';
  for (let i = 0; i < CODE_LENGTH; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

/** `7F3KQ9XD2M` → `7F3K-Q9XD-2M`, as people read it out on the phone. */
export function formatAccessCode(code: string): string {
  return [code.slice(0, 4), code.slice(4, 8), code.slice(8)].filter(Boolean).join('-');
}

/**
 * What a person typed → the code, or undefined when it cannot be one: case folded, separators dropped,
 * the letters people confuse with digits mapped (O→0, I/L→1).
 */
export function normaliseAccessCode(input: string): string | undefined {
  const code = input
    .toUpperCase()
    .replace(/[^0-9A-Z]/g, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (code.length !== CODE_LENGTH) return undefined;
  for (const ch of code) if (!CODE_ALPHABET.includes(ch)) return undefined;
  return code;
}

export interface DerivedKeys {
  authKey: Buffer; // sent to the server at unlock; the server keeps SHA-256 of it
  lockKey: Buffer; // never leaves the browser; AES-256-GCM key of the locked private key
}

/** authKey ‖ lockKey = Argon2id(secret, salt, params), 64 bytes. `secret` is already normalised. */
export async function deriveKeys(secret: string, kdf: KdfParams): Promise<DerivedKeys> {
  const out = await argon2id({
    password: secret.normalize('NFC'),
    salt: Buffer.from(kdf.salt, 'base64'),
    iterations: kdf.iterations,
    memorySize: kdf.memoryKiB,
    parallelism: kdf.parallelism,
    hashLength: 64,
    outputType: 'binary',
  });
  const bytes = Buffer.from(out);
  return { authKey: bytes.subarray(0, 32), lockKey: bytes.subarray(32, 64) };
}

export function authHash(authKey: Uint8Array): string {
  return createHash('sha256').update(authKey).digest('hex');
}

/**
 * A secret a browser made (a chosen passphrase's authKey and the private key locked with its lockKey) has
 * the sizes of one: authKey 32 bytes; iv (12) + tag (16) + a curve25519 private key (a few hundred bytes).
 */
export function plausibleBrowserSecret(authKey: Uint8Array, locked: Uint8Array): boolean {
  return authKey.length === 32 && locked.length >= 12 + 16 + 64;
}

function lockAad(contactId: string): Buffer {
  return Buffer.from(`sealpost-pickup-key:${contactId}`, 'utf8');
}

/** iv(12) ‖ AES-256-GCM(lockKey, privateKey) ‖ tag(16): the layout WebCrypto reads directly. */
export function lockPrivateKey(privateKey: Uint8Array, lockKey: Uint8Array, contactId: string): Buffer {
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', lockKey, iv);
  cipher.setAAD(lockAad(contactId));
  const body = Buffer.concat([cipher.update(privateKey), cipher.final()]);
  return Buffer.concat([iv, body, cipher.getAuthTag()]);
}

/** The inverse of lockPrivateKey; throws when the key or the contact id is wrong. (Tests and tools.) */
export function unlockPrivateKey(locked: Uint8Array, lockKey: Uint8Array, contactId: string): Buffer {
  const buf = Buffer.from(locked);
  const decipher = createDecipheriv('aes-256-gcm', lockKey, buf.subarray(0, 12));
  decipher.setAAD(lockAad(contactId));
  decipher.setAuthTag(buf.subarray(buf.length - 16));
  return Buffer.concat([decipher.update(buf.subarray(12, buf.length - 16)), decipher.final()]);
}

/** A fresh random salt with the parameters for this kind of secret (the stronger ones by default). */
export function newKdf(kind: SecretKind = 'passphrase'): KdfParams {
  const params = kind === 'code' ? CODE_KDF : DEFAULT_KDF;
  return { ...params, salt: randomBytes(16).toString('base64') };
}
