import assert from 'node:assert/strict';
import { AuthLimiter, authLimitSettings } from '../../core/auth-limit.ts';
import { parseConfig } from '../../core/config.ts';
import { LimitStore } from '../../core/limit-store.ts';
import { UnlockLimiter } from '../../webmail/api/limit.ts';
import { startTestGateway, tryLogin, type TestGateway } from '../helpers/gateway.ts';
import { sharedRedis, uniquePrefix } from '../helpers/redis.ts';

/**
 * DESIGN.md: every limit that must hold across processes lives in Redis. A provider runs many gateways and
 * webmails against one Redis; a guesser who spreads his attempts over them must meet one count. Here two
 * gateways (two real listeners, each with its own Redis connection, as two processes have) share the
 * failed-login counts, and two webmail limiters the wrong-code count. Before, each process counted alone.
 */
describe('security: the login and wrong-code limits hold across processes (one count in Redis)', function () {
  this.timeout(120_000);
  const stores: LimitStore[] = [];
  const gateways: TestGateway[] = [];
  afterEach(async () => {
    for (const g of gateways.splice(0)) await g.close();
    for (const s of stores.splice(0)) await s.close();
  });
  /** One process's connection to the deployment's Redis. */
  async function processStore(prefix: string): Promise<LimitStore> {
    const store = await LimitStore.open(await sharedRedis(), prefix);
    stores.push(store);
    return store;
  }

  it('failures for anna on gateway A make gateway B refuse the guessing address (587 and 465)', async () => {
    const prefix = uniquePrefix();
    const limits = { authFailuresPerAccountIp: 2 };
    for (let i = 0; i < 2; i++) {
      gateways.push(
        await startTestGateway({ kind: 'sqlite', limits, limitStore: await processStore(prefix) }),
      );
    }
    const [a, b] = gateways as [TestGateway, TestGateway];
    for (let i = 0; i < 2; i++) {
      assert.equal(
        (await tryLogin(a, { pass: `guess-${i}`, localAddress: '127.0.0.2' })).code,
        'GW_AUTH_FAILED',
      );
    }
    assert.equal((await tryLogin(b, { localAddress: '127.0.0.2' })).code, 'GW_AUTH_RATE_LIMITED');
    assert.equal(
      (await tryLogin(b, { localAddress: '127.0.0.2', port: 'smtps' })).code,
      'GW_AUTH_RATE_LIMITED',
    );
    assert.equal((await tryLogin(b, { localAddress: '127.0.0.3' })).code, 'OK');
  });

  it('two login limiters (SMTP and the admin API, or two processes) meet one count per address', async () => {
    const prefix = uniquePrefix();
    const settings = authLimitSettings(parseConfig({ limits: { authFailuresPerIp: 4 } }).limits);
    const one = new AuthLimiter(await processStore(prefix), settings);
    const two = new AuthLimiter(await processStore(prefix), settings);
    for (let i = 0; i < 4; i++) await (i % 2 ? one : two).recordFailure(`u${i}@praxis.example`, '127.0.0.2');
    assert.equal((await one.check('anna@praxis.example', '127.0.0.2'))?.reason, 'address');
    assert.equal((await two.check('anna@praxis.example', '127.0.0.2'))?.reason, 'address');
  });

  it('wrong codes counted by one webmail process are counted by the other', async () => {
    const prefix = uniquePrefix();
    const one = new UnlockLimiter(await processStore(prefix), 3);
    const two = new UnlockLimiter(await processStore(prefix), 3);
    for (const limiter of [one, two, one]) assert.equal((await limiter.begin('127.0.0.2')).allowed, true);
    const refused = await two.begin('127.0.0.2');
    assert.equal(refused.allowed, false);
    assert.equal((await one.begin('127.0.0.3')).allowed, true, 'another address has its own count');
  });
});
