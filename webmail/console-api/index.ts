import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { AuthLimiter, authLimitSettings } from '../../core/auth-limit.ts';
import { errName } from '../../core/log.ts';
import { consoleLockId, ensureConsoleKey, inThreadCrypto } from '../../keys/index.ts';
import { kdfSchema } from '../contract/pickup.ts';
import { codeIdSchema, signInRequest, type CodesAnswer, type SignInAnswer } from '../contract/console.ts';
import { postGuard } from '../api/http.ts';
import type { ConsoleApiDeps } from './deps.ts';
import { checkTotp, totpRoutes } from './totp.ts';
import {
  ConsoleError,
  consoleRoute,
  newConsoleSession,
  requestConsoleHash,
  sendConsole,
  setConsoleCookie,
} from './http.ts';

/**
 * The practitioner's console API (docs/console.md), under /api/console: sign-in with her Sealpost address
 * and password (the SMTP password, under the SMTP AUTH limits), her waiting access codes, "handed over",
 * sign-out. Every query is bound to the signed-in user's id; every action goes to the audit trail with the
 * client's IP (never a code, a password or a key).
 */
export const CONSOLE_IDLE_MS = 30 * 60_000;

interface SignedIn {
  id: string;
  login: string;
  hash: string;
}
const signedIn = new WeakMap<Request, SignedIn>();

function userOf(req: Request): SignedIn {
  const user = signedIn.get(req);
  if (!user) throw new ConsoleError('CON_AUTH_REQUIRED');
  return user;
}

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
  router.use(requireSession(deps)); // everything below needs a live session
  router.get(
    '/session',
    consoleRoute(deps, async (req, res) => void res.json({ user: { login: userOf(req).login } })),
  );
  router.post(
    '/session/end',
    consoleRoute(deps, (req, res) => signOut(deps, req, res)),
  );
  router.get(
    '/codes',
    consoleRoute(deps, (req, res) => listCodes(deps, req, res)),
  );
  router.post(
    '/codes/:id/handed-over',
    consoleRoute(deps, (req, res) => handedOver(deps, req, res)),
  );
  totpRoutes(deps, router, userOf, (req, who, action) => audit(deps, req, who, action));
  router.use((_req, res) => sendConsole(res, 'CON_NOT_FOUND'));
  return router;
}

/** The live session's user (idle and absolute expiry in the store), or 401; a disabled user is out too. */
function requireSession(deps: ConsoleApiDeps) {
  return (req: Request, res: Response, next: NextFunction): void => {
    const hash = requestConsoleHash(req);
    if (!hash) return sendConsole(res, 'CON_AUTH_REQUIRED');
    const now = deps.clock.now().getTime();
    (async () => {
      const session = await deps.db.stores.console.session(hash, CONSOLE_IDLE_MS, now);
      const user = session && (await deps.db.stores.users.byId(session.userId));
      if (!user || user.disabled) return sendConsole(res, 'CON_AUTH_REQUIRED');
      signedIn.set(req, { id: user.id, login: user.login, hash });
      next();
    })().catch((err: unknown) => {
      deps.log.error('CON_INTERNAL_ERROR', { errName: errName(err) });
      sendConsole(res, 'CON_UNAVAILABLE');
    });
  };
}

function audit(deps: ConsoleApiDeps, req: Request, who: string, action: string, subject?: string) {
  return deps.db.stores.audit.record(
    { actor: who, action, ...(subject ? { subject } : {}), ...(req.ip ? { ip: req.ip } : {}) },
    deps.clock.now(),
  );
}

/**
 * Sign-in: the SMTP AUTH limits first (a limited login is not even checked; Redis down: 503), then the
 * password (an unknown login costs a dummy hash), then her console key — made now from this password if
 * she has none (docs/console.md) — and a new session.
 */
async function signIn(deps: ConsoleApiDeps, limiter: AuthLimiter, req: Request, res: Response) {
  const body = signInRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const login = body.data.login.trim().toLowerCase();
  const fields = { user: login, remote: req.ip ?? 'unknown' };
  const limits = <T>(p: Promise<T>): Promise<T> =>
    p.catch((err: unknown) => {
      deps.log.error('CON_LIMIT_UNAVAILABLE', { ...fields, errName: errName(err) });
      throw new ConsoleError('CON_UNAVAILABLE');
    });
  const refused = await limits(limiter.check(login, req.ip));
  if (refused) {
    deps.log.warn('CON_RATE_LIMITED', {
      ...fields,
      reason: refused.reason,
      ms: refused.retryAfterSeconds * 1000,
    });
    res.setHeader('Retry-After', String(refused.retryAfterSeconds));
    return sendConsole(res, 'CON_RATE_LIMITED', { retryAfterSeconds: refused.retryAfterSeconds });
  }
  const user = await deps.db.stores.users.authenticate(login, body.data.password);
  if (!user) {
    await limits(limiter.recordFailure(login, req.ip));
    const known = await deps.db.stores.users.find(login);
    const reason = !known ? 'unknown-user' : known.disabled ? 'disabled' : 'bad-password';
    deps.log.warn('CON_AUTH_FAILED', { ...fields, reason });
    await audit(deps, req, login, 'console.sign-in-failed');
    return sendConsole(res, 'CON_AUTH_FAILED');
  }
  const second = await checkTotp(deps, user, body.data.totp);
  if (second === 'missing') return sendConsole(res, 'CON_TOTP_REQUIRED');
  if (second === 'wrong') {
    await limits(limiter.recordFailure(login, req.ip));
    deps.log.warn('CON_TOTP_WRONG', fields);
    await audit(deps, req, login, 'console.sign-in-failed');
    return sendConsole(res, 'CON_TOTP_WRONG');
  }
  await limits(limiter.recordSuccess(login, req.ip));
  const crypto = deps.crypto ?? inThreadCrypto();
  await ensureConsoleKey({ stores: deps.db.stores, crypto, clock: deps.clock }, user, body.data.password);
  const key = await deps.db.stores.console.keyOf(user.id);
  if (!key) throw new Error('console key missing after ensureConsoleKey');
  const session = newConsoleSession();
  const now = deps.clock.now();
  await deps.db.stores.console.openSession(session.hash, user.id, now.getTime());
  await audit(deps, req, user.login, 'console.sign-in');
  deps.log.info('CON_SIGNED_IN', fields);
  setConsoleCookie(deps, res, session.token);
  const answer: SignInAnswer = {
    user: { login: user.login },
    session: { key: session.key, expiresAt: new Date(now.getTime() + CONSOLE_IDLE_MS).toISOString() },
    consoleKey: {
      lockId: consoleLockId(user.id),
      fingerprint: key.fingerprint,
      lockedPrivateKey: Buffer.from(key.locked_private_key).toString('base64'),
      kdf: kdfSchema.parse(JSON.parse(key.kdf)),
    },
  };
  res.json(answer);
}

async function signOut(deps: ConsoleApiDeps, req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  await deps.db.stores.console.endSession(user.hash);
  await audit(deps, req, user.login, 'console.sign-out');
  deps.log.info('CON_SIGNED_OUT', { user: user.login, remote: req.ip ?? 'unknown' });
  setConsoleCookie(deps, res, null);
  res.json({ ok: true });
}

/** Her waiting codes, as OpenPGP to her console key (unsealed here; only her browser can decrypt them). */
async function listCodes(deps: ConsoleApiDeps, req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const [rows, key] = await Promise.all([
    deps.db.stores.console.codesOf(user.id),
    deps.db.stores.console.keyOf(user.id),
  ]);
  const answer: CodesAnswer = {
    codes: rows.map((r) => ({
      id: r.id,
      contact: r.contactAddress,
      since: new Date(r.createdAt).toISOString(),
      readable: r.keyFingerprint === key?.fingerprint,
      ciphertext: deps.sealer.open('console', r.ciphertext, r.id).toString('base64'),
    })),
  };
  await audit(deps, req, user.login, 'console.codes');
  res.json(answer);
}

async function handedOver(deps: ConsoleApiDeps, req: Request, res: Response): Promise<void> {
  const user = userOf(req);
  const id = codeIdSchema.safeParse(req.params.id);
  if (!id.success) return sendConsole(res, 'CON_NOT_FOUND');
  const gone = await deps.db.stores.console.deleteCode(user.id, id.data);
  if (!gone) return sendConsole(res, 'CON_NOT_FOUND');
  await audit(deps, req, user.login, 'console.code.handed-over', gone.contactAddress);
  deps.log.info('CON_CODE_HANDED_OVER', { user: user.login, id: id.data });
  res.json({ ok: true });
}
