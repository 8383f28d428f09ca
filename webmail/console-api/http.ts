import { createHash, randomBytes } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import { CONSOLE_HTTP_CODES, type ConsoleHttpCode } from '../../core/codes/index.ts';
import { CONSOLE_SESSION_MAX_MS } from '../../core/store/index.ts';
import { cookie } from '../api/http.ts';
import type { ConsoleApiDeps } from './deps.ts';

/**
 * Answers, the session secret and the route wrapper of the console API (docs/console.md). As in the pickup
 * API the session secret has two halves: the HttpOnly SameSite=Strict cookie and a key the app keeps in
 * memory and sends in a header; the database keeps SHA-256 of both.
 */
export const CONSOLE_COOKIE = 'sp_console';
export const CONSOLE_HEADER = 'sealpost-console';
const MAX_SECRET_PART = 64;

export class ConsoleError extends Error {
  readonly code: ConsoleHttpCode;
  constructor(code: ConsoleHttpCode) {
    super(CONSOLE_HTTP_CODES[code].message);
    this.name = 'ConsoleError';
    this.code = code;
  }
}

export function sendConsole(res: Response, code: ConsoleHttpCode, extra: Record<string, unknown> = {}): void {
  const row = CONSOLE_HTTP_CODES[code];
  res.status(row.status).json({ code, message: row.message, ...extra });
}

/** Wrap an async handler: a ConsoleError is answered as itself, anything else is a logged 500. */
export function consoleRoute(
  deps: Pick<ConsoleApiDeps, 'log'>,
  handler: (req: Request, res: Response) => Promise<void>,
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res) => {
    handler(req, res).catch((err: unknown) => {
      if (err instanceof ConsoleError) return sendConsole(res, err.code);
      deps.log.error('CON_INTERNAL_ERROR', { errName: err instanceof Error ? err.name : 'unknown' });
      sendConsole(res, 'CON_INTERNAL');
    });
  };
}

export function sha256hex(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export function newConsoleSession(): { token: string; key: string; hash: string } {
  const token = randomBytes(32).toString('base64url');
  const key = randomBytes(32).toString('base64url');
  return { token, key, hash: sha256hex(`${token}.${key}`) };
}

/** The hash of a request's session secret, or undefined when the cookie or the header is missing. */
export function requestConsoleHash(req: Request): string | undefined {
  const token = cookie(req, CONSOLE_COOKIE);
  const key = req.get(CONSOLE_HEADER);
  if (!token || !key || token.length > MAX_SECRET_PART || key.length > MAX_SECRET_PART) return undefined;
  return sha256hex(`${token}.${key}`);
}

export function setConsoleCookie(deps: ConsoleApiDeps, res: Response, token: string | null): void {
  res.cookie(CONSOLE_COOKIE, token ?? '', {
    httpOnly: true,
    sameSite: 'strict',
    secure: deps.config.publicUrl.startsWith('https:'),
    path: '/api/console',
    ...(token ? { maxAge: CONSOLE_SESSION_MAX_MS } : { expires: new Date(0) }),
  });
}
