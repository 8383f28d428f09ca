import express, { type Express, type NextFunction, type Request, type Response } from 'express';
import type { Db } from '../core/db/index.ts';
import type { Log } from '../core/log.ts';

/**
 * The webmail service. Today it serves only its health endpoint: the pickup app and the admin console
 * arrive with their issues. The security headers are already those of DESIGN.md: strict CSP, no referrer,
 * no sniffing, no framing.
 */
export interface WebmailDeps {
  db: Db;
  log: Log;
}

export function securityHeaders(_req: Request, res: Response, next: NextFunction): void {
  res.setHeader(
    'Content-Security-Policy',
    "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  );
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('X-Frame-Options', 'DENY');
  res.setHeader('Cross-Origin-Opener-Policy', 'same-origin');
  res.setHeader('Cache-Control', 'no-store');
  next();
}

export function createApp(deps: WebmailDeps): Express {
  const app = express();
  app.disable('x-powered-by');
  app.use(securityHeaders);
  app.get('/healthz', async (_req, res) => {
    try {
      await deps.db.kysely.selectFrom('users').select('id').limit(1).execute();
      res.json({ ok: true });
    } catch {
      deps.log.error('WEB_HEALTH_DB_DOWN');
      res.status(503).json({ ok: false, code: 'WEB_HEALTH_DB_DOWN' });
    }
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not found', code: 'WEB_NOT_FOUND' });
  });
  return app;
}
