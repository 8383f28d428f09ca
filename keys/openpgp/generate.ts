import { CONFIG, openpgp } from './boundary.ts';
import { armorPublic } from './check.ts';

export interface GeneratedKeyPair {
  publicKey: string;
  privateKey: string; // armored, not passphrase-protected: it is sealed at rest by the caller
  fingerprint: string;
}

/** A sender key: Ed25519 primary (certify + sign) and a Cv25519 encryption subkey, v4, no expiry. */
export async function generateKeyPair(input: {
  address: string;
  name?: string;
  now: Date;
}): Promise<GeneratedKeyPair> {
  const { privateKey, publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: input.address, ...(input.name ? { name: input.name } : {}) }],
    date: input.now,
    keyExpirationTime: 0,
    format: 'armored',
    config: CONFIG,
  });
  const parsed = await openpgp.readKey({ armoredKey: publicKey, config: CONFIG });
  return { publicKey, privateKey, fingerprint: parsed.getFingerprint().toUpperCase() };
}

/** A pickup contact's key pair: like a sender key, with the private key as binary packets (to be locked). */
export async function generateContactKeyPair(input: {
  address: string;
  now: Date;
}): Promise<{ publicKey: string; privateKey: Uint8Array; fingerprint: string }> {
  const { privateKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [{ email: input.address }],
    date: input.now,
    keyExpirationTime: 0,
    format: 'object',
    config: CONFIG,
  });
  return {
    publicKey: armorPublic(privateKey),
    privateKey: privateKey.write(),
    fingerprint: privateKey.getFingerprint().toUpperCase(),
  };
}
