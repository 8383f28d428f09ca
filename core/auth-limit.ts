import type { RateLimiterRedis } from 'rate-limiter-flexible';
import type { Config } from './config.ts';
import { normaliseAddress } from './ids.ts';
import type { LimitStore } from './limit-store.ts';
import { clientKey } from './net-address.ts';

/**
 * Failed-login limits (docs/gateway.md "Login limits"), counted in Redis so that they hold across processes,
 * shared by SMTP AUTH and the admin API (a guess at a password is one guess, whichever door it comes
 * through). Three bounds, none of which lets a stranger shut the owner out from where she works:
 *
 * - per (account, address): `perAccountIp` failures are free, then every further failure makes that pair
 *   wait `delaySeconds`, doubling up to `maxDelaySeconds`. A typo costs nothing; a guesser from one address
 *   gets about one try per `maxDelaySeconds`; the same account from any other address is not slowed.
 * - per address, over all accounts: `perIp` failures per window, then the address is refused until the
 *   window ends (a password sprayer trying one guess on many accounts).
 * - per account, over all addresses: `perAccount` failures per window (a much higher ceiling than the
 *   pair's), then only addresses the account logged in from within KNOWN_DAYS still get in. A botnet
 *   guessing from many addresses is held to `perAccount` guesses per window; the practice, from the address
 *   it always logs in from, is not locked out by it.
 *
 * Addresses count as `clientKey` (IPv6 by /64). Keys are normalised logins and addresses, never passwords.
 * Every method throws when Redis does not answer; the caller fails closed.
 */
export interface AuthLimitSettings {
  perAccountIp: number;
  delaySeconds: number;
  maxDelaySeconds: number;
  perIp: number;
  perAccount: number;
  windowSeconds: number;
}

/** A pair's failures are remembered this long after its first one (a success forgets them at once). */
const PAIR_MEMORY_SECONDS = 24 * 3600;
/** An address the account logged in from stays exempt from the account ceiling this long. */
export const KNOWN_DAYS = 30;

export function authLimitSettings(limits: Config['limits']): AuthLimitSettings {
  return {
    perAccountIp: limits.authFailuresPerAccountIp,
    delaySeconds: limits.authDelaySeconds,
    maxDelaySeconds: limits.authMaxDelaySeconds,
    perIp: limits.authFailuresPerIp,
    perAccount: limits.authFailuresPerAccount,
    windowSeconds: limits.authFailureWindowSeconds,
  };
}

/** The wait after a pair's `failures`-th failure: 0 while free, then doubling from delaySeconds, capped. */
export function backoffSeconds(
  failures: number,
  s: Pick<AuthLimitSettings, 'perAccountIp' | 'delaySeconds' | 'maxDelaySeconds'>,
): number {
  if (failures < s.perAccountIp) return 0;
  const doublings = Math.min(failures - s.perAccountIp, 30); // 2^30 × 1 s is past any cap
  return Math.min(s.delaySeconds * 2 ** doublings, s.maxDelaySeconds);
}

export type AuthRefusalReason = 'account-address' | 'address' | 'account';

export interface AuthRefusal {
  reason: AuthRefusalReason;
  retryAfterSeconds: number;
}

export class AuthLimiter {
  readonly #settings: AuthLimitSettings;
  readonly #pairFailures: RateLimiterRedis;
  readonly #pairWait: RateLimiterRedis;
  readonly #ipFailures: RateLimiterRedis;
  readonly #accountFailures: RateLimiterRedis;
  readonly #known: RateLimiterRedis;

  constructor(store: LimitStore, settings: AuthLimitSettings) {
    this.#settings = settings;
    const window = settings.windowSeconds;
    this.#pairFailures = store.counter('auth-pair', { points: 1, durationSeconds: PAIR_MEMORY_SECONDS });
    this.#pairWait = store.counter('auth-wait', { points: 1, durationSeconds: settings.maxDelaySeconds });
    this.#ipFailures = store.counter('auth-ip', { points: settings.perIp, durationSeconds: window });
    this.#accountFailures = store.counter('auth-account', {
      points: settings.perAccount,
      durationSeconds: window,
    });
    this.#known = store.counter('auth-known', { points: 1, durationSeconds: KNOWN_DAYS * 86400 });
  }

  /** Ask before the password is checked: a refused attempt is not checked at all (and not counted). */
  async check(login: string, ip: string | undefined): Promise<AuthRefusal | undefined> {
    const k = keys(login, ip);
    const [wait, byIp, byAccount, known] = await Promise.all([
      this.#pairWait.get(k.pair),
      this.#ipFailures.get(k.ip),
      this.#accountFailures.get(k.account),
      this.#known.get(k.pair),
    ]);
    if (wait) return refusal('account-address', wait.msBeforeNext);
    if (byIp && byIp.consumedPoints >= this.#settings.perIp) return refusal('address', byIp.msBeforeNext);
    if (byAccount && byAccount.consumedPoints >= this.#settings.perAccount && !known) {
      return refusal('account', byAccount.msBeforeNext);
    }
    return undefined;
  }

  /** Count a wrong password; returns the wait (seconds) the pair now has before its next attempt. */
  async recordFailure(login: string, ip: string | undefined): Promise<number> {
    const k = keys(login, ip);
    const [pair] = await Promise.all([
      this.#pairFailures.penalty(k.pair),
      this.#ipFailures.penalty(k.ip),
      this.#accountFailures.penalty(k.account),
    ]);
    const wait = backoffSeconds(pair.consumedPoints, this.#settings);
    if (wait > 0) await this.#pairWait.block(k.pair, wait);
    return wait;
  }

  /**
   * The right password: the pair's failures are forgiven and the address becomes known for the account.
   * The address's failures are not (one good account must not launder guesses against others from the same
   * address), nor the account's (the owner's login must not reopen the account to a distributed guess).
   */
  async recordSuccess(login: string, ip: string | undefined): Promise<void> {
    const k = keys(login, ip);
    await Promise.all([
      this.#pairFailures.delete(k.pair),
      this.#pairWait.delete(k.pair),
      this.#known.set(k.pair, 1, KNOWN_DAYS * 86400),
    ]);
  }
}

function keys(login: string, ip: string | undefined): { pair: string; ip: string; account: string } {
  const account = normaliseAddress(login);
  const address = clientKey(ip);
  // The address goes last: a login may hold any character, an address key never holds '|'.
  return { pair: `${account}|${address}`, ip: address, account };
}

function refusal(reason: AuthRefusalReason, msBeforeNext: number): AuthRefusal {
  return { reason, retryAfterSeconds: Math.max(1, Math.ceil(msBeforeNext / 1000)) };
}
