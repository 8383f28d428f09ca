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

/** The built index.html of a bundle, answered with the strict CSP and never cached. */
function indexPage(distDir: string) {
  const indexFile = path.join(distDir, 'index.html');
  let index: Promise<Buffer> | undefined;
  return async (_req: Request, res: Response): Promise<void> => {
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
}

/**
 * The pickup app's pages and, with `consoleDistDir`, the practitioner's console (docs/console.md): its own
 * bundle (webmail/console/dist), its page at `/console` and every `/console/...` screen, its hashed files
 * under `/console/assets/`, all under the same CSP as the pickup pages.
 */
export function pickupPages(options: { distDir: string; consoleDistDir?: string }): Router {
  const router = express.Router();
  const page = indexPage(options.distDir);
  router.get('/p/:id', (req, res, next) => void page(req, res).catch(next));
  if (options.consoleDistDir) {
    const consolePage = indexPage(options.consoleDistDir);
    router.use('/console/assets', assets(options.consoleDistDir));
    router.get(['/console', '/console/*rest'], (req, res, next) => void consolePage(req, res).catch(next));
  }
  router.use('/assets', assets(options.distDir));
  return router;
}

/** The hashed files of a bundle: immutable, under the pages' CSP; a missing one is not cached. */
function assets(distDir: string): Router {
  const router = express.Router();
  router.use((req, res, next) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') return next();
    res.setHeader('Content-Security-Policy', PICKUP_CSP);
    res.setHeader('Cache-Control', IMMUTABLE);
    next();
  });
  router.use(
    express.static(path.join(distDir, 'assets'), {
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
  router.use((_req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    next();
  });
  return router;
}
