import { isIPv4 } from 'node:net';
import type { NextFunction, Request, Response } from 'express';
import { AuthLimiter, authLimitSettings, type AuthRefusalReason } from '../core/auth-limit.ts';
import type { PickupApiDeps } from './api/deps.ts';
import { normaliseAddress } from '../core/ids.ts';
import { errName } from '../core/log.ts';
import type { UserStore } from '../core/users.ts';
import { sendAdmin } from './admin-http.ts';

/**
 * Who may use the admin API (docs/admin-api.md "Access"): a Sealpost user with `is_admin`, by HTTP Basic
 * on every request. In this order:
 *
 * 1. The transport: a password goes over TLS, or never leaves the machine. Sealpost's webmail speaks plain
 *    HTTP behind a TLS proxy; a proxy on the same machine connects from loopback. Anything else: 403.
 * 2. The credentials' form (401 when absent or malformed).
 * 3. The failed-login limits of SMTP AUTH (core/auth-limit.ts, in Redis, the same counts): asked before the
 *    password is checked, so that a limited login cannot probe at all (429, even with the right password);
 *    when Redis does not answer, nobody is checked (503).
 * 4. The password: UserStore.authenticate, which checks an unknown login against a dummy hash, so that an
 *    unknown login costs what a wrong password costs and answers the same 401.
 * 5. The role: a valid non-admin login is 403 (its password was right: it counts as a success).
 */

/** SMTP logins are addresses (≤ 254); a password longer than this is no password of ours. */
const MAX_LOGIN = 254;
const MAX_PASSWORD = 1024;

/** 127.0.0.0/8, ::1, and IPv4 loopback written as IPv6 (::ffff:127.x.y.z). */
export function isLoopback(ip: string | undefined): boolean {
  if (!ip) return false;
  if (ip === '::1') return true;
  const v4 = ip.toLowerCase().startsWith('::ffff:') ? ip.slice(7) : ip;
  return isIPv4(v4) && v4.startsWith('127.');
}

/**
 * May this request carry an admin password? Over TLS (`req.secure`) or from loopback (`req.ip`). Both are
 * the socket's while `trustProxy.http` is off; behind a trusted proxy they are what it says
 * (X-Forwarded-Proto, X-Forwarded-For). A request without a peer address
 * (e.g. a Unix socket) is refused: we cannot tell where it came from.
 */
export function adminTransportAllowed(req: { secure: boolean; ip?: string | undefined }): boolean {
  return req.secure || isLoopback(req.ip);
}

/** `Authorization: Basic base64(login:password)` (RFC 7617, UTF-8), or undefined when absent or malformed. */
export function basicCredentials(
  header: string | undefined,
): { login: string; password: string } | undefined {
  const match = /^basic +([A-Za-z0-9+/]+={0,2}) *$/i.exec(header ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1]!, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 1) return undefined;
  const login = decoded.slice(0, colon);
  const password = decoded.slice(colon + 1);
  if (login.length > MAX_LOGIN || password.length > MAX_PASSWORD) return undefined;
  return { login: normaliseAddress(login), password };
}

export interface AdminIdentity {
  login: string;
}

/** The admin of an authenticated request (set by requireAdmin). */
const identities = new WeakMap<Request, AdminIdentity>();

export function adminOf(req: Request): AdminIdentity {
  const who = identities.get(req);
  if (!who) throw new Error('requireAdmin did not run for this request');
  return who;
}

/** Express middleware: steps 1–5 above; on success the request carries its admin (adminOf). */
export function requireAdmin(deps: Pick<PickupApiDeps, 'config' | 'db' | 'log' | 'limitStore'>) {
  const users = deps.db.stores.users;
  const limiter = new AuthLimiter(deps.limitStore, authLimitSettings(deps.config.limits));
  return (req: Request, res: Response, next: NextFunction): void => {
    const remote = req.ip ?? 'unknown';
    if (!adminTransportAllowed(req)) {
      deps.log.warn('ADM_TLS_REQUIRED', { remote });
      return sendAdmin(res, 'ADM_TLS_REQUIRED');
    }
    const credentials = basicCredentials(req.headers.authorization);
    if (!credentials) return sendAdmin(res, 'ADM_AUTH_REQUIRED');
    const fields = { user: credentials.login, remote };
    admit(users, limiter, credentials, req.ip).then(
      (outcome) => {
        if (outcome.result === 'limited') {
          deps.log.warn('ADM_RATE_LIMITED', {
            ...fields,
            reason: outcome.reason,
            ms: outcome.retryAfterSeconds * 1000,
          });
          res.setHeader('Retry-After', String(outcome.retryAfterSeconds));
          return sendAdmin(res, 'ADM_RATE_LIMITED', { retryAfterSeconds: outcome.retryAfterSeconds });
        }
        if (outcome.result === 'failed') {
          deps.log.warn('ADM_AUTH_FAILED', { ...fields, reason: outcome.reason });
          return sendAdmin(res, 'ADM_AUTH_FAILED');
        }
        if (outcome.result === 'not-admin') {
          deps.log.warn('ADM_FORBIDDEN', fields);
          return sendAdmin(res, 'ADM_FORBIDDEN');
        }
        identities.set(req, { login: credentials.login });
        deps.log.debug('ADM_AUTH_OK', fields);
        next();
      },
      (err: unknown) => {
        const limits = err instanceof LimitsUnavailable;
        deps.log.error(limits ? 'ADM_LIMIT_UNAVAILABLE' : 'ADM_INTERNAL_ERROR', {
          errName: errName(limits ? err.cause : err),
        });
        sendAdmin(res, 'ADM_UNAVAILABLE');
      },
    );
  };
}

/** Redis did not answer the limiter: nobody's password is checked (fail closed). */
class LimitsUnavailable extends Error {
  override name = 'LimitsUnavailable';
}

/** The limits, then the password (counted), then the role. */
async function admit(
  users: UserStore,
  limiter: AuthLimiter,
  credentials: { login: string; password: string },
  ip: string | undefined,
): Promise<CheckOutcome> {
  const limits = <T>(p: Promise<T>) =>
    p.catch((err: unknown) => {
      throw new LimitsUnavailable('limits unavailable', { cause: err });
    });
  const refused = await limits(limiter.check(credentials.login, ip));
  if (refused) return { result: 'limited', ...refused };
  const outcome = await check(users, credentials);
  if (outcome.result === 'failed') await limits(limiter.recordFailure(credentials.login, ip));
  else await limits(limiter.recordSuccess(credentials.login, ip));
  return outcome;
}

type CheckOutcome =
  | { result: 'limited'; reason: AuthRefusalReason; retryAfterSeconds: number }
  | { result: 'ok' }
  | { result: 'not-admin' }
  | { result: 'failed'; reason: 'unknown-user' | 'bad-password' | 'disabled' };

async function check(
  users: UserStore,
  credentials: { login: string; password: string },
): Promise<CheckOutcome> {
  // Same work for every login: a missing one is verified against the dummy hash inside authenticate.
  const user = await users.authenticate(credentials.login, credentials.password);
  if (user) return user.isAdmin ? { result: 'ok' } : { result: 'not-admin' };
  // Only after the answer is fixed (and for the log alone): which of the failures it was.
  const known = await users.find(credentials.login);
  return { result: 'failed', reason: !known ? 'unknown-user' : known.disabled ? 'disabled' : 'bad-password' };
}
