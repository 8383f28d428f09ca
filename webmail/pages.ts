import { readFile } from 'node:fs/promises';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { send } from './api/http.ts';

/**
 * The pickup app's pages (docs/pickup.md "Pages", docs/pickup-app.md): `GET /p/:id` answers the built
 * index.html (the same for every id: the app reads the id from the path; no state changes on GET) and
 * `/assets/*` the hashed files of webmail/pickup/dist. Built by `npm run build:web`.
 *
 * The CSP below is set on the page and on the assets (a worker script runs under its own response's
 * policy, and the Argon2id worker needs 'wasm-unsafe-eval'). `style-src-attr 'unsafe-inline'` lets the
 * sanitised message HTML in the sandboxed frame keep its inline style attributes (the frame inherits this
 * policy); style elements stay 'self' only, and url() is stripped from every style by the sanitiser.
 */
export const PICKUP_CSP = [
  "default-src 'none'",
  "script-src 'self' 'wasm-unsafe-eval'",
  "style-src 'self'",
  "style-src-elem 'self'",
  "style-src-attr 'unsafe-inline'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "worker-src 'self'",
  "frame-src 'self'",
  "font-src 'self'",
  "form-action 'none'",
  "base-uri 'none'",
  "frame-ancestors 'none'",
].join('; ');

const IMMUTABLE = 'public, max-age=31536000, immutable';

export function pickupPages(options: { distDir: string }): Router {
  const router = express.Router();
  const indexFile = path.join(options.distDir, 'index.html');
  let index: Promise<Buffer> | undefined;

  const page = async (_req: Request, res: Response): Promise<void> => {
    index ??= readFile(indexFile);
    let html: Buffer;
    try {
      html = await index;
    } catch {
      index = undefined; // not built yet: `npm run build:web`; try again on the next request
      return send(res, 'PU_UNAVAILABLE');
    }
    res.setHeader('Content-Security-Policy', PICKUP_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.type('html').send(html);
  };
  router.get('/p/:id', (req, res, next) => void page(req, res).catch(next));

  router.use('/assets', (req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    res.setHeader('Content-Security-Policy', PICKUP_CSP);
    res.setHeader('Cache-Control', IMMUTABLE);
    next();
  });
  router.use(
    '/assets',
    express.static(path.join(options.distDir, 'assets'), {
      index: false,
      redirect: false,
      dotfiles: 'deny',
      fallthrough: true,
      cacheControl: false,
      etag: true,
      lastModified: false,
    }),
  );
  // A missing asset must not be cached forever.
  router.use('/assets', (_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  return router;
}
