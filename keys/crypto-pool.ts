import { availableParallelism } from 'node:os';
import { Piscina } from 'piscina';
import { runTask, type TaskName, type TaskInput, type TaskOutput } from './crypto-tasks.ts';

/**
 * One pool of worker threads per process for CPU-heavy crypto (keys/crypto-tasks.ts): a new pickup
 * contact's key generation and Argon2id (64 MiB, t=3) took about half a second each on the event loop, so
 * one message to 100 new contacts held every other SMTP session and HTTP request for a minute.
 *
 * Bounded: at most `threads` tasks run at once (never more than the machine's cores), the rest wait in the
 * pool's queue, so memory for N new contacts is about threads × 64 MiB whatever N is. Threads start on
 * demand and end after IDLE_MS without work (an Argon2id thread keeps its 64 MiB of WASM memory while it
 * lives). Built once by the composition root (cli/start.ts), passed down, closed on shutdown.
 */
export interface CryptoPool {
  /** `transfer`: buffers of `input` moved to the thread, not copied (unusable here afterwards). */
  run<K extends TaskName>(task: K, input: TaskInput<K>, transfer?: ArrayBuffer[]): Promise<TaskOutput<K>>;
  /** Tasks finished since the pool was built (tests and the bench read it). */
  readonly completed: number;
  readonly threads: number;
  close(): Promise<void>;
}

const IDLE_MS = 30_000;

/** Default size: the cores, at most 4 (4 × 64 MiB of Argon2id at the worst). */
export function defaultCryptoThreads(): number {
  return Math.max(1, Math.min(availableParallelism(), 4));
}

export function createCryptoPool(options: { threads?: number } = {}): CryptoPool {
  const threads = Math.max(1, Math.min(options.threads ?? defaultCryptoThreads(), availableParallelism()));
  const pool = new Piscina({
    filename: new URL('./crypto-worker.mjs', import.meta.url).href,
    minThreads: 0,
    maxThreads: threads,
    idleTimeout: IDLE_MS,
    concurrentTasksPerWorker: 1,
  });
  let closed = false;
  return {
    run: (task, input, transfer) => {
      if (closed) return Promise.reject(new Error('crypto pool closed'));
      const options = transfer?.length ? { transferList: transfer } : {};
      return pool.run({ task, input }, options) as Promise<TaskOutput<typeof task>>;
    },
    get completed() {
      return pool.completed;
    },
    threads,
    async close() {
      if (closed) return;
      closed = true;
      await pool.close({ force: true });
    },
  };
}

/**
 * The same tasks in the calling thread, for a one-shot command (`sealpost contact code`) whose event loop
 * serves nobody else. A server process uses createCryptoPool.
 */
export function inThreadCrypto(): CryptoPool {
  let completed = 0;
  return {
    async run<K extends TaskName>(task: K, input: TaskInput<K>): Promise<TaskOutput<K>> {
      const out: TaskOutput<K> = await runTask<K>({ task, input });
      completed++;
      return out;
    },
    get completed() {
      return completed;
    },
    threads: 0,
    close: async () => undefined,
  };
}
