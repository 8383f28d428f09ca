import { createHash } from 'node:crypto';
import type { Request, Response } from 'express';
import { z } from 'zod';
import type { PickupApiDeps } from './deps.ts';
import { cookie } from './http.ts';

/** What the pickup API's modules share: ids, the session cookie, hashing. */
export const MAX_FAILURES = 5;
export const SESSION_COOKIE = 'sp_session';
export const SESSION_MAX_MS = 12 * 3600 * 1000;
export const pickupIdSchema = z.string().regex(/^[A-Za-z0-9_-]{22}$/);

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

export function sessionToken(req: Request): string | undefined {
  return cookie(req, SESSION_COOKIE);
}
