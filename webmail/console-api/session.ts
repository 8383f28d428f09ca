import type { Request, Response } from 'express';
import type { AuthLimiter } from '../../core/auth-limit.ts';
import { errName } from '../../core/log.ts';
import { checkTotp, confirmTotp, consoleLockId, ensureConsoleKey, inThreadCrypto } from '../../keys/index.ts';
import { kdfSchema } from '../contract/pickup.ts';
import {
  signInRequest,
  type SessionAnswer,
  type SignInAnswer,
  type TotpBeginAnswer,
  okAnswer,
  sessionAnswer,
} from '../contract/console.ts';
import type { ConsoleApiDeps } from './deps.ts';
import { totpDeps, totpEnrolment } from './totp.ts';
import { ConsoleError, newConsoleSession, sendConsole, setConsoleCookie } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/** How long a console session lives without a request (the absolute limit is in core/store/console.ts). */
export const CONSOLE_IDLE_MS = 30 * 60_000;

export function auditEntry(
  deps: ConsoleApiDeps,
  req: Request,
  who: string,
  action: string,
  subject?: string,
) {
  return deps.db.stores.audit.record(
    { actor: who, action, ...(subject ? { subject } : {}), ...(req.ip ? { ip: req.ip } : {}) },
    deps.clock.now(),
  );
}

/**
 * Sign-in (POST /session, the one route without a session): the SMTP AUTH limits first (a limited login is
 * not even checked; Redis down: 503), then the password (an unknown login costs a dummy hash), then her
 * console key — made now from this password if she has none (docs/console.md) — and a new session.
 */
export async function signIn(deps: ConsoleApiDeps, limiter: AuthLimiter, req: Request, res: Response) {
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
    await auditEntry(deps, req, login, 'console.sign-in-failed');
    return sendConsole(res, 'CON_AUTH_FAILED');
  }
  const second = await secondFactor(deps, user, body.data.totp);
  if (second === 'missing') return sendConsole(res, 'CON_TOTP_REQUIRED');
  if (second === 'wrong') {
    await limits(limiter.recordFailure(login, req.ip));
    deps.log.warn('CON_TOTP_WRONG', fields);
    await auditEntry(deps, req, login, 'console.sign-in-failed');
    return sendConsole(res, 'CON_TOTP_WRONG');
  }
  if (typeof second === 'object') {
    deps.log.info('CON_TOTP_ENROL', fields);
    await auditEntry(deps, req, login, 'console.totp.begin');
    return sendConsole(res, 'CON_TOTP_ENROL', second);
  }
  await limits(limiter.recordSuccess(login, req.ip));
  const crypto = deps.crypto ?? inThreadCrypto();
  await ensureConsoleKey({ stores: deps.db.stores, crypto, clock: deps.clock }, user, body.data.password);
  const key = await deps.db.stores.console.keyOf(user.id);
  if (!key) throw new Error('console key missing after ensureConsoleKey');
  const session = newConsoleSession();
  const now = deps.clock.now();
  await deps.db.stores.console.openSession(session.hash, user.id, now.getTime(), second === 'passed');
  await auditEntry(deps, req, user.login, 'console.sign-in');
  deps.log.info('CON_SIGNED_IN', fields);
  setConsoleCookie(deps, res, session.token);
  const answer: SignInAnswer = {
    user: { login: user.login, role: user.isAdmin && second === 'passed' ? 'admin' : 'user' },
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

/**
 * The second factor of a sign-in whose password was right: 'passed' (a right code), 'none' (a practitioner
 * without TOTP), 'missing' or 'wrong'; an admin without TOTP gets no session but a new secret to enrol (the
 * enrolment object), which the next sign-in confirms with its first code (docs/console.md).
 */
async function secondFactor(
  deps: ConsoleApiDeps,
  user: { id: string; login: string; isAdmin: boolean },
  token: string | undefined,
): Promise<'passed' | 'none' | 'missing' | 'wrong' | TotpBeginAnswer> {
  const state = await checkTotp(totpDeps(deps), user, token);
  if (state === 'ok') return 'passed';
  if (state === 'missing' || state === 'wrong') return state;
  if (!user.isAdmin) return 'none';
  if (token !== undefined) {
    return state === 'pending' && (await confirmTotp(totpDeps(deps), user, token)) ? 'passed' : 'wrong';
  }
  const enrolment = await totpEnrolment(deps, user);
  if (!enrolment) throw new Error('TOTP enrolment refused without an enabled factor');
  return enrolment;
}

async function whoAmI({ res, user }: RouteContext): Promise<void> {
  const answer: SessionAnswer = { user: { login: user.login, role: user.admin ? 'admin' : 'user' } };
  res.json(answer);
}

async function signOut({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  await deps.db.stores.console.endSession(user.hash);
  await audit('console.sign-out');
  deps.log.info('CON_SIGNED_OUT', { user: user.login, remote: req.ip ?? 'unknown' });
  setConsoleCookie(deps, res, null);
  res.json({ ok: true });
}

export const sessionRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/session',
    role: 'user',
    handle: whoAmI,
    summary: 'Who is signed in, and her role.',
    answer: sessionAnswer,
  },
  {
    method: 'POST',
    path: '/session/end',
    role: 'user',
    handle: signOut,
    summary: 'Sign out (the session row is deleted).',
    answer: okAnswer,
  },
];
