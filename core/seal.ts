import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption at rest with keys derived from the master key (AES-256-GCM, HKDF-SHA-256 with a
 * purpose label so that a blob sealed for one purpose cannot be opened as another).
 *
 * Layouts:
 *   version 2 (written):  2 ‖ keyId(8) ‖ iv(12) ‖ tag(16) ‖ ciphertext
 *   version 1 (read):     1 ‖ iv(12) ‖ tag(16) ‖ ciphertext
 * keyId = the first 8 bytes of HKDF(master, 'sealpost/key-id'): it names the master key (and reveals nothing
 * of it), so that after a rotation (docs/backup.md "Rotating the master key") a blob is opened with the key
 * it was sealed with — the current one or a previous one. A version-1 blob names no key: it is tried with the
 * current key, then with each previous one. A key id that no configured key has is refused (fail closed).
 */
const V1 = 1;
const V2 = 2;
const KEY_ID = 8;
/** version (1) ‖ IV (12) ‖ GCM tag (16), then the ciphertext, as long as the plaintext. */
const HEADER_V1 = 29;
/** version (1) ‖ key id (8) ‖ IV (12) ‖ GCM tag (16). */
const HEADER_V2 = 37;
/** Bytes per cipher update: bounds the transient copies while sealing a large body. */
const CHUNK = 1024 * 1024;
export type SealPurpose = 'sender-private-key' | 'spool' | 'pickup' | 'console';

/** A blob names a master key that none of the configured keys (current, previous) is. */
export class UnknownSealKeyError extends Error {
  override name = 'UnknownSealKeyError';
  constructor(readonly keyId: string) {
    super(
      `sealed with an unknown master key (key id ${keyId}): configure it as SEALPOST_MASTER_KEY_PREVIOUS`,
    );
  }
}

/** One master key and the purpose keys derived from it. */
class MasterKey {
  readonly id: Buffer;
  readonly #master: Buffer;
  readonly #keys = new Map<SealPurpose, Buffer>();

  constructor(master: Uint8Array) {
    if (master.length !== 32) throw new Error('master key must be 32 bytes');
    this.#master = Buffer.from(master);
    this.id = Buffer.from(hkdfSync('sha256', this.#master, Buffer.alloc(0), 'sealpost/key-id', 32)).subarray(
      0,
      KEY_ID,
    );
  }

  key(purpose: SealPurpose): Buffer {
    let key = this.#keys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.#master, Buffer.alloc(0), `sealpost/${purpose}/v1`, 32));
      this.#keys.set(purpose, key);
    }
    return key;
  }
}

export class Sealer {
  readonly #current: MasterKey;
  /** Every configured key by its id (hex): the current one and the previous ones. */
  readonly #byId = new Map<string, MasterKey>();
  readonly #previous: readonly MasterKey[];

  /** `previous`: the keys of before a rotation, still opened (never used to seal). */
  constructor(masterKey: Uint8Array, previous: readonly Uint8Array[] = []) {
    this.#current = new MasterKey(masterKey);
    this.#previous = previous.map((k) => new MasterKey(k)).filter((k) => !k.id.equals(this.#current.id));
    for (const k of [this.#current, ...this.#previous]) this.#byId.set(k.id.toString('hex'), k);
  }

  /** The current key's id, hex (not secret: it names the key in logs and audit entries). */
  get keyId(): string {
    return this.#current.id.toString('hex');
  }

  /** True when `sealed` is a version-2 blob of the current key (a rotation skips it). */
  isCurrent(sealed: Uint8Array): boolean {
    return (
      sealed.length >= HEADER_V2 &&
      sealed[0] === V2 &&
      this.#current.id.equals(Buffer.from(sealed.buffer, sealed.byteOffset + 1, KEY_ID))
    );
  }

  /** Seal `plain`, or the concatenation of its parts (which are never joined into one more buffer). */
  seal(purpose: SealPurpose, plain: Uint8Array | readonly Uint8Array[], aad = ''): Buffer {
    const parts = plain instanceof Uint8Array ? [plain] : plain;
    const length = parts.reduce((n, p) => n + p.length, 0);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#current.key(purpose), iv);
    cipher.setAAD(Buffer.from(aad));
    // One output buffer, filled a chunk at a time: a large spool body is not held twice more.
    const out = Buffer.allocUnsafe(HEADER_V2 + length);
    out[0] = V2;
    this.#current.id.copy(out, 1);
    iv.copy(out, 1 + KEY_ID);
    let at = HEADER_V2;
    for (const part of parts) {
      for (let i = 0; i < part.length; i += CHUNK) {
        at += cipher.update(part.subarray(i, i + CHUNK)).copy(out, at);
      }
    }
    at += cipher.final().copy(out, at);
    cipher.getAuthTag().copy(out, 1 + KEY_ID + 12);
    return at === out.length ? out : out.subarray(0, at);
  }

  /**
   * Open a blob of either version. Throws when its key is not configured (UnknownSealKeyError), when it was
   * sealed for another purpose or associated data, or when a bit of it changed: nothing is returned then.
   */
  open(purpose: SealPurpose, sealed: Uint8Array, aad = ''): Buffer {
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (buf.length >= HEADER_V2 && buf[0] === V2) {
      const id = buf.subarray(1, 1 + KEY_ID).toString('hex');
      const key = this.#byId.get(id);
      if (!key) throw new UnknownSealKeyError(id);
      return decrypt(key.key(purpose), buf, 1 + KEY_ID, aad);
    }
    if (buf.length >= HEADER_V1 && buf[0] === V1) {
      // No key id: the current key, then the previous ones (a wrong key fails the tag check).
      let failure: unknown;
      for (const key of [this.#current, ...this.#previous]) {
        try {
          return decrypt(key.key(purpose), buf, 1, aad);
        } catch (err) {
          failure = err;
        }
      }
      throw failure instanceof Error ? failure : new Error('sealed blob does not open');
    }
    throw new Error('sealed blob has an unknown format');
  }
}

/** AES-256-GCM over `buf` from `at`: iv(12) ‖ tag(16) ‖ ciphertext, a chunk at a time into one buffer. */
function decrypt(key: Buffer, buf: Buffer, at: number, aad: string): Buffer {
  const start = at + 28;
  const decipher = createDecipheriv('aes-256-gcm', key, buf.subarray(at, at + 12));
  decipher.setAAD(Buffer.from(aad));
  decipher.setAuthTag(buf.subarray(at + 12, start));
  const out = Buffer.allocUnsafe(buf.length - start);
  let n = 0;
  for (let i = start; i < buf.length; i += CHUNK) {
    n += decipher.update(buf.subarray(i, i + CHUNK)).copy(out, n);
  }
  n += decipher.final().copy(out, n); // throws when the tag does not match: nothing is returned
  return n === out.length ? out : out.subarray(0, n);
}

/** Whether `text` is a master key as SEALPOST_MASTER_KEY takes it (32 bytes, 64 hex digits or base64). */
export function isMasterKey(text: string): boolean {
  try {
    parseMasterKey(text);
    return true;
  } catch {
    return false;
  }
}

export function parseMasterKey(text: string): Buffer {
  const trimmed = text.trim();
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed)
    ? Buffer.from(trimmed, 'hex')
    : Buffer.from(trimmed, 'base64');
  if (key.length !== 32) throw new Error('SEALPOST_MASTER_KEY must be 32 bytes, as 64 hex digits or base64');
  return key;
}

export function newMasterKey(): string {
  return randomBytes(32).toString('base64');
}
