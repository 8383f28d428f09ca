/**
 * The retry schedule, like an MTA's: minutes first, then hours, until the message has been in the queue
 * for `config.delivery.giveUpAfterSeconds` (default 5 days). Pure: time comes in as an argument.
 */

const MINUTE = 60_000;

/** Delay before attempt n+1 after n failed attempts (n = 1 is the first failure). Capped at 4 hours. */
export const RETRY_DELAYS_MS: readonly number[] = [
  5 * MINUTE,
  10 * MINUTE,
  20 * MINUTE,
  40 * MINUTE,
  60 * MINUTE,
  120 * MINUTE,
  240 * MINUTE,
];

/** A function from the number of failed attempts so far (≥ 1) to the delay in ms. Tests inject short ones. */
export type RetryDelay = (failedAttempts: number) => number;

export const mtaRetryDelay: RetryDelay = (failedAttempts) => {
  const n = Number.isFinite(failedAttempts) ? Math.max(1, Math.floor(failedAttempts)) : 1;
  const last = RETRY_DELAYS_MS[RETRY_DELAYS_MS.length - 1] as number;
  return RETRY_DELAYS_MS[n - 1] ?? last;
};

export type NextAttempt = { giveUp: true } | { giveUp: false; at: number; delayMs: number };

/**
 * What to do after a temporary failure. `failedAttempts` counts this failure. Gives up once `now` has
 * reached `expiresAt`; otherwise the next attempt is never scheduled after `expiresAt`, so that the last
 * attempt happens at expiry and the sender hears of the failure on time, not up to 4 hours late.
 */
export function nextAttempt(input: {
  failedAttempts: number;
  now: number;
  expiresAt: number;
  delay?: RetryDelay;
}): NextAttempt {
  const { now, expiresAt } = input;
  if (now >= expiresAt) return { giveUp: true };
  const wanted = Math.max(0, (input.delay ?? mtaRetryDelay)(input.failedAttempts));
  const at = Math.min(now + wanted, expiresAt);
  return { giveUp: false, at, delayMs: at - now };
}
