import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption at rest with keys derived from the master key (AES-256-GCM, HKDF-SHA-256 with a
 * purpose label so that a blob sealed for one purpose cannot be opened as another).
 * Layout: version(1) ‖ iv(12) ‖ tag(16) ‖ ciphertext.
 */
const VERSION = 1;
/** version (1) ‖ IV (12) ‖ GCM tag (16), then the ciphertext, as long as the plaintext. */
const HEADER = 29;
/** Bytes per cipher update: bounds the transient copies while sealing a large body. */
const CHUNK = 1024 * 1024;
export type SealPurpose = 'sender-private-key' | 'spool' | 'pickup' | 'console';

export class Sealer {
  readonly #keys = new Map<SealPurpose, Buffer>();
  readonly #master: Buffer;

  constructor(masterKey: Uint8Array) {
    if (masterKey.length !== 32) throw new Error('master key must be 32 bytes');
    this.#master = Buffer.from(masterKey);
  }

  #key(purpose: SealPurpose): Buffer {
    let key = this.#keys.get(purpose);
    if (!key) {
      key = Buffer.from(hkdfSync('sha256', this.#master, Buffer.alloc(0), `sealpost/${purpose}/v1`, 32));
      this.#keys.set(purpose, key);
    }
    return key;
  }

  /** Seal `plain`, or the concatenation of its parts (which are never joined into one more buffer). */
  seal(purpose: SealPurpose, plain: Uint8Array | readonly Uint8Array[], aad = ''): Buffer {
    const parts = plain instanceof Uint8Array ? [plain] : plain;
    const length = parts.reduce((n, p) => n + p.length, 0);
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key(purpose), iv);
    cipher.setAAD(Buffer.from(aad));
    // One output buffer, filled a chunk at a time: a large spool body is not held twice more.
    const out = Buffer.allocUnsafe(HEADER + length);
    out[0] = VERSION;
    iv.copy(out, 1);
    let at = HEADER;
    for (const part of parts) {
      for (let i = 0; i < part.length; i += CHUNK) {
        at += cipher.update(part.subarray(i, i + CHUNK)).copy(out, at);
      }
    }
    at += cipher.final().copy(out, at);
    cipher.getAuthTag().copy(out, 13);
    return at === out.length ? out : out.subarray(0, at);
  }

  open(purpose: SealPurpose, sealed: Uint8Array, aad = ''): Buffer {
    const buf = Buffer.from(sealed.buffer, sealed.byteOffset, sealed.byteLength);
    if (buf.length < HEADER || buf[0] !== VERSION) throw new Error('sealed blob has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.#key(purpose), buf.subarray(1, 13));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(buf.subarray(13, HEADER));
    const out = Buffer.allocUnsafe(buf.length - HEADER);
    let at = 0;
    for (let i = HEADER; i < buf.length; i += CHUNK) {
      at += decipher.update(buf.subarray(i, i + CHUNK)).copy(out, at);
    }
    at += decipher.final().copy(out, at); // throws when the tag does not match: nothing is returned
    return at === out.length ? out : out.subarray(0, at);
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
