import * as openpgp from 'openpgp/lightweight';
import { fromBase64, toBase64, wipe } from '../../../pickup/src/lib/bytes.ts';
import { derive } from '../../../pickup/src/lib/derive.ts';
import { unlockPrivateKey } from '../../../pickup/src/lib/lock.ts';
import { lockUnderNewSecret } from '../../../pickup/src/lib/relock.ts';
import type { Kdf } from '../../../contract/pickup.ts';

/**
 * Her console key (docs/console.md): lockKey = Argon2id(password, kdf)[32..64], derived in a worker as the
 * pickup app derives a contact's; the private key is unlocked with it (AES-256-GCM, the lock id as AAD)
 * and kept in memory only. Access codes are OpenPGP messages to it, decrypted here and nowhere else.
 */
const CONFIG = { allowUnauthenticatedMessages: false, allowUnauthenticatedStream: false } as const;

export type ConsoleKey = openpgp.PrivateKey;

export async function unlockConsoleKey(
  password: string,
  key: { lockId: string; lockedPrivateKey: string; kdf: Kdf },
): Promise<ConsoleKey> {
  const { lockKey, authKey } = await derive(password, key.kdf);
  authKey.fill(0);
  try {
    const binary = await unlockPrivateKey(fromBase64(key.lockedPrivateKey), lockKey, key.lockId);
    return await openpgp.readPrivateKey({ binaryKey: binary, config: CONFIG });
  } finally {
    lockKey.fill(0);
  }
}

export async function decryptCode(ciphertext: string, key: ConsoleKey): Promise<string> {
  const message = await openpgp.readMessage({ binaryMessage: fromBase64(ciphertext), config: CONFIG });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: key, format: 'binary', config: CONFIG });
  const code = new TextDecoder().decode(data as Uint8Array);
  if (!/^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{2}$/.test(code)) throw new Error('not an access code');
  return code;
}

/** A short text (a sent message's subject) encrypted to her console key; at most 998 characters shown. */
export async function decryptText(ciphertext: string, key: ConsoleKey): Promise<string> {
  const message = await openpgp.readMessage({ binaryMessage: fromBase64(ciphertext), config: CONFIG });
  const { data } = await openpgp.decrypt({ message, decryptionKeys: key, format: 'binary', config: CONFIG });
  return new TextDecoder().decode(data as Uint8Array).slice(0, 998);
}

/**
 * Her console key re-locked with a new password (a password change, docs/console.md): a new random salt,
 * Argon2id with the default parameters, the SAME private key locked with the new lockKey — and unlocked
 * again with a second derivation before anything is sent, so that a fault here can never leave her with a
 * lock nobody can open. What leaves the browser is the locked blob and the parameters, never the key.
 */
export async function relockConsoleKey(
  key: ConsoleKey,
  lockId: string,
  newPassword: string,
): Promise<{ fingerprint: string; lockedPrivateKey: string; kdf: Kdf }> {
  const plain = key.write();
  try {
    const { kdf, authKey, locked } = await lockUnderNewSecret(plain, newPassword, lockId);
    wipe(authKey); // she signs in with her password; the console key's authKey is not used
    return { fingerprint: key.getFingerprint().toUpperCase(), lockedPrivateKey: toBase64(locked), kdf };
  } finally {
    wipe(plain);
  }
}

/**
 * A new pickup contact's key pair, made in her browser for a client who chooses their own passphrase on her
 * device (docs/console.md "Own passphrase"): the same kind of key the server makes for a contact
 * (keys/openpgp/generate.ts generateContactKeyPair: curve25519, the address as User ID, no expiry), the
 * private half as binary packets to be locked at once, never sent.
 */
export async function newContactKeyPair(
  address: string,
): Promise<{ publicKey: string; privateKey: Uint8Array }> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: address }],
    keyExpirationTime: 0,
    format: 'object',
    config: CONFIG,
  });
  return { publicKey: privateKey.toPublic().armor(), privateKey: privateKey.write() };
}
