import type { DerivedKeys, KdfParams } from './kdf.ts';

/**
 * Argon2id in a worker that is ended after one derivation. `prepare()` starts the next worker early (when
 * the code field is shown) so that loading and compiling the WASM overlap with typing. The duration of a
 * derivation is recorded as the performance measure `sealpost-kdf` (read by bench/pickup.ts).
 */
let next: Worker | undefined;

function spawn(): Worker {
  return new Worker(new URL('./kdf.worker.ts', import.meta.url), { type: 'module' });
}

export function prepare(): void {
  if (next) return;
  next = spawn();
  next.postMessage({ warm: true });
}

export function derive(secret: string, kdf: KdfParams): Promise<DerivedKeys> {
  const started = performance.now();
  const worker = next ?? spawn();
  next = undefined;
  return new Promise<DerivedKeys>((resolve, reject) => {
    worker.onmessage = (e: MessageEvent<{ ok: boolean; authKey?: Uint8Array; lockKey?: Uint8Array }>) => {
      worker.terminate();
      performance.measure('sealpost-kdf', { start: started, end: performance.now() });
      const { authKey, lockKey } = e.data;
      if (e.data.ok && authKey?.length === 32 && lockKey?.length === 32) resolve({ authKey, lockKey });
      else reject(new Error('key derivation failed'));
    };
    worker.onerror = () => {
      worker.terminate();
      reject(new Error('key derivation failed'));
    };
    worker.postMessage({ secret, kdf });
  });
}
