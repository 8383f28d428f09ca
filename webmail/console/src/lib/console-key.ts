import * as openpgp from 'openpgp/lightweight';
import { fromBase64 } from '../../../pickup/src/lib/bytes.ts';
import { derive } from '../../../pickup/src/lib/derive.ts';
import { unlockPrivateKey } from '../../../pickup/src/lib/lock.ts';
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
