import { readFile } from 'node:fs/promises';
import path from 'node:path';
import express, { type Request, type Response, type Router } from 'express';
import { htmlText } from '../keys/verdict-line/notice.ts';
import { send } from './api/http.ts';
import { DICTIONARIES, type Lang } from './pickup/src/lib/i18n.ts';

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

/**
 * The built index.html of a bundle, answered with the strict CSP and never cached. A page with the
 * `<!--sealpost:boot …-->` marker (the pickup app's) gets the code form there, in the language of the
 * request's Accept-Language (German unless English is preferred), so that the field is usable at the first
 * paint, before the app's script has loaded (src/lib/boot.ts adopts it).
 */
function indexPage(distDir: string) {
  const indexFile = path.join(distDir, 'index.html');
  let index: Promise<Record<Lang, Buffer>> | undefined;
  return async (req: Request, res: Response): Promise<void> => {
    index ??= readFile(indexFile, 'utf8').then((html) => ({
      de: Buffer.from(withBootForm(html, 'de')),
      en: Buffer.from(withBootForm(html, 'en')),
    }));
    let pages: Record<Lang, Buffer>;
    try {
      pages = await index;
    } catch {
      index = undefined; // not built yet: `npm run build:web`; try again on the next request
      return send(res, 'PU_UNAVAILABLE');
    }
    res.setHeader('Content-Security-Policy', PICKUP_CSP);
    res.setHeader('Cache-Control', 'no-store');
    res.setHeader('Vary', 'Accept-Language');
    res.type('html').send(pages[req.acceptsLanguages('de', 'en') === 'en' ? 'en' : 'de']);
  };
}

const BOOT_MARKER = /<!--sealpost:boot[^>]*-->/;

/**
 * The served code form (webmail/pickup/src/lib/boot.ts): a <dialog open> with a method="dialog" form, so
 * that submitting it runs no script and sends nothing (the field has no name; the CSP: form-action 'none').
 */
export function withBootForm(html: string, lang: Lang): string {
  if (!BOOT_MARKER.test(html)) return html;
  const t = DICTIONARIES[lang];
  const form = [
    `<dialog id="boot" open aria-labelledby="boot-title">`,
    `<div class="boot-bar">${htmlText(t.htmlTitle)}</div>`,
    `<div class="boot-main"><section class="card">`,
    `<h1 id="boot-title">${htmlText(t.htmlTitle)}</h1>`,
    `<form method="dialog">`,
    `<label for="secret">${htmlText(t.codeLabel)}</label>`,
    `<input id="secret" type="password" autocomplete="current-password" autocapitalize="off" spellcheck="false" autofocus>`,
    `<button type="submit">${htmlText(t.open)}</button>`,
    `<p class="boot-sent" role="status">${htmlText(t.loading)}</p>`,
    `</form></section></div></dialog>`,
  ].join('');
  return html
    .replace(/<html lang="[a-z]+">/, `<html lang="${lang}">`)
    .replace(/<title>[^<]*<\/title>/, `<title>${htmlText(t.htmlTitle)}</title>`)
    .replace(BOOT_MARKER, form);
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
