import type { CryptoPool } from './crypto-pool.ts';
import {
  encryptAndSignArmoredCrlf,
  encryptAndSignBinary,
  keyBytes,
  STREAM_THRESHOLD,
  type ArmorSink,
  type EncryptionKey,
  type SigningKey,
} from './openpgp/index.ts';

/**
 * OpenPGP sign + encrypt of one outgoing copy, where it runs: in the crypto pool's threads (the second
 * core; issue 17) or in this thread. A message up to STREAM_THRESHOLD is joined once into a buffer of its
 * own and moved (not copied) to a pool thread with the keys as bytes; a larger one stays in this thread on
 * openpgp.js's streams, so that it is never held twice (docs/performance.md "Memory of one large message").
 * The result is the same OpenPGP message either way.
 */
export interface SignEncryptInput {
  parts: readonly Uint8Array[];
  to: readonly EncryptionKey[];
  signer: SigningKey;
  now: Date;
}

/**
 * `armored-crlf`: ASCII armor with CRLF line ends, as chunks (PGP/MIME); `binary`: packets (a pickup).
 * `sink` (armored only): above STREAM_THRESHOLD the armor goes there chunk by chunk and [] is returned.
 */
export type SignEncrypt = (
  input: SignEncryptInput,
  format: 'armored-crlf' | 'binary',
  sink?: ArmorSink,
) => Promise<Buffer[]>;

export const inThreadSignEncrypt: SignEncrypt = (input, format, sink) =>
  format === 'binary' ? encryptAndSignBinary(input) : encryptAndSignArmoredCrlf(input, sink);

export function pooledSignEncrypt(pool: CryptoPool): SignEncrypt {
  if (pool.threads === 0) return inThreadSignEncrypt;
  return async (input, format, sink) => {
    if (input.to.length === 0) throw new Error('no encryption keys');
    const total = input.parts.reduce((n, p) => n + p.length, 0);
    if (total > STREAM_THRESHOLD) return inThreadSignEncrypt(input, format, sink);
    const data = new Uint8Array(total); // its own ArrayBuffer: moved to the thread whole
    let at = 0;
    for (const part of input.parts) {
      data.set(part, at);
      at += part.length;
    }
    const out = await pool.run(
      'signEncrypt',
      {
        data,
        to: input.to.map(keyBytes),
        signer: keyBytes(input.signer),
        nowMs: input.now.getTime(),
        format,
      },
      [data.buffer],
    );
    return out.map((u) => Buffer.from(u.buffer, u.byteOffset, u.byteLength));
  };
}
