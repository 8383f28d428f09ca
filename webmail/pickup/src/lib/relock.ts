import type { Kdf } from '../../../contract/pickup.ts';
import { equalBytes, toBase64, wipe } from './bytes.ts';
import { derive } from './derive.ts';
import { DEFAULT_KDF } from './kdf.ts';
import { lockPrivateKey, unlockPrivateKey } from './lock.ts';

/**
 * A private key locked under a secret a person chose (docs/pickup.md): a new random salt, Argon2id with the
 * passphrase cost (DEFAULT_KDF: the server refuses fewer passes), the key locked with lockKey — and unlocked
 * again with a second derivation before anything leaves the browser, so that a fault here can never leave
 * anyone with a lock nobody can open. The one implementation of the pickup app's "change the code", the
 * console's password change (her console key) and enrolment with the client's own passphrase.
 * The caller sends `authKey` (or not) and wipes it; `lockKey` never leaves this function.
 */
export async function lockUnderNewSecret(
  privateKey: Uint8Array,
  secret: string,
  lockId: string,
): Promise<{ kdf: Kdf; authKey: Uint8Array; locked: Uint8Array }> {
  const kdf: Kdf = { ...DEFAULT_KDF, salt: toBase64(crypto.getRandomValues(new Uint8Array(16))) };
  const first = await derive(secret, kdf);
  try {
    const locked = await lockPrivateKey(privateKey, first.lockKey, lockId);
    const again = await derive(secret, kdf);
    const check = await unlockPrivateKey(locked, again.lockKey, lockId);
    const same = equalBytes(check, privateKey) && equalBytes(again.authKey, first.authKey);
    wipe(check, again.authKey, again.lockKey);
    if (!same) throw new Error('the new lock does not open');
    return { kdf, authKey: first.authKey, locked };
  } catch (err) {
    wipe(first.authKey);
    throw err;
  } finally {
    wipe(first.lockKey);
  }
}
