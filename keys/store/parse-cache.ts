import { createHash } from 'node:crypto';
import { checkParsedKey, parseEncryptionKey, parseSigningKey } from '../openpgp/index.ts';
import type { EncryptionKey, KeyCheck, SigningKey } from '../openpgp/index.ts';

const CACHE_LIMIT = 1000;
/** How long a key's validity check is reused (revocations imported meanwhile replace the key at once). */
const CHECK_TTL_MS = 60_000;

/**
 * Parsed keys and their validity checks, cached by fingerprint plus a hash of the stored key material:
 * parsing and checking self-signatures cost more than signing a message. The material is part of the
 * cache key because another process (the worker's refresh, a second gateway) may rewrite a key's row with
 * the same fingerprint — new subkeys, a later expiry, a revocation merged in — and a copy cached by
 * fingerprint alone would stay stale. Bounded: the oldest entry goes when a map is full.
 */
export class ParseCache {
  readonly #publics = new Map<string, EncryptionKey>();
  readonly #signers = new Map<string, SigningKey>();
  readonly #checks = new Map<string, { check: KeyCheck; from: number; until: number }>();
  #parses = 0;

  /** How many keys were parsed (not served from the cache) since this cache was built; tests read it. */
  get parses(): number {
    return this.#parses;
  }

  /** The parsed public key of this fingerprint and armored material. */
  async publicKey(fingerprint: string, armored: string): Promise<EncryptionKey> {
    const id = cacheId(fingerprint, armored);
    let parsed = this.#publics.get(id);
    if (!parsed) {
      parsed = await parseEncryptionKey(armored);
      this.#parses++;
      remember(this.#publics, id, parsed);
    }
    return parsed;
  }

  /**
   * The public key and its validity check at `now`. A check is reused until the earlier of CHECK_TTL_MS
   * and the key's expiry, and only for the very same material.
   */
  async checked(
    fingerprint: string,
    armored: string,
    now: Date,
  ): Promise<{ key: EncryptionKey; check: KeyCheck }> {
    const key = await this.publicKey(fingerprint, armored);
    const id = cacheId(fingerprint, armored);
    const cached = this.#checks.get(id);
    const t = now.getTime();
    if (cached && t >= cached.from && t < cached.until) return { key, check: cached.check };
    const check = await checkParsedKey(key.key, now);
    const expires = check.facts?.expires?.getTime() ?? Infinity;
    remember(this.#checks, id, { check, from: t, until: Math.min(t + CHECK_TTL_MS, expires) });
    return { key, check };
  }

  /** The unlocked signing key of a sender key row; `open` unseals the armored private key on a miss. */
  async signer(fingerprint: string, sealed: Uint8Array, open: () => string): Promise<SigningKey> {
    const id = cacheId(fingerprint, sealed);
    let signer = this.#signers.get(id);
    if (!signer) {
      signer = await parseSigningKey(open());
      this.#parses++;
      remember(this.#signers, id, signer);
    }
    return signer;
  }
}

function cacheId(fingerprint: string, material: string | Uint8Array): string {
  return `${fingerprint}:${createHash('sha256').update(material).digest('base64url')}`;
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
}
