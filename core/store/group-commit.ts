import type { Stores } from './index.ts';

/**
 * Group commit (issue 17): write jobs that arrive in one turn of the event loop run in ONE transaction,
 * so that many messages share one commit and its fsync (better-sqlite3 is synchronous: every fsync stops
 * the event loop; docs/performance.md). Each job's promise settles only after the commit that holds it, so
 * a caller that answers 250 on it still answers after its rows are durable (DESIGN.md invariant 3).
 *
 * A failure anywhere rolls the whole group back; then every job of it runs again alone, in a transaction
 * of its own, so that only the job that fails fails (and the others commit). Jobs must therefore only
 * write through the stores they are given and be safe to run again after a rollback.
 */
type Job = (stores: Stores) => Promise<void>;

export class GroupCommit {
  readonly #pending: { job: Job; resolve: () => void; reject: (err: unknown) => void }[] = [];

  constructor(private readonly stores: Pick<Stores, 'transaction'>) {}

  run(job: Job): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ job, resolve, reject });
      if (this.#pending.length === 1) setImmediate(() => void this.#commit());
    });
  }

  async #commit(): Promise<void> {
    const batch = this.#pending.splice(0);
    if (batch.length > 1) {
      try {
        await this.stores.transaction(async (stores) => {
          for (const b of batch) await b.job(stores);
        });
        for (const b of batch) b.resolve();
        return;
      } catch {
        // One of them failed (or the commit did): each alone below, so that the error lands where it belongs.
      }
    }
    for (const b of batch) {
      try {
        await this.stores.transaction(b.job);
        b.resolve();
      } catch (err) {
        b.reject(err);
      }
    }
  }
}
