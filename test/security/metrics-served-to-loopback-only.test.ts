import assert from 'node:assert/strict';
import { once } from 'node:events';
import http, { type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { networkInterfaces } from 'node:os';
import { listenOps } from '../../cli/ops-server.ts';
import type { ConfigInput } from '../../core/config.ts';
import { readinessChecks } from '../../core/readiness.ts';
import { createApp } from '../../webmail/app.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { getText } from '../helpers/metrics.ts';

/**
 * `/metrics` says how much mail a practice sends, when, and how its clients fare at the pickup: for the
 * operator's scraper, not for the internet. Served to loopback by default, to `metrics.allow` besides; to
 * anyone else a 404 like any unknown path. A TLS proxy on the same host connects from loopback: the client
 * it names in X-Forwarded-For / Forwarded is refused too, even with `trustProxy` naming that proxy. Both
 * the webmail and the HTTP port of a gateway-only process (cli/ops-server.ts) keep this.
 */
/** An IPv4 address of this machine that is not loopback, if it has one. */
function outsideAddress(): string | undefined {
  for (const list of Object.values(networkInterfaces())) {
    for (const a of list ?? []) if (a.family === 'IPv4' && !a.internal) return a.address;
  }
  return undefined;
}

describe('security: /metrics is served to loopback and metrics.allow only', function () {
  this.timeout(60_000);
  const closers: (() => Promise<void>)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0).reverse()) await c();
  });

  /** A gateway-only composition with its HTTP port (the ops server) and a webmail app on the same parts. */
  async function serve(config: Omit<ConfigInput, 'limits'> = {}) {
    const gw: TestGateway = await startTestGateway({
      kind: 'sqlite',
      config: { listenHost: '0.0.0.0', httpPort: 0, ...config },
    });
    closers.push(() => gw.close());
    const { deps } = gw.sealpost;
    const ops = await listenOps({
      config: deps.config,
      log: deps.log,
      checks: readinessChecks({ db: deps.db, redis: deps.redis }),
      metrics: deps.metrics,
    });
    closers.push(() => new Promise((resolve) => ops.server.close(() => resolve())));
    const app = createApp({ ...gw.deps, keys: gw.keys, enqueue: async () => undefined });
    const web: Server = http.createServer(app).listen(0, '0.0.0.0');
    await once(web, 'listening');
    closers.push(() => new Promise((resolve) => web.close(() => resolve())));
    return { ops: ops.port, web: (web.address() as AddressInfo).port };
  }

  it('answers loopback with the Prometheus text, and refuses whoever a proxy header names', async () => {
    const { ops, web } = await serve({ trustProxy: { http: ['loopback'] } });
    for (const port of [ops, web]) {
      const ok = await getText(port, '/metrics');
      assert.equal(ok.status, 200);
      assert.match(ok.type, /^text\/plain/);
      assert.match(ok.text, /^sealpost_messages_accepted_total 0$/m);
      const proxied: Record<string, string>[] = [
        { 'x-forwarded-for': '203.0.113.9' },
        { 'x-forwarded-for': '127.0.0.1, 203.0.113.9' },
        { 'x-real-ip': '203.0.113.9' },
        { forwarded: 'for="[2001:db8::7]:4711";proto=https' },
        { forwarded: 'for=unknown' },
      ];
      for (const headers of proxied) {
        const refused = await getText(port, '/metrics', { headers });
        assert.equal(refused.status, 404, `${port} ${JSON.stringify(headers)}`);
        assert.deepEqual(JSON.parse(refused.text), { error: 'not found', code: 'WEB_NOT_FOUND' });
        assert.doesNotMatch(refused.text, /sealpost_/);
      }
      // A proxy that names a loopback client only (a scraper on the same host behind it) is fine.
      assert.equal((await getText(port, '/metrics', { headers: { 'x-forwarded-for': '::1' } })).status, 200);
    }
  });

  it('refuses a peer that is not loopback, unless metrics.allow names it', async function () {
    const outside = outsideAddress();
    if (!outside) return this.skip(); // this machine has no address but loopback to connect from
    const closed = await serve();
    for (const port of [closed.ops, closed.web]) {
      assert.equal((await getText(port, '/metrics', { host: outside })).status, 404);
      assert.equal((await getText(port, '/healthz', { host: outside })).status, 200);
    }
    const open = await serve({ metrics: { allow: [`${outside}/32`] } });
    for (const port of [open.ops, open.web]) {
      assert.equal((await getText(port, '/metrics', { host: outside })).status, 200);
    }
  });
});
