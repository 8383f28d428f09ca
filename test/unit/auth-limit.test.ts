import assert from 'node:assert/strict';
import { AuthLimiter, backoffSeconds, type AuthLimitSettings } from '../../core/auth-limit.ts';
import { LimitStore } from '../../core/limit-store.ts';
import { clientKey } from '../../core/net-address.ts';
import { sharedRedis, startPrivateRedis, uniquePrefix } from '../helpers/redis.ts';

/**
 * core/auth-limit.ts: failed logins per (account, address) with growing delays, per address over all
 * accounts, and per account over all addresses with the addresses it logged in from exempt — counted in a
 * real Redis (the shared test server, a prefix per test).
 */
const SETTINGS: AuthLimitSettings = {
  perAccountIp: 3,
  delaySeconds: 10,
  maxDelaySeconds: 40,
  perIp: 5,
  perAccount: 8,
  windowSeconds: 60,
};

describe('auth-limit: the delay after the n-th failure of one (account, address)', () => {
  const table: [failures: number, seconds: number][] = [
    [0, 0],
    [1, 0],
    [2, 0],
    [3, 10],
    [4, 20],
    [5, 40],
    [6, 40],
    [60, 40],
    [100_000, 40],
  ];
  for (const [failures, seconds] of table) {
    it(`${failures} failures → ${seconds} s`, () =>
      assert.equal(backoffSeconds(failures, SETTINGS), seconds));
  }
});

describe('auth-limit: client addresses', () => {
  const table: [address: string | undefined, key: string][] = [
    ['203.0.113.7', '203.0.113.7'],
    ['::ffff:203.0.113.7', '203.0.113.7'],
    ['2001:db8:1:2:3:4:5:6', '2001:db8:1:2::/64'],
    ['2001:DB8:1:2::9', '2001:db8:1:2::/64'],
    ['2001:db8::1', '2001:db8:0:0::/64'],
    ['::1', '0:0:0:0::/64'],
    [undefined, 'unknown'],
    ['not-an-address', 'unknown'],
  ];
  for (const [address, key] of table) it(`${address} → ${key}`, () => assert.equal(clientKey(address), key));
});

type Step = ['fail' | 'ok', login: string, ip: string];
type Expect = [login: string, ip: string, refusal: 'account-address' | 'address' | 'account' | undefined];

describe('auth-limit: who is refused (real Redis)', () => {
  let store: LimitStore | undefined;
  afterEach(async () => {
    await store?.close();
    store = undefined;
  });
  async function limiter(): Promise<AuthLimiter> {
    store = await LimitStore.open(await sharedRedis(), uniquePrefix());
    return new AuthLimiter(store, SETTINGS);
  }
  const fails = (login: string, ips: string[]): Step[] => ips.map((ip) => ['fail', login, ip]);
  const many = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));

  const cases: { name: string; steps: Step[]; expect: Expect[] }[] = [
    { name: 'nothing recorded: nobody', steps: [], expect: [['a@x.org', '10.0.0.1', undefined]] },
    {
      name: 'typos are free: below perAccountIp nothing waits',
      steps: fails('a@x.org', ['10.0.0.1', '10.0.0.1']),
      expect: [['a@x.org', '10.0.0.1', undefined]],
    },
    {
      name: 'perAccountIp failures: that pair waits, the account elsewhere and the address for others do not',
      steps: fails('a@x.org', ['10.0.0.1', '10.0.0.1', '10.0.0.1']),
      expect: [
        ['a@x.org', '10.0.0.1', 'account-address'],
        ['A@X.org', '10.0.0.1', 'account-address'],
        ['a@x.org', '10.0.0.2', undefined],
        ['b@x.org', '10.0.0.1', undefined],
      ],
    },
    {
      name: 'perIp failures over many accounts: the address is refused for every account',
      steps: many(5, (i) => `u${i}@x.org`).flatMap((u) => fails(u, ['10.0.0.1'])),
      expect: [
        ['z@x.org', '10.0.0.1', 'address'],
        ['z@x.org', '10.0.0.2', undefined],
      ],
    },
    {
      name: 'an IPv6 client counts by its /64',
      steps: many(5, (i) => `u${i}@x.org`).flatMap((u, i) => fails(u, [`2001:db8:0:1::${i + 1}`])),
      expect: [
        ['z@x.org', '2001:db8:0:1:ffff::9', 'address'],
        ['z@x.org', '2001:db8:0:2::1', undefined],
      ],
    },
    {
      name: 'perAccount failures from many addresses: unknown addresses are refused, the owner’s is not',
      steps: [
        ['ok', 'a@x.org', '192.0.2.10'],
        ...fails(
          'a@x.org',
          many(8, (i) => `10.0.1.${i}`),
        ),
      ],
      expect: [
        ['a@x.org', '10.0.9.9', 'account'],
        ['a@x.org', '192.0.2.10', undefined],
        ['b@x.org', '10.0.9.9', undefined],
      ],
    },
    {
      name: 'a success forgives the pair, not the address',
      steps: [
        ...fails('a@x.org', ['10.0.0.1', '10.0.0.1']),
        ...fails('b@x.org', ['10.0.0.1', '10.0.0.1']),
        ['ok', 'a@x.org', '10.0.0.1'],
        ...fails('a@x.org', ['10.0.0.1']),
      ],
      expect: [
        ['a@x.org', '10.0.0.1', 'address'], // 5 failures from 10.0.0.1 in all
        ['a@x.org', '10.0.0.2', undefined],
      ],
    },
    {
      name: 'a success forgives the pair: its count starts again',
      steps: [
        ...fails('a@x.org', ['10.0.0.1', '10.0.0.1']),
        ['ok', 'a@x.org', '10.0.0.1'],
        ...fails('a@x.org', ['10.0.0.1', '10.0.0.1']),
      ],
      expect: [['a@x.org', '10.0.0.1', undefined]],
    },
  ];

  for (const c of cases) {
    it(c.name, async () => {
      const l = await limiter();
      for (const [op, login, ip] of c.steps) {
        if (op === 'fail') await l.recordFailure(login, ip);
        else await l.recordSuccess(login, ip);
      }
      for (const [login, ip, reason] of c.expect) {
        assert.equal((await l.check(login, ip))?.reason, reason, `${login} from ${ip}`);
      }
    });
  }

  it('tells how long to wait: the delay doubles with every further failure of the pair', async () => {
    const l = await limiter();
    const waits: number[] = [];
    for (let i = 0; i < 5; i++) waits.push(await l.recordFailure('a@x.org', '10.0.0.1'));
    assert.deepEqual(waits, [0, 0, 10, 20, 40]);
    const refusal = await l.check('a@x.org', '10.0.0.1');
    assert.equal(refusal?.reason, 'account-address');
    assert.ok(
      refusal!.retryAfterSeconds > 30 && refusal!.retryAfterSeconds <= 40,
      String(refusal!.retryAfterSeconds),
    );
  });

  it('lets the pair in again once its wait has passed', async function () {
    this.timeout(30_000);
    store = await LimitStore.open(await sharedRedis(), uniquePrefix());
    const l = new AuthLimiter(store, { ...SETTINGS, perAccountIp: 1, delaySeconds: 1 });
    assert.equal(await l.recordFailure('a@x.org', '10.0.0.1'), 1);
    assert.equal((await l.check('a@x.org', '10.0.0.1'))?.reason, 'account-address');
    const deadline = Date.now() + 20_000;
    while ((await l.check('a@x.org', '10.0.0.1')) !== undefined) {
      assert.ok(Date.now() < deadline, 'the 1 s wait never ended');
      await new Promise((r) => setTimeout(r, 100)); // polling Redis's TTL, not sleeping for a result
    }
    assert.equal(await l.recordFailure('a@x.org', '10.0.0.1'), 2, 'and the next failure waits twice as long');
  });

  it('throws when Redis does not answer (the callers fail closed)', async function () {
    this.timeout(30_000);
    const priv = await startPrivateRedis(false);
    store = await LimitStore.open({ socketPath: priv.redis.socketPath }, uniquePrefix());
    const l = new AuthLimiter(store, SETTINGS);
    assert.equal(await l.check('a@x.org', '10.0.0.1'), undefined);
    await priv.cleanup();
    await assert.rejects(l.check('a@x.org', '10.0.0.1'));
    await assert.rejects(l.recordFailure('a@x.org', '10.0.0.1'));
  });
});
