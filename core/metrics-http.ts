import type { IncomingMessage, ServerResponse } from 'node:http';
import { metricsAccess } from './metrics-access.ts';
import type { Metrics } from './metrics.ts';

/**
 * `GET /metrics` (the webmail, and cli/ops-server.ts for a gateway or worker process): the process's
 * registry in Prometheus text format to loopback and `metrics.allow`; anyone else, or a process without
 * metrics, gets the 404 of a path that does not exist.
 */
export function metricsHandler(
  metrics: Metrics | undefined,
  allow: readonly string[],
): (req: IncomingMessage, res: ServerResponse) => Promise<void> {
  const allowed = metricsAccess(allow);
  return async (req, res) => {
    if (!metrics || !allowed(req)) {
      res.writeHead(404, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
      res.end(JSON.stringify({ error: 'not found', code: 'WEB_NOT_FOUND' }));
      return;
    }
    const body = await metrics.text();
    res.writeHead(200, { 'Content-Type': metrics.contentType, 'Cache-Control': 'no-store' });
    res.end(body);
  };
}
