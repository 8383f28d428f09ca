import assert from 'node:assert/strict';
import { LimitStore } from '../../core/limit-store.ts';
import { startLocalRedis, type LocalRedis } from '../../core/redis.ts';
import { ADMIN, ADMIN_PASSWORD, startAdminApp, type AdminApp } from '../helpers/admin-api.ts';
import { SENDER, startTestGateway, tryLogin, type TestGateway } from '../helpers/gateway.ts';
import { authKeyFor, linkId, postUnlock } from '../helpers/pickup-client.ts';
import { startPrivateRedis, uniquePrefix } from '../helpers/redis.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * The login and wrong-code limits count in Redis. When Redis is gone or paused, nobody may guess: SMTP
 * AUTH answers 454 GW_AUTH_LIMIT_UNAVAILABLE, the pickup unlock 503 PU_UNAVAILABLE, the admin API 503
 * ADM_UNAVAILABLE — each logged with a code, none of them hanging — and all work again when Redis is back.
 */
describe('security: without Redis the login and code limits fail closed', function () {
  this.timeout(120_000);
  let redis: { redis: LocalRedis; dir: string; cleanup: () => Promise<void> } | undefined;
  let restarted: LocalRedis | undefined;
  let store: LimitStore | undefined;
  let gw: TestGateway | undefined;
  let stack: Stack | undefined;
  let admin: AdminApp | undefined;
  afterEach(async () => {
    // a test that failed while Redis was paused must not leave it stopped (it would never see SIGTERM)
    if (redis && redis.redis.process.exitCode === null) redis.redis.process.kill('SIGCONT');
    await gw?.close();
    await stack?.close();
    await admin?.close();
    await store?.close();
    await restarted?.stop();
    await redis?.cleanup();
    gw = stack = admin = store = restarted = redis = undefined;
  });
  async function limitsOnPrivateRedis(): Promise<LimitStore> {
    redis = await startPrivateRedis(false);
    store = await LimitStore.open({ socketPath: redis.redis.socketPath }, uniquePrefix());
    return store;
  }

  it('SMTP AUTH: 454 while Redis is down (587 and 465), logged; logins work again once it is back', async () => {
    gw = await startTestGateway({ kind: 'sqlite', limitStore: await limitsOnPrivateRedis() });
    assert.equal((await tryLogin(gw)).code, 'OK');
    await redis!.redis.stop();
    for (const port of ['submission', 'smtps'] as const) {
      const r = await tryLogin(gw, { port });
      assert.equal(r.code, 'GW_AUTH_LIMIT_UNAVAILABLE');
      assert.equal(r.smtp, 454);
    }
    assert.match(gw.logText(), /"level":"error"[^\n]*"code":"GW_AUTH_LIMIT_UNAVAILABLE"/);
    restarted = await startLocalRedis({ dir: redis!.dir, persistence: false });
    const deadline = Date.now() + 20_000;
    while ((await tryLogin(gw)).code !== 'OK')
      assert.ok(Date.now() < deadline, 'no login after Redis came back');
  });

  it('SMTP AUTH: 454 within seconds while Redis is paused (SIGSTOP), not a hanging login', async () => {
    gw = await startTestGateway({ kind: 'sqlite', limitStore: await limitsOnPrivateRedis() });
    redis!.redis.process.kill('SIGSTOP');
    const started = Date.now();
    assert.equal((await tryLogin(gw)).code, 'GW_AUTH_LIMIT_UNAVAILABLE');
    assert.ok(Date.now() - started < 30_000);
    redis!.redis.process.kill('SIGCONT');
    const deadline = Date.now() + 20_000;
    while ((await tryLogin(gw)).code !== 'OK') assert.ok(Date.now() < deadline, 'no login after SIGCONT');
  });

  it('pickup unlock: 503 while Redis is down, even with the right code; logged', async () => {
    stack = await startStack({ kind: 'sqlite', limitStore: await limitsOnPrivateRedis() });
    await stack.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 'S', text: 'T' });
    const msgs = await stack.sink.waitFor(2);
    const id = await linkId(msgs.find((m) => m.to[0] === 'max@example.org')!.raw);
    const right = await authKeyFor(stack.web, id, await consoleCode(stack.web, 'max@example.org'));
    await redis!.redis.stop();
    const r = await postUnlock(stack.web, id, right);
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'PU_UNAVAILABLE');
    assert.equal(r.body.contact, undefined);
    assert.match(stack.gw.logText(), /"code":"PU_LIMIT_UNAVAILABLE"/);
  });

  it('admin API: 503 while Redis is down, even with the right password; logged', async () => {
    admin = await startAdminApp({ kind: 'sqlite', limitStore: await limitsOnPrivateRedis() });
    const path = '/api/admin/key-changes';
    assert.equal((await admin.request('GET', path, { auth: [ADMIN, ADMIN_PASSWORD] })).status, 200);
    await redis!.redis.stop();
    const r = await admin.request('GET', path, { auth: [ADMIN, ADMIN_PASSWORD] });
    assert.equal(r.status, 503);
    assert.equal(r.body.code, 'ADM_UNAVAILABLE');
    assert.equal(r.body.keyChanges, undefined);
    assert.match(admin.logText(), /"code":"ADM_LIMIT_UNAVAILABLE"/);
  });
});
