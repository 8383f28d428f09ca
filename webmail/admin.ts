import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { isAddress, normaliseAddress } from '../core/ids.ts';
import { errName } from '../core/log.ts';
import { ExplainInputError, KeyChangeError, type KeyChange } from '../keys/index.ts';
import { adminOf, requireAdmin } from './admin-auth.ts';
import { sendAdmin, type AdminCode } from './admin-http.ts';
import type { PickupApiDeps } from './api/deps.ts';
import { postGuard } from './api/http.ts';

/**
 * The admin API (docs/admin-api.md), under /api/admin, for the console and for scripts: key changes
 * waiting for a decision, the decision, and "what would happen to this mail" (keys/policy/explain.ts). Every
 * request authenticates (webmail/admin-auth.ts); answers are JSON with ADM_* codes (webmail/admin-http.ts).
 *
 *   GET  /key-changes?status=held|all       { keyChanges: [...] }, newest first (default: held)
 *   POST /key-changes/:id/approve|reject    { keyChange }; 404 ADM_NOT_FOUND, 409 ADM_NOT_HELD
 *   GET  /explain?from=…&to=…[&to=…]        the Explanation, 1–100 recipients
 */
export type AdminApiDeps = PickupApiDeps;

const address = z.string().max(254).transform(normaliseAddress).refine(isAddress, 'not an e-mail address');
const listQuery = z.object({ status: z.enum(['held', 'all']).default('held') }).strict();
const explainQuery = z
  .object({
    from: address,
    // One `to` is a string, several an array (Express's query parser).
    to: z.preprocess((v) => (typeof v === 'string' ? [v] : v), z.array(address).min(1).max(100)),
  })
  .strict();
const changeId = z.uuid();

export function adminApi(deps: AdminApiDeps): Router {
  const router = express.Router();
  // A browser sends cached Basic credentials with any request to us: a POST must be JSON (a form on another
  // site cannot send that without CORS) and, when the browser names its origin, ours.
  router.use(postGuard(new URL(deps.config.publicUrl).origin));
  router.use(requireAdmin(deps));
  router.get(
    '/key-changes',
    handle(deps, async (req, res) => {
      const query = listQuery.safeParse(req.query);
      if (!query.success) return sendAdmin(res, 'ADM_BAD_REQUEST');
      const changes = await deps.keys.listKeyChanges({ status: query.data.status });
      res.json({ keyChanges: changes.map(keyChangeJson) });
    }),
  );
  for (const decision of ['approve', 'reject'] as const) {
    router.post(
      `/key-changes/:id/${decision}`,
      handle(deps, async (req, res) => {
        const id = changeId.safeParse(req.params.id);
        if (!id.success) return sendAdmin(res, 'ADM_NOT_FOUND');
        const actor = `admin-api:${adminOf(req).login}`;
        try {
          const change = await deps.keys.decideKeyChange(id.data, decision, actor);
          res.json({ keyChange: keyChangeJson(change) });
        } catch (err) {
          if (!(err instanceof KeyChangeError)) throw err;
          const code: AdminCode = err.reason === 'not-found' ? 'ADM_NOT_FOUND' : 'ADM_NOT_HELD';
          sendAdmin(res, code);
        }
      }),
    );
  }
  router.get(
    '/explain',
    handle(deps, async (req, res) => {
      const query = explainQuery.safeParse(req.query);
      if (!query.success) return sendAdmin(res, 'ADM_BAD_REQUEST');
      if (!deps.explain) return sendAdmin(res, 'ADM_UNAVAILABLE');
      try {
        res.json(await deps.explain({ from: query.data.from, to: query.data.to }));
      } catch (err) {
        if (!(err instanceof ExplainInputError)) throw err;
        sendAdmin(res, 'ADM_BAD_REQUEST');
      }
    }),
  );
  return router;
}

function keyChangeJson(c: KeyChange) {
  return {
    ...c,
    createdAt: c.createdAt.toISOString(),
    decidedAt: c.decidedAt ? c.decidedAt.toISOString() : null,
  };
}

/** An async handler whose unexpected errors are logged by class and answered 500 ADM_INTERNAL. */
function handle(deps: AdminApiDeps, fn: (req: Request, res: Response) => Promise<void>) {
  return (req: Request, res: Response): void => {
    fn(req, res).catch((err: unknown) => {
      deps.log.error('ADM_INTERNAL_ERROR', { errName: errName(err) });
      if (!res.headersSent) sendAdmin(res, 'ADM_INTERNAL');
    });
  };
}
