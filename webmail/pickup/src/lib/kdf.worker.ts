import { fromBase64 } from './bytes.ts';
import { deriveKeys, type KdfParams } from './kdf.ts';

/**
 * Argon2id off the main thread: the page keeps painting its progress, and the 64 MiB of WASM memory go
 * away with the worker when it is terminated after one derivation.
 */
interface Request {
  secret: string;
  kdf: KdfParams;
}

const scope = self as unknown as {
  onmessage: ((e: MessageEvent<Request>) => void) | null;
  postMessage(message: unknown, transfer: Transferable[]): void;
};

scope.onmessage = (e) => {
  deriveKeys(e.data.secret, e.data.kdf, fromBase64(e.data.kdf.salt)).then(
    (keys) => scope.postMessage({ ok: true, ...keys }, [keys.authKey.buffer, keys.lockKey.buffer]),
    () => scope.postMessage({ ok: false }, []),
  );
};
