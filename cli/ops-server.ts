import { createServer, type Server } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { Config } from '../core/config.ts';
import type { Log } from '../core/log.ts';
import type { Metrics } from '../core/metrics.ts';
import { metricsHandler } from '../core/metrics-http.ts';
import { readinessAnswer, type ReadinessCheck } from '../core/readiness.ts';

/**
 * The HTTP port of a process that runs no webmail (`sealpost start gateway`, `sealpost start worker`):
 * `/healthz` (alive), `/readyz` (database, migrations, Redis: what the container's health check asks) and
 * `/metrics` (loopback and `metrics.allow` only), nothing else. With the webmail in the process, the
 * webmail answers the same three paths on the same port.
 */
export async function listenOps(input: {
  config: Config;
  log: Log;
  checks: readonly ReadinessCheck[];
  metrics: Metrics | undefined;
}): Promise<{ server: Server; port: number }> {
  const { config, log, checks } = input;
  const metrics = metricsHandler(input.metrics, config.metrics.allow);
  const json = (res: import('node:http').ServerResponse, status: number, body: unknown) => {
    res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
    res.end(JSON.stringify(body));
  };
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') return json(res, 404, notFound);
    if (path === '/healthz') return json(res, 200, { ok: true });
    if (path === '/readyz') {
      return void readinessAnswer(checks, log).then(
        (a) => json(res, a.status, a.body),
        () => json(res, 503, { ok: false, code: 'WEB_NOT_READY' }),
      );
    }
    if (path === '/metrics') return void metrics(req, res).catch(() => json(res, 500, { ok: false }));
    json(res, 404, notFound);
  });
  // A probe or a scrape is short: no slow client keeps a socket.
  server.requestTimeout = 10_000;
  server.headersTimeout = 5_000;
  server.listen(config.opsPort ?? config.httpPort, config.listenHost);
  await once(server, 'listening');
  return { server, port: (server.address() as AddressInfo).port };
}

const notFound = { error: 'not found', code: 'WEB_NOT_FOUND' };
