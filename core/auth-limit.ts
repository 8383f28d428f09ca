import type { Clock } from './clock.ts';
import { normaliseAddress } from './ids.ts';

/**
 * Failed-login limiter per account and per remote IP (DESIGN.md "The gateway pipeline", step 1): a sliding
 * window of failure times. In memory, per process: a provider running many gateways gets a limit per
 * process, which still bounds online guessing to (processes × limit) per window.
 *
 * Memory is bounded: a key keeps at most `limit` timestamps, and each map at most `maxEntries` keys;
 * expired keys are swept when a map is full, and then the least recently failed key is dropped. An
 * attacker who floods the map with fresh keys can only make it forget, not grow.
 */
export interface AuthLimitOptions {
  perAccount: number; // failures per account within the window before further attempts are refused
  perIp: number; // failures per remote IP within the window
  windowSeconds: number;
  clock: Clock;
  maxEntries?: number; // per map; default 10 000 (~1 MB at the default limits)
}

const DEFAULT_MAX_ENTRIES = 10_000;

/** A sliding window of failure times per key (an account, an IP); shared by SMTP AUTH and the admin API. */
export class FailureWindow {
  readonly #hits = new Map<string, number[]>();
  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxEntries: number,
  ) {}

  #live(key: string, now: number): number[] {
    const times = this.#hits.get(key);
    if (!times) return [];
    const live = times.filter((t) => now - t < this.windowMs);
    if (live.length === 0) this.#hits.delete(key);
    else if (live.length !== times.length) this.#hits.set(key, live);
    return live;
  }

  limited(key: string, now: number): boolean {
    return this.#live(key, now).length >= this.limit;
  }

  hit(key: string, now: number): void {
    const live = this.#live(key, now);
    live.push(now);
    // only the newest `limit` failures can decide whether the key is limited
    if (live.length > this.limit) live.splice(0, live.length - this.limit);
    this.#hits.delete(key); // re-insert: Map order is then "least recently failed first"
    if (this.#hits.size >= this.maxEntries) this.#evict(now);
    this.#hits.set(key, live);
  }

  clear(key: string): void {
    this.#hits.delete(key);
  }

  #evict(now: number): void {
    for (const [key, times] of this.#hits) {
      if (times.every((t) => now - t >= this.windowMs)) this.#hits.delete(key);
    }
    while (this.#hits.size >= this.maxEntries) {
      const oldest = this.#hits.keys().next();
      if (oldest.done) break;
      this.#hits.delete(oldest.value);
    }
  }

  get size(): number {
    return this.#hits.size;
  }
}

export class AuthLimiter {
  readonly #accounts: FailureWindow;
  readonly #ips: FailureWindow;
  readonly #clock: Clock;

  constructor(options: AuthLimitOptions) {
    const windowMs = options.windowSeconds * 1000;
    const max = options.maxEntries ?? DEFAULT_MAX_ENTRIES;
    this.#accounts = new FailureWindow(options.perAccount, windowMs, max);
    this.#ips = new FailureWindow(options.perIp, windowMs, max);
    this.#clock = options.clock;
  }

  /** True when either the account or the IP has used up its failures; ask before checking a password. */
  isLimited(login: string, ip: string): boolean {
    const now = this.#clock.now().getTime();
    return this.#accounts.limited(normaliseAddress(login), now) || this.#ips.limited(ip, now);
  }

  recordFailure(login: string, ip: string): void {
    const now = this.#clock.now().getTime();
    this.#accounts.hit(normaliseAddress(login), now);
    this.#ips.hit(ip, now);
  }

  /** A successful login forgives the account's earlier failures (not the IP's: one good account must not
   * launder guesses against others from the same address). */
  recordSuccess(login: string): void {
    this.#accounts.clear(normaliseAddress(login));
  }

  /** Keys held (accounts, IPs): for tests of the memory bound. */
  get sizes(): { accounts: number; ips: number } {
    return { accounts: this.#accounts.size, ips: this.#ips.size };
  }
}
