import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AuthLimiter, authLimitSettings } from '../../core/auth-limit.ts';
import { errName } from '../../core/log.ts';
import { postGuard } from '../api/http.ts';
import { setPasswordByLink } from './admin-users.ts';
import type { ConsoleApiDeps } from './deps.ts';
import { consoleRoute, requestConsoleHash, sendConsole } from './http.ts';
import type { ConsoleRoute, SignedIn } from './routes.ts';
import { auditEntry, CONSOLE_IDLE_MS, signIn } from './session.ts';
import { CONSOLE_ROUTE_TABLE } from './table.ts';

/**
 * The console API (docs/console.md), under /api/console: sign-in with the Sealpost address and password
 * (the SMTP password, under the SMTP AUTH limits), then every row of the route table (table.ts) behind one
 * middleware that checks the session and the row's role. Every query of a 'user' row is bound to the
 * signed-in user's id; every action goes to the audit trail with the client's IP (never a code, a password
 * or a key).
 */
export function consoleApi(deps: ConsoleApiDeps): Router {
  const router = express.Router();
  const limiter = new AuthLimiter(deps.limitStore, authLimitSettings(deps.config.limits));
  router.use(
    postGuard(new URL(deps.config.publicUrl).origin, (res, why) =>
      sendConsole(res, why === 'origin' ? 'CON_BAD_ORIGIN' : 'CON_NEEDS_JSON'),
    ),
  );
  router.use(express.json({ limit: 16_384 }));
  router.post(
    '/session',
    consoleRoute(deps, (req, res) => signIn(deps, limiter, req, res)),
  );
  // The one-time link to set a password is the credential of its own route (docs/console.md).
  router.post(
    '/set-password',
    consoleRoute(deps, (req, res) => setPasswordByLink(deps, req, res)),
  );
  for (const route of CONSOLE_ROUTE_TABLE) mount(deps, router, route);
  router.use((_req, res) => sendConsole(res, 'CON_NOT_FOUND'));
  return router;
}

function mount(deps: ConsoleApiDeps, router: Router, route: ConsoleRoute): void {
  const handler = consoleRoute(deps, async (req, res) => {
    const user = signedIn.get(req);
    if (!user) return sendConsole(res, 'CON_AUTH_REQUIRED');
    const audit = (action: string, subject?: string) => auditEntry(deps, req, user.login, action, subject);
    await route.handle({ deps, req, res, user, audit });
  });
  const guard = requireSession(deps, route);
  if (route.method === 'GET') router.get(route.path, guard, handler);
  else router.post(route.path, guard, handler);
}

const signedIn = new WeakMap<Request, SignedIn>();

/**
 * The live session's user (idle and absolute expiry in the store), or 401; a disabled user is out too; a
 * row of role 'admin' needs the admin role (403).
 */
function requireSession(deps: ConsoleApiDeps, route: ConsoleRoute) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const hash = requestConsoleHash(req);
    if (!hash) return sendConsole(res, 'CON_AUTH_REQUIRED');
    const now = deps.clock.now().getTime();
    (async () => {
      const session = await deps.db.stores.console.session(hash, CONSOLE_IDLE_MS, now);
      const user = session && (await deps.db.stores.users.byId(session.userId));
      if (!user || user.disabled) return sendConsole(res, 'CON_AUTH_REQUIRED');
      // An admin session is one whose sign-in passed TOTP (an admin never gets another, docs/console.md).
      const admin = user.isAdmin && session.secondFactor;
      if (route.role === 'admin' && !admin) {
        deps.log.warn('CON_FORBIDDEN', { user: user.login, remote: req.ip ?? 'unknown' });
        return sendConsole(res, 'CON_FORBIDDEN');
      }
      signedIn.set(req, { id: user.id, login: user.login, admin, hash });
      next();
    })().catch((err: unknown) => {
      deps.log.error('CON_INTERNAL_ERROR', { errName: errName(err) });
      sendConsole(res, 'CON_UNAVAILABLE');
    });
  };
}
