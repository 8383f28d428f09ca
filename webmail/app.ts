import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import { errName } from '../core/log.ts';
import { pickupApi } from './api/pickup.ts';
import type { PickupApiDeps } from './api/deps.ts';
import { send } from './api/http.ts';
import { adminApi } from './admin.ts';
import { wkdRouter } from './wkd.ts';

/**
 * The webmail service: the pickup API (docs/pickup.md), the admin API (docs/admin-api.md), the senders'
 * Web Key Directory (webmail/wkd.ts) and, from `pages`, the pickup app's pages. Security headers are those
 * of DESIGN.md on every response: strict CSP, no referrer, no sniffing, no framing; HSTS when the public
 * URL is https.
 */
export type WebmailDeps = PickupApiDeps;

export function securityHeaders(hsts: boolean) {
  return (_req: Request, res: Response, next: NextFunction): void => {
    res.setHeader(
      'Content-Security-Policy',
      "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
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
  app.use(securityHeaders(deps.config.publicUrl.startsWith('https:')));
  app.get('/healthz', async (_req, res) => {
    try {
      await deps.db.kysely.selectFrom('users').select('id').limit(1).execute();
      res.json({ ok: true });
    } catch {
      deps.log.error('WEB_HEALTH_DB_DOWN');
      res.status(503).json({ ok: false, code: 'WEB_HEALTH_DB_DOWN' });
    }
  });
  app.use('/api/pickup', pickupApi(deps));
  app.use('/api/admin', adminApi(deps));
  app.use('/.well-known/openpgpkey', wkdRouter(deps));
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
