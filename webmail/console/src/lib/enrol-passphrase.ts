import type { EnrolPassphraseRequest } from '../../../contract/console-enrol.ts';
import { toBase64, wipe } from '../../../pickup/src/lib/bytes.ts';
import { charLength, MIN_PASSPHRASE, normalisePassphrase } from '../../../pickup/src/lib/code.ts';
import { lockUnderNewSecret } from '../../../pickup/src/lib/relock.ts';
import { newContactKeyPair } from './console-key.ts';

/**
 * A new contact locked under the passphrase the client types on her device (docs/console.md "Own
 * passphrase"): the pickup app's rule (at least MIN_PASSPHRASE characters, typed twice), a key pair made
 * here, locked as the pickup app's "change the code" locks one (lib/relock.ts: the passphrase cost,
 * checked by unlocking again), with a contact id chosen here because the lock names it. What the request
 * carries is what "change the code" uploads, plus the public key: never the passphrase, lockKey or the
 * private key, which are wiped before this returns.
 */
export type OwnPassphraseProblem = 'short' | 'mismatch';

export async function ownPassphraseRequest(
  address: string,
  typed: string,
  repeat: string,
): Promise<{ ok: true; request: EnrolPassphraseRequest } | { ok: false; problem: OwnPassphraseProblem }> {
  const secret = normalisePassphrase(typed);
  if (charLength(secret) < MIN_PASSPHRASE) return { ok: false, problem: 'short' };
  if (secret !== normalisePassphrase(repeat)) return { ok: false, problem: 'mismatch' };
  const contactId = crypto.randomUUID();
  const pair = await newContactKeyPair(address);
  try {
    const { kdf, authKey, locked } = await lockUnderNewSecret(pair.privateKey, secret, contactId);
    try {
      return {
        ok: true,
        request: {
          address,
          contactId,
          publicKey: pair.publicKey,
          secret: {
            secretKind: 'passphrase',
            kdf,
            authKey: toBase64(authKey),
            lockedPrivateKey: toBase64(locked),
          },
        },
      };
    } finally {
      wipe(authKey);
    }
  } finally {
    wipe(pair.privateKey);
  }
}
