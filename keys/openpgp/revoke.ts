import { CONFIG, KEY_CONFIG, openpgp, type SigningKey } from './boundary.ts';

/**
 * A sender key's own revocation (docs/admin-console.md "Sender keys"): a key revocation signature made
 * with the private key, dated by the caller's clock. The armored public key that carries it is what export
 * and WKD serve from then on, so that correspondents' programs stop encrypting to it. The private half is
 * not changed: replies already encrypted to the key can still be read.
 */
export async function revokedPublicKey(key: SigningKey, now: Date): Promise<string> {
  const { publicKey } = await openpgp.revokeKey({
    key: key.key,
    reasonForRevocation: { flag: openpgp.enums.reasonForRevocation.keyRetired, string: '' },
    date: now,
    format: 'object',
    config: CONFIG,
  });
  return publicKey.armor(KEY_CONFIG);
}

/**
 * A private key read from a file the admin uploaded, unlocked with the passphrase she typed (openpgp
 * works on a clone; the locked input is left as it is). Throws on a wrong passphrase; the caller reports
 * it without the passphrase.
 */
export async function unlockedPrivateKey(key: openpgp.Key, passphrase: string): Promise<openpgp.Key> {
  if (!key.isPrivate() || key.isDecrypted()) return key;
  return openpgp.decryptKey({ privateKey: key, passphrase, config: CONFIG });
}
