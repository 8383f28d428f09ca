import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import type { CoreDeps } from '../core/deps.ts';
import { errName } from '../core/log.ts';
import { WKD_DOMAIN, WKD_HASH, wkdPublishedKey, wkdPublishesDomain } from '../keys/wkd-publish.ts';

/**
 * The Web Key Directory of Sealpost's senders (draft-koch-openpgp-webkey-service §3.1; docs/discovery.md
 * "Publishing (WKD)"), mounted at /.well-known/openpgpkey:
 *
 *   GET|HEAD /hu/:hash                 direct method: the domain is the request's host
 *   GET|HEAD /:domain/hu/:hash         advanced method (host openpgpkey.<domain>)
 *   GET|HEAD /policy, /:domain/policy  the policy file: empty, for a domain we publish keys for
 *
 * A key is the binary public key narrowed to the User IDs of its address. Mail programs and web
 * extensions read these from other origins: every answer here allows any origin (CORS) and overrides the
 * app's same-origin resource policy. Anything we do not publish is 404; `?l=` (the local part in clear)
 * is accepted and not needed: the hash names the address.
 */
const hashSchema = z.string().regex(WKD_HASH);
const domainSchema = z
  .string()
  .max(253)
  .transform((d) => d.toLowerCase())
  .pipe(z.string().regex(WKD_DOMAIN));
const querySchema = z.object({ l: z.string().max(256).optional() }).loose();

type WkdDeps = Pick<CoreDeps, 'db' | 'log'>;

export function wkdRouter(deps: WkdDeps): Router {
  const router = express.Router();
  router.use((_req: Request, res: Response, next: NextFunction) => {
    res.setHeader('Access-Control-Allow-Origin', '*');
    res.setHeader('Cross-Origin-Resource-Policy', 'cross-origin');
    next();
  });
  const key = (domainOf: (req: Request) => unknown) =>
    handle(deps, async (req) => {
      const domain = domainSchema.safeParse(domainOf(req));
      const hash = hashSchema.safeParse(req.params.hash);
      if (!domain.success || !hash.success || !querySchema.safeParse(req.query).success) return undefined;
      return wkdPublishedKey(deps.db.kysely, { domain: domain.data, hash: hash.data });
    });
  const policy = (domainOf: (req: Request) => unknown) =>
    handle(deps, async (req) => {
      const domain = domainSchema.safeParse(domainOf(req));
      if (!domain.success) return undefined;
      return (await wkdPublishesDomain(deps.db.kysely, domain.data)) ? new Uint8Array(0) : undefined;
    });
  // Express answers HEAD with the GET route, without the body.
  router.get('/hu/:hash', key(hostDomain));
  router.get('/policy', policy(hostDomain));
  router.get('/:domain/hu/:hash', key(pathDomain));
  router.get('/:domain/policy', policy(pathDomain));
  return router;
}

/** Direct method: the Host header without its port (Express's req.hostname; no proxy is trusted). */
function hostDomain(req: Request): unknown {
  return req.hostname;
}

function pathDomain(req: Request): unknown {
  return req.params.domain;
}

/** Serve what `find` returns as application/octet-stream; undefined falls through to the app's 404. */
function handle(deps: WkdDeps, find: (req: Request) => Promise<Uint8Array | undefined>) {
  return (req: Request, res: Response, next: NextFunction): void => {
    find(req).then(
      (bytes) => {
        if (!bytes) return next();
        deps.log.debug('WEB_WKD_SERVED', { bytes: bytes.length });
        res.type('application/octet-stream').send(Buffer.from(bytes));
      },
      (err: unknown) => {
        deps.log.error('WEB_WKD_UNAVAILABLE', { errName: errName(err) });
        res.status(503).json({ code: 'WEB_WKD_UNAVAILABLE', message: 'Temporarily unavailable' });
      },
    );
  };
}
