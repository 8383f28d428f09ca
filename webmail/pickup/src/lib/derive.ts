import type { DerivedKeys, KdfParams } from './kdf.ts';

/**
 * Run one Argon2id derivation in a fresh worker and end it. The duration is recorded as the performance
 * measure `sealpost-kdf` (read by bench/pickup.ts; nothing else looks at it).
 */
export function derive(secret: string, kdf: KdfParams): Promise<DerivedKeys> {
  const started = performance.now();
  const worker = new Worker(new URL('./kdf.worker.ts', import.meta.url), { type: 'module' });
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
