import assert from 'node:assert/strict';
import type { Clock } from '../../core/clock.ts';
import { AuthLimiter } from '../../core/auth-limit.ts';

/** A clock the test moves by hand (no sleeps). */
function manualClock(start = Date.UTC(2026, 0, 1)): Clock & { advance(seconds: number): void } {
  let now = start;
  return { now: () => new Date(now), advance: (s) => (now += s * 1000) };
}

function limiter(clock: Clock, maxEntries?: number) {
  return new AuthLimiter({
    perAccount: 3,
    perIp: 5,
    windowSeconds: 60,
    clock,
    ...(maxEntries ? { maxEntries } : {}),
  });
}

describe('auth-limit: failed logins per account and per IP (sliding window)', () => {
  const cases: {
    name: string;
    steps: ([op: 'fail', login: string, ip: string] | [op: 'ok', login: string] | [op: 'wait', s: number])[];
    check: [login: string, ip: string, limited: boolean][];
  }[] = [
    { name: 'nothing recorded → not limited', steps: [], check: [['a@x.org', '10.0.0.1', false]] },
    {
      name: 'below the account limit',
      steps: [
        ['fail', 'a@x.org', '10.0.0.1'],
        ['fail', 'a@x.org', '10.0.0.1'],
      ],
      check: [['a@x.org', '10.0.0.1', false]],
    },
    {
      name: 'account limit reached: limited from any IP',
      steps: [
        ['fail', 'a@x.org', '10.0.0.1'],
        ['fail', 'a@x.org', '10.0.0.2'],
        ['fail', 'A@X.org', '10.0.0.3'],
      ],
      check: [
        ['a@x.org', '10.0.0.9', true],
        ['b@x.org', '10.0.0.9', false],
      ],
    },
    {
      name: 'IP limit reached: limited for every account',
      steps: [
        ['fail', 'a@x.org', '10.0.0.1'],
        ['fail', 'b@x.org', '10.0.0.1'],
        ['fail', 'c@x.org', '10.0.0.1'],
        ['fail', 'd@x.org', '10.0.0.1'],
        ['fail', 'e@x.org', '10.0.0.1'],
      ],
      check: [
        ['z@x.org', '10.0.0.1', true],
        ['z@x.org', '10.0.0.2', false],
      ],
    },
    {
      name: 'failures leave the window after windowSeconds',
      steps: [
        ['fail', 'a@x.org', '10.0.0.1'],
        ['fail', 'a@x.org', '10.0.0.1'],
        ['fail', 'a@x.org', '10.0.0.1'],
        ['wait', 60],
      ],
      check: [['a@x.org', '10.0.0.1', false]],
    },
    {
      name: 'the window slides: only the old failures expire',
      steps: [
        ['fail', 'a@x.org', '10.0.0.1'],
        ['wait', 40],
        ['fail', 'a@x.org', '10.0.0.1'],
        ['fail', 'a@x.org', '10.0.0.1'],
        ['wait', 30],
        ['fail', 'a@x.org', '10.0.0.1'],
      ],
      check: [['a@x.org', '10.0.0.2', true]],
    },
    {
      name: 'a success forgives the account, not the IP',
      steps: [
        ['fail', 'a@x.org', '10.0.0.1'],
        ['fail', 'a@x.org', '10.0.0.1'],
        ['fail', 'b@x.org', '10.0.0.1'],
        ['fail', 'b@x.org', '10.0.0.1'],
        ['ok', 'a@x.org'],
        ['fail', 'a@x.org', '10.0.0.1'],
      ],
      check: [
        ['a@x.org', '10.0.0.2', false],
        ['c@x.org', '10.0.0.1', true],
      ],
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const clock = manualClock();
      const l = limiter(clock);
      for (const step of c.steps) {
        if (step[0] === 'fail') l.recordFailure(step[1], step[2]);
        else if (step[0] === 'ok') l.recordSuccess(step[1]);
        else clock.advance(step[1]);
      }
      for (const [login, ip, limited] of c.check)
        assert.equal(l.isLimited(login, ip), limited, `${login} ${ip}`);
    });
  }

  it('keeps memory bounded under a flood of distinct accounts and IPs', () => {
    const clock = manualClock();
    const l = limiter(clock, 100);
    for (let i = 0; i < 10_000; i++)
      l.recordFailure(`u${i}@x.org`, `10.${i >> 16}.${(i >> 8) & 255}.${i & 255}`);
    assert.ok(l.sizes.accounts <= 100 && l.sizes.ips <= 100, JSON.stringify(l.sizes));
    // the most recent offenders are still remembered
    l.recordFailure('u9999@x.org', '10.0.39.15');
    l.recordFailure('u9999@x.org', '10.0.39.15');
    assert.equal(l.isLimited('u9999@x.org', '192.0.2.1'), true);
  });

  it('when full, forgets expired keys first and keeps a live offender', () => {
    const clock = manualClock();
    const l = limiter(clock, 10);
    for (let i = 0; i < 9; i++) l.recordFailure(`old${i}@x.org`, `10.0.0.${i}`);
    l.recordFailure('victim@x.org', '10.0.1.1');
    l.recordFailure('victim@x.org', '10.0.1.1');
    clock.advance(30);
    l.recordFailure('victim@x.org', '10.0.1.1');
    clock.advance(31); // the old ones (and the victim's first two) expire; its third is live
    for (let i = 0; i < 9; i++) l.recordFailure(`new${i}@x.org`, `10.0.2.${i}`);
    l.recordFailure('victim@x.org', '10.0.1.1');
    l.recordFailure('victim@x.org', '10.0.1.1');
    assert.equal(l.isLimited('victim@x.org', '192.0.2.1'), true);
  });
});
