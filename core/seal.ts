import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from 'node:crypto';

/**
 * Authenticated encryption at rest with keys derived from the master key (AES-256-GCM, HKDF-SHA-256 with a
 * purpose label so that a blob sealed for one purpose cannot be opened as another).
 * Layout: version(1) ‖ iv(12) ‖ tag(16) ‖ ciphertext.
 */
const VERSION = 1;
export type SealPurpose = 'sender-private-key' | 'spool';

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

  seal(purpose: SealPurpose, plain: Uint8Array, aad = ''): Buffer {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#key(purpose), iv);
    cipher.setAAD(Buffer.from(aad));
    const body = Buffer.concat([cipher.update(plain), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION]), iv, cipher.getAuthTag(), body]);
  }

  open(purpose: SealPurpose, sealed: Uint8Array, aad = ''): Buffer {
    const buf = Buffer.from(sealed);
    if (buf.length < 29 || buf[0] !== VERSION) throw new Error('sealed blob has an unknown format');
    const decipher = createDecipheriv('aes-256-gcm', this.#key(purpose), buf.subarray(1, 13));
    decipher.setAAD(Buffer.from(aad));
    decipher.setAuthTag(buf.subarray(13, 29));
    return Buffer.concat([decipher.update(buf.subarray(29)), decipher.final()]);
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
