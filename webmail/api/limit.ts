import type { RateLimiterRedis } from 'rate-limiter-flexible';
import type { LimitStore } from '../../core/limit-store.ts';
import { clientKey } from '../../core/net-address.ts';

/**
 * Wrong pickup codes per client address (an IPv6 /64) per WINDOW_SECONDS, over all contacts, in Redis so
 * that it holds across webmail processes (docs/pickup.md "Limits"). Only wrong codes count: a practice's
 * thirty clients behind one NAT who type their right codes are never refused. Once an address has
 * `limit` wrong codes in the window, every unlock from it is refused — a right code too, or the limit would
 * be an oracle — until the window (which starts at its first wrong code) has passed.
 *
 * An attempt takes its point before the code is compared and gives it back when the code was right: a burst
 * of parallel guesses cannot all pass the check before any of them is counted.
 */
export const WINDOW_SECONDS = 900;

export type UnlockTicket = { allowed: true; key: string } | { allowed: false; retryAfterSeconds: number };

export class UnlockLimiter {
  readonly #wrong: RateLimiterRedis;
  readonly #limit: number;

  constructor(store: LimitStore, limit: number) {
    this.#limit = limit;
    this.#wrong = store.counter('unlock-ip', { points: limit, durationSeconds: WINDOW_SECONDS });
  }

  /** Take an attempt for `ip`; throws when Redis does not answer (the caller fails closed). */
  async begin(ip: string | undefined): Promise<UnlockTicket> {
    const key = clientKey(ip);
    const res = await this.#wrong.penalty(key);
    if (res.consumedPoints > this.#limit) {
      return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(res.msBeforeNext / 1000)) };
    }
    return { allowed: true, key };
  }

  /** The code was right (or was not compared at all): the attempt does not count. */
  async release(ticket: { key: string }): Promise<void> {
    await this.#wrong.reward(ticket.key);
  }
}
