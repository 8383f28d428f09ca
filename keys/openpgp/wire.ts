import { createHash } from 'node:crypto';
import { CONFIG, openpgp, type EncryptionKey, type SigningKey } from './boundary.ts';
import { toEncryptionKey } from './check.ts';

/**
 * Keys across a thread boundary (keys/crypto-pool.ts): openpgp objects do not survive a structured clone,
 * so a key travels as its binary packets and the pool thread parses it once. Both sides cache: the
 * sending side the bytes of a parsed key (one write per key object), the receiving side the parsed key per
 * bytes (one parse per key, not per message). A signing key travels unlocked, as it is held in memory
 * anyway; it never leaves the process.
 */
const written = new WeakMap<object, Uint8Array>();

export function keyBytes(key: EncryptionKey | SigningKey): Uint8Array {
  let bytes = written.get(key.key);
  if (!bytes) {
    bytes = key.key.write();
    written.set(key.key, bytes);
  }
  return bytes;
}

/** Parsed keys per digest of their bytes, in a pool thread; bounded (a full cache starts over). */
const MAX_CACHED = 512;
const parsedPublic = new Map<string, Promise<EncryptionKey>>();
const parsedPrivate = new Map<string, Promise<SigningKey>>();

function cached<T>(cache: Map<string, Promise<T>>, bytes: Uint8Array, parse: () => Promise<T>): Promise<T> {
  const id = createHash('sha256').update(bytes).digest('hex');
  let hit = cache.get(id);
  if (!hit) {
    if (cache.size >= MAX_CACHED) cache.clear();
    hit = parse();
    hit.catch(() => cache.delete(id)); // a key that failed to parse is not remembered
    cache.set(id, hit);
  }
  return hit;
}

export function encryptionKeyFromBytes(bytes: Uint8Array): Promise<EncryptionKey> {
  return cached(parsedPublic, bytes, async () =>
    toEncryptionKey(await openpgp.readKey({ binaryKey: bytes, config: CONFIG })),
  );
}

export function signingKeyFromBytes(bytes: Uint8Array): Promise<SigningKey> {
  return cached(parsedPrivate, bytes, async () => {
    const key = await openpgp.readPrivateKey({ binaryKey: bytes, config: CONFIG });
    if (!key.isDecrypted()) throw new Error('signing key arrived locked');
    return { fingerprint: key.getFingerprint().toUpperCase(), key, publicKey: key.toPublic() };
  });
}
