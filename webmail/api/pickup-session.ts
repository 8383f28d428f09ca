import { createHash, randomBytes } from 'node:crypto';
import type { Request, Response } from 'express';
import { SESSION_MAX_MS } from '../../core/store/index.ts';
import type { PickupApiDeps } from './deps.ts';
import { cookie } from './http.ts';

/** What the pickup API's modules share: ids, the session cookie and header, hashing. */
export const SESSION_COOKIE = 'sp_session';
/**
 * The session secret has two halves: the token in the HttpOnly cookie and a key the app keeps in memory
 * and sends in this header. Every document of the pickup origin gets the cookie; only the app that
 * unlocked has the key — so a script that ever ran in another document of the origin (an attachment
 * opened as a page, say) still cannot read the session or act in it (DESIGN.md invariant 9, second lock).
 */
export const SESSION_HEADER = 'sealpost-session';
/** base64url of 32 random bytes is 43 characters; anything much longer is not ours. */
const MAX_SECRET_PART = 64;
export { pickupIdSchema } from '../contract/pickup.ts';

export function sha256(data: Uint8Array): Buffer {
  return createHash('sha256').update(data).digest();
}

export function idleMs(deps: PickupApiDeps): number {
  return deps.config.pickup.sessionIdleMinutes * 60_000;
}

export function setSessionCookie(deps: PickupApiDeps, res: Response, token: string | null): void {
  const secure = deps.config.publicUrl.startsWith('https:');
  res.cookie(SESSION_COOKIE, token ?? '', {
    httpOnly: true,
    sameSite: 'strict',
    secure,
    path: '/api/pickup',
    ...(token ? { maxAge: SESSION_MAX_MS } : { expires: new Date(0) }),
  });
}

/** A new session: the cookie token, the header key, and the hash the database keeps of both. */
export function newSession(): { token: string; key: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  const key = randomBytes(32).toString('base64url');
  return { token, key, hash: sessionHash(token, key) };
}

/** The hash of a request's session secret, or undefined when the cookie or the header is missing. */
export function requestSessionHash(req: Request): string | undefined {
  const token = cookie(req, SESSION_COOKIE);
  const key = req.get(SESSION_HEADER);
  if (!token || !key || token.length > MAX_SECRET_PART || key.length > MAX_SECRET_PART) return undefined;
  return sessionHash(token, key);
}

function sessionHash(token: string, key: string): string {
  return sha256(Buffer.from(`${token}.${key}`)).toString('hex');
}
