import type { Clock } from '../../core/clock.ts';

/**
 * Attempts per key (an IP address) in a sliding window, in memory (per webmail process: with N processes
 * the bound is N × limit; the per-contact lock in the database is the hard limit). Bounded in size.
 */
export class WindowLimiter {
  readonly #hits = new Map<string, number[]>();
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #clock: Clock;

  constructor(options: { limit: number; windowSeconds: number; clock: Clock }) {
    this.#limit = options.limit;
    this.#windowMs = options.windowSeconds * 1000;
    this.#clock = options.clock;
  }

  /** Whether one more attempt is allowed now; counts it when it is. */
  take(key: string): boolean {
    const now = this.#clock.now().getTime();
    const recent = (this.#hits.get(key) ?? []).filter((t) => t > now - this.#windowMs);
    if (recent.length >= this.#limit) {
      this.#hits.set(key, recent);
      return false;
    }
    recent.push(now);
    this.#hits.set(key, recent);
    if (this.#hits.size > 100_000) this.#sweep(now);
    return true;
  }

  #sweep(now: number): void {
    for (const [key, hits] of this.#hits) {
      if (hits.every((t) => t <= now - this.#windowMs)) this.#hits.delete(key);
    }
  }
}
