import { argon2id } from 'hash-wasm';
import { utf8 } from './bytes.ts';

/**
 * authKey ‖ lockKey = Argon2id(secret, salt, memoryKiB, iterations, parallelism), 64 bytes (docs/pickup.md).
 * `secret` is already normalised (checkCode / normalisePassphrase). The same function runs in the worker
 * (kdf.worker.ts) and in the unit test that pins it to the server's derivation.
 */
export interface KdfParams {
  alg: 'argon2id';
  salt: string; // base64, 16 bytes
  memoryKiB: number;
  iterations: number;
  parallelism: number;
}

/** The parameters every new secret is derived with (the server refuses weaker ones). */
export const DEFAULT_KDF = { alg: 'argon2id', memoryKiB: 65536, iterations: 3, parallelism: 1 } as const;

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
