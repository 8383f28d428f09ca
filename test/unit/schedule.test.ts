import assert from 'node:assert/strict';
import { expiresAt } from '../../core/store/index.ts';
import { mtaRetryDelay, nextAttempt } from '../../worker/schedule.ts';

const MIN = 60_000;

describe('worker/schedule', () => {
  it('backs off like an MTA: minutes, then hours, capped at 4 h', () => {
    const delays = [1, 2, 3, 4, 5, 6, 7, 8, 50].map((n) => mtaRetryDelay(n) / MIN);
    assert.deepEqual(delays, [5, 10, 20, 40, 60, 120, 240, 240, 240]);
  });

  it('treats odd attempt counts as the first', () => {
    for (const n of [0, -3, NaN, Infinity]) assert.equal(mtaRetryDelay(n), 5 * MIN);
  });

  it('schedules the next attempt from now', () => {
    const now = Date.UTC(2026, 0, 1);
    assert.deepEqual(nextAttempt({ failedAttempts: 2, now, expiresAt: now + 24 * 60 * MIN }), {
      giveUp: false,
      at: now + 10 * MIN,
      delayMs: 10 * MIN,
    });
  });

  it('never schedules past expiry, so the last attempt is on time', () => {
    const now = 1_000_000;
    assert.deepEqual(nextAttempt({ failedAttempts: 7, now, expiresAt: now + MIN }), {
      giveUp: false,
      at: now + MIN,
      delayMs: MIN,
    });
  });

  it('gives up once now reaches expiry', () => {
    assert.deepEqual(nextAttempt({ failedAttempts: 1, now: 500, expiresAt: 500 }), { giveUp: true });
    assert.deepEqual(nextAttempt({ failedAttempts: 1, now: 501, expiresAt: 500 }), { giveUp: true });
  });

  it('takes an injected delay', () => {
    assert.deepEqual(nextAttempt({ failedAttempts: 3, now: 0, expiresAt: 10_000, delay: (n) => n * 10 }), {
      giveUp: false,
      at: 30,
      delayMs: 30,
    });
  });

  it('expires giveUpAfterSeconds after creation (default 5 days)', () => {
    assert.equal(expiresAt(1000, 5 * 24 * 3600), 1000 + 5 * 24 * 3600 * 1000);
  });
});
