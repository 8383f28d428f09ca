import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { errName } from '../core/log.ts';
import { metricsHandler } from '../core/metrics-http.ts';
import { readinessAnswer, readinessChecks, type ReadinessCheck } from '../core/readiness.ts';
import { pickupApi } from './api/pickup.ts';
import { consoleApi } from './console-api/index.ts';
import type { ConsoleApiDeps } from './console-api/deps.ts';
import { send } from './api/http.ts';
import { adminApi } from './admin.ts';
import { landingPage } from './landing.ts';
import { wkdRouter } from './wkd.ts';

/**
 * The webmail service: the pickup API (docs/pickup.md), the admin API (docs/admin-api.md), the
 * practitioner's console API (docs/console.md), the senders' Web Key Directory (webmail/wkd.ts), the
 * landing page at `/` (webmail/landing.ts) and, from `pages`, the pickup app's pages. Security headers are
 * those of DESIGN.md on every response: strict CSP, no referrer, no sniffing, no framing; HSTS when the public
 * URL is https. The CSP of everything but the app's pages carries `sandbox`: an API answer opened as a
 * page is a document of no origin, never one of the pickup origin (invariant 9).
 */
export interface WebmailDeps extends ConsoleApiDeps {
  /** What `/readyz` asks (core/readiness.ts); default: this process's database and Redis. */
  readonly readiness?: readonly ReadinessCheck[];
}

export function securityHeaders(hsts: boolean) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'; sandbox",
    );
    res.setHeader('Referrer-Policy', 'no-referrer');
    res.setHeader('X-Content-Type-Options', 'nosniff');
    res.setHeader('X-Frame-Options', 'DENY');
    res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
    res.setHeader('Cross-Origin-Resource-Policy', 'same-origin');
    res.setHeader('Cache-Control', 'no-store');
    if (hsts) res.setHeader('Strict-Transport-Security', 'max-age=31536000');
    next();
  };
}

export function createApp(deps: WebmailDeps, options: { pages?: express.Router } = {}): Express {
  const app = express();
  app.disable('x-powered-by');
  // Off by default: req.ip and req.secure are the socket's, whatever X-Forwarded-* a client sends. With
  // trustProxy.http they are what the configured proxies say (the per-address limits see the client).
  const trust = deps.config.trustProxy.http;
  app.set('trust proxy', Array.isArray(trust) ? [...trust] : trust);
  app.use(securityHeaders(deps.config.publicUrl.startsWith('https:')));
  // Liveness: the process runs and answers. Whether it can work (database, Redis, migrations) is /readyz.
  app.get('/healthz', (_req, res) => {
    res.json({ ok: true });
  });
  const checks = deps.readiness ?? readinessChecks(deps);
  app.get('/readyz', async (_req, res) => {
    const answer = await readinessAnswer(checks, deps.log);
    res.status(answer.status).json(answer.body);
  });
  // Prometheus, for loopback and metrics.allow only (core/metrics-http.ts); anyone else gets a 404.
  app.get('/metrics', metricsHandler(deps.metrics, deps.config.metrics.allow));
  app.use('/api/pickup', pickupApi(deps));
  app.use('/api/admin', adminApi(deps));
  app.use('/api/console', consoleApi(deps));
  app.use('/.well-known/openpgpkey', wkdRouter(deps));
  // The root of SEALPOST_PUBLIC_URL, where the enrolment card's QR code leads (webmail/landing.ts).
  app.use(landingPage(deps));
  if (options.pages) app.use(options.pages);
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found', code: 'WEB_NOT_FOUND' });
  });
  // Errors: a body too large or not JSON is the client's (4xx); anything else is logged by class only.
  app.use((err: unknown, _req: Request, res: Response, _next: NextFunction) => {
    const status = (err as { status?: number }).status;
    if (status === 413) return send(res, 'PU_REPLY_TOO_BIG');
    if (status && status >= 400 && status < 500) return send(res, 'PU_BAD_REQUEST');
    deps.log.error('WEB_INTERNAL_ERROR', { errName: errName(err) });
    send(res, 'PU_INTERNAL');
  });
  return app;
}
