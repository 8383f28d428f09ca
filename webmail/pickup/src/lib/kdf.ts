import { argon2id } from 'hash-wasm';
import { KDF_MINIMUM, type Kdf } from '../../../contract/pickup.ts';
import { utf8 } from './bytes.ts';

/**
 * authKey ‖ lockKey = Argon2id(secret, salt, memoryKiB, iterations, parallelism), 64 bytes (docs/pickup.md).
 * `secret` is already normalised (checkCode / normalisePassphrase). The same function runs in the worker
 * (kdf.worker.ts) and in the unit test that pins it to the server's derivation.
 */
export type KdfParams = Kdf;

/** The parameters every new secret is derived with (the server refuses weaker ones: the same contract). */
export const DEFAULT_KDF = KDF_MINIMUM;

export interface DerivedKeys {
  authKey: Uint8Array; // 32 bytes, sent at unlock
  lockKey: Uint8Array; // 32 bytes, never leaves the browser
}

export async function deriveKeys(secret: string, kdf: KdfParams, salt: Uint8Array): Promise<DerivedKeys> {
  const out = await argon2id({
    password: utf8(secret.normalize('NFC')),
    salt,
    iterations: kdf.iterations,
    memorySize: kdf.memoryKiB,
    parallelism: kdf.parallelism,
    hashLength: 64,
    outputType: 'binary',
  });
  return { authKey: out.slice(0, 32), lockKey: out.slice(32, 64) };
}
