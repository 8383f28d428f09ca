import { CONFIG, KEY_CONFIG, openpgp, type SigningKey } from './boundary.ts';

/**
 * A private key for its owner to take away (`sealpost key export --secret`): armored, every secret
 * (sub)key locked with `passphrase` (iterated and salted S2K, AES-256; GnuPG reads it and asks for the
 * passphrase). openpgp.encryptKey works on a deep clone, so the unlocked key the server uses (and caches)
 * is not touched. An empty passphrase is refused here too, not only by the command: a key "locked" with
 * nothing would be in clear.
 */
export async function lockedPrivateKey(key: SigningKey, passphrase: string): Promise<string> {
  if (passphrase.length === 0) throw new Error('refusing to export a private key without a passphrase');
  const locked = await openpgp.encryptKey({
    privateKey: key.key,
    passphrase,
    config: { ...CONFIG, preferredSymmetricAlgorithm: openpgp.enums.symmetric.aes256 },
  });
  return locked.armor(KEY_CONFIG);
}
