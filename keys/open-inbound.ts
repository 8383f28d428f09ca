import type { CryptoPool } from './crypto-pool.ts';
import {
  decryptInbound,
  keyBytes,
  STREAM_THRESHOLD,
  type EncryptionKey,
  type InboundDecryption,
  type SigningKey,
} from './openpgp/index.ts';

/**
 * Decrypt and verify one inbound message where it runs (issue 17): in the crypto pool's threads when the
 * process has one and the message is small (the inbound listener's event loop keeps serving the other
 * sending MTAs and the relay), in this thread otherwise (a large one is not copied to a thread and back).
 * The checks are decryptInbound's either way (EFAIL-safe, decompression capped, a problem value on any
 * failure); keys cross as binary packets (keys/openpgp/wire.ts).
 */
export interface OpenInboundInput {
  armored: string;
  decryptionKeys: readonly SigningKey[];
  verificationKeys: readonly EncryptionKey[];
  candidateKeys?: readonly EncryptionKey[];
  now: Date;
  maxDecompressedBytes: number;
}

export type OpenInbound = (input: OpenInboundInput) => Promise<InboundDecryption>;

export function pooledOpenInbound(pool: CryptoPool | undefined): OpenInbound {
  if (!pool || pool.threads === 0) return decryptInbound;
  return async (input) => {
    if (input.armored.length > STREAM_THRESHOLD || input.decryptionKeys.length === 0)
      return decryptInbound(input);
    const out = await pool.run('openInbound', {
      armored: input.armored,
      decryptionKeys: input.decryptionKeys.map(keyBytes),
      verificationKeys: input.verificationKeys.map(keyBytes),
      candidateKeys: (input.candidateKeys ?? []).map(keyBytes),
      nowMs: input.now.getTime(),
      maxDecompressedBytes: input.maxDecompressedBytes,
    });
    return out;
  };
}
