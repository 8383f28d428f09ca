import type { Clock } from '../../core/clock.ts';

/** keys.openpgp.org answers 429 without Retry-After at times; then wait this long (seconds). */
const DEFAULT_RETRY_AFTER_S = 60;
/** A Retry-After beyond a day is a misconfigured server, not a reason to stop asking for longer. */
const MAX_RETRY_AFTER_S = 24 * 3600;

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP date; in milliseconds from `nowMs`. */
export function retryAfterMs(value: string | undefined, nowMs: number): number {
  const text = value?.trim() ?? '';
  let seconds = DEFAULT_RETRY_AFTER_S;
  if (/^\d+$/.test(text)) seconds = Number(text);
  else if (text) {
    const at = Date.parse(text);
    if (Number.isFinite(at)) seconds = Math.max(0, (at - nowMs) / 1000);
  }
  return Math.min(seconds, MAX_RETRY_AFTER_S) * 1000;
}

/**
 * The keyserver's share of our manners: after a 429 no request until Retry-After has passed (by the
 * injected clock), and at most `maxConcurrent` requests in flight; a lookup that cannot get a slot within
 * its time gives up.
 */
export class VksGate {
  private blockedUntil = 0;
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly maxConcurrent: number,
  ) {}

  isBlocked(): boolean {
    return this.clock.now().getTime() < this.blockedUntil;
  }

  /** Record a 429; true when this starts a new back-off (log it once). */
  block(retryAfter: string | undefined): { started: boolean; ms: number } {
    const now = this.clock.now().getTime();
    const ms = retryAfterMs(retryAfter, now);
    const started = now >= this.blockedUntil;
    this.blockedUntil = Math.max(this.blockedUntil, now + ms);
    return { started, ms };
  }

  /** Run `fn` in a slot; 'timeout' when no slot frees up within `timeoutMs`. */
  async run<T>(timeoutMs: number, fn: (remainingMs: number) => Promise<T>): Promise<T | 'timeout'> {
    const started = performance.now();
    if (!(await this.acquire(timeoutMs))) return 'timeout';
    try {
      return await fn(timeoutMs - (performance.now() - started));
    } finally {
      this.release();
    }
  }

  private acquire(timeoutMs: number): Promise<boolean> {
    if (this.active < this.maxConcurrent) {
      this.active++;
      return Promise.resolve(true);
    }
    return new Promise<boolean>((resolve) => {
      const grant = (): void => {
        clearTimeout(timer);
        this.active++;
        resolve(true);
      };
      const timer = setTimeout(() => {
        const at = this.waiting.indexOf(grant);
        if (at >= 0) this.waiting.splice(at, 1);
        resolve(false);
      }, timeoutMs);
      this.waiting.push(grant);
    });
  }

  private release(): void {
    this.active--;
    this.waiting.shift()?.();
  }
}
