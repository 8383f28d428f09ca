import { CONFIG, KEY_CONFIG, emailOf, openpgp, readAllKeys, readAnyKey } from './boundary.ts';
import { checkParsedKey, type KeyProblem } from './check.ts';

export type AutocryptKeyResult =
  { ok: true; binary: Uint8Array; fingerprint: string } | { ok: false; problem: KeyProblem | 'no-user-id' };

/**
 * An Autocrypt `keydata` key, reduced to what its header vouches for: a usable public key (checkParsedKey at
 * `now`) with only the User IDs whose address is `address` (and no user attributes). The packets are kept
 * in order: each User ID with the signatures that follow it, every subkey with its bindings.
 */
export async function autocryptKey(input: {
  keydata: Uint8Array;
  address: string;
  now: Date;
}): Promise<AutocryptKeyResult> {
  let key: openpgp.Key;
  try {
    key = await openpgp.readKey({ binaryKey: input.keydata, config: CONFIG });
  } catch {
    return { ok: false, problem: 'unreadable' };
  }
  if (key.isPrivate()) return { ok: false, problem: 'private-key' };
  const narrowed = narrowToAddress(key, input.address);
  if (!(narrowed instanceof openpgp.PublicKey)) return { ok: false, problem: narrowed };
  const check = await checkParsedKey(narrowed, input.now);
  if (!check.usable) return { ok: false, problem: check.problem };
  return { ok: true, binary: narrowed.write(), fingerprint: check.facts.fingerprint };
}

// ---------------------------------------------------------------------------------------------------------
// Key discovery (WKD, VKS): a published key, reduced to what the lookup vouches for.

export type NarrowedKeyResult =
  | { ok: true; binary: Uint8Array; fingerprint: string; expires: Date | null }
  | {
      ok: false;
      problem: KeyProblem | 'no-user-id';
      /**
       * Set when a public key with a User ID of the address was served but is not usable (revoked, expired,
       * weak, no encryption key): that key, narrowed the same way, so that a refresh can merge a revocation
       * or an expiry into the copy it holds. Never a key to encrypt to.
       */
      refused?: { binary: Uint8Array; fingerprint: string };
    };

const ARMOR_START = '-----BEGIN PGP';
/** A directory serves one key, at times a few (old and new); checking thousands would only burn CPU. */
const MAX_KEYS_PER_BLOCK = 16;

/**
 * The key with only the User IDs whose address is `address` (lower case), their signatures, and every
 * subkey with its bindings; no user attributes. The packets are kept in order: each User ID with the
 * signatures that follow it, every subkey with its bindings. 'unreadable' when the rest is no key,
 * 'no-user-id' when no User ID is left.
 */
function narrowToAddress(key: openpgp.Key, address: string): openpgp.PublicKey | 'unreadable' | 'no-user-id' {
  const kept = new openpgp.PacketList<openpgp.AnyPacket>();
  let keep = true;
  for (const packet of key.toPacketList()) {
    if (packet instanceof openpgp.UserIDPacket) keep = emailOf(packet.userID) === address;
    else if (packet instanceof openpgp.UserAttributePacket) keep = false;
    else if (!(packet instanceof openpgp.SignaturePacket)) keep = true; // the primary key, a subkey
    if (keep) kept.push(packet);
  }
  let narrowed: openpgp.PublicKey;
  try {
    narrowed = new openpgp.PublicKey(kept);
  } catch {
    return 'unreadable';
  }
  return narrowed.users.length > 0 ? narrowed : 'no-user-id';
}

/** narrowToAddress, or null when nothing usable is left (discovery and publishing need no reason). */
function narrowedToAddress(key: openpgp.Key, address: string): openpgp.PublicKey | null {
  const narrowed = narrowToAddress(key, address);
  return narrowed instanceof openpgp.PublicKey ? narrowed : null;
}

/**
 * A published public key (binary, or ASCII-armored as text or bytes; a block may hold several keys),
 * narrowed like an Autocrypt key: only the User IDs whose address is `address` (case-insensitive), usable
 * at `now`. The first usable key wins; otherwise the first key's problem (and the first refused key).
 */
export async function narrowKeyToAddress(input: {
  data: Uint8Array | string;
  address: string;
  now: Date;
}): Promise<NarrowedKeyResult> {
  let data = input.data;
  if (typeof data !== 'string') {
    const head = Buffer.from(data.subarray(0, 64)).toString('latin1').trimStart();
    if (head.startsWith(ARMOR_START)) data = Buffer.from(data).toString('utf8');
  }
  let keys: openpgp.Key[];
  try {
    keys = await readAllKeys(data);
  } catch {
    return { ok: false, problem: 'unreadable' };
  }
  const address = input.address.toLowerCase();
  let problem: KeyProblem | 'no-user-id' | undefined;
  let refused: { binary: Uint8Array; fingerprint: string } | undefined;
  for (const key of keys.slice(0, MAX_KEYS_PER_BLOCK)) {
    if (key.isPrivate()) {
      problem ??= 'private-key';
      continue;
    }
    const narrowed = narrowedToAddress(key, address);
    if (!narrowed) {
      problem ??= 'no-user-id';
      continue;
    }
    const check = await checkParsedKey(narrowed, input.now);
    const binary = narrowed.write();
    if (check.usable) {
      return { ok: true, binary, fingerprint: check.facts.fingerprint, expires: check.facts.expires };
    }
    problem ??= check.problem;
    refused ??= { binary, fingerprint: narrowed.getFingerprint().toUpperCase() };
  }
  return { ok: false, problem: problem ?? 'unreadable', ...(refused ? { refused } : {}) };
}

/**
 * Merge the signatures of `update` (the same key, fetched again: new subkeys, a later expiry, a revocation)
 * into the stored armored key. Returns the merged armored public key, or undefined when `update` is not
 * the same key or unreadable. openpgp's update keeps only signatures that verify.
 */
export async function mergeKeys(stored: string, update: Uint8Array): Promise<string | undefined> {
  try {
    const base = await openpgp.readKey({ armoredKey: stored, config: CONFIG });
    const fresh = await openpgp.readKey({ binaryKey: update, config: CONFIG });
    if (fresh.isPrivate() || fresh.getFingerprint() !== base.getFingerprint()) return undefined;
    const merged = await base.update(fresh, undefined, KEY_CONFIG);
    return merged.toPublic().armor();
  } catch {
    return undefined;
  }
}

// ---------------------------------------------------------------------------------------------------------
// WKD publishing: a sender's public key as Sealpost's Web Key Directory serves it.

/**
 * The binary public key to publish for `address`: only the User IDs of that address (and their
 * signatures), every subkey, no user attributes — the reduction narrowKeyToAddress applies to a fetched
 * key. No usability check: it is our own sender key, served as it is. Undefined when no User ID carries
 * the address or the input is no key.
 */
export async function publishedKey(input: {
  armored: string;
  address: string;
}): Promise<{ binary: Uint8Array; fingerprint: string } | undefined> {
  let key: openpgp.Key;
  try {
    key = await readAnyKey(input.armored);
  } catch {
    return undefined;
  }
  const narrowed = narrowedToAddress(key.isPrivate() ? key.toPublic() : key, input.address.toLowerCase());
  if (!narrowed) return undefined;
  return { binary: narrowed.write(), fingerprint: narrowed.getFingerprint().toUpperCase() };
}
