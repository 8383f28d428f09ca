import { fromBase64 } from './bytes.ts';
import { deriveKeys, type KdfParams } from './kdf.ts';

/**
 * Argon2id off the main thread: the page keeps painting its progress, and the 64 MiB of WASM memory go
 * away with the worker when it is terminated after one derivation. `{ warm: true }` compiles the WASM
 * ahead (a derivation with tiny parameters, result dropped) while the person is still typing.
 */
type Request = { warm: true } | { warm?: false; secret: string; kdf: KdfParams };

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

const WARM = { alg: 'argon2id', salt: '', memoryKiB: 8, iterations: 1, parallelism: 1 } as const;

scope.onmessage = (e) => {
  const req = e.data;
  if (req.warm) {
    deriveKeys('warm', WARM, new Uint8Array(16)).catch(() => undefined);
    return;
  }
  deriveKeys(req.secret, req.kdf, fromBase64(req.kdf.salt)).then(
    (keys) => scope.postMessage({ ok: true, ...keys }, [keys.authKey.buffer, keys.lockKey.buffer]),
    () => scope.postMessage({ ok: false }, []),
  );
};
