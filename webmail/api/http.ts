import type { NextFunction, Request, Response } from 'express';
import { PICKUP_HTTP_CODES } from '../../core/codes/index.ts';

/**
 * HTTP errors of the webmail API, from the code registry (core/codes/http.ts), answered as
 * `{ code, message }`. Call sites never write status lines or texts of their own.
 */
export const HTTP_CODES = PICKUP_HTTP_CODES;
export type HttpCode = keyof typeof HTTP_CODES;

export class HttpError extends Error {
  readonly code: HttpCode;
  readonly extra: Record<string, unknown>;
  constructor(code: HttpCode, extra: Record<string, unknown> = {}) {
    super(HTTP_CODES[code].message);
    this.name = 'HttpError';
    this.code = code;
    this.extra = extra;
  }
}

export function send(res: Response, code: HttpCode, extra: Record<string, unknown> = {}): void {
  const row = HTTP_CODES[code];
  res.status(row.status).json({ code, message: row.message, ...extra });
}

/** Wrap an async handler: an HttpError is answered as itself, anything else is the caller's 500. */
export function route(
  handler: (req: Request, res: Response) => Promise<void>,
): (req: Request, res: Response, next: NextFunction) => void {
  return (req, res, next) => {
    handler(req, res).catch((err: unknown) => {
      if (err instanceof HttpError) send(res, err.code, err.extra);
      else next(err);
    });
  };
}

/** The cookies of a request (no library: one cookie, a strict format). */
export function cookie(req: Request, name: string): string | undefined {
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

/**
 * State-changing requests: JSON only (a form cannot send it cross-site without CORS) and, when the browser
 * names its origin, our own. With the SameSite=Strict cookie this is the CSRF defence.
 */
export function postGuard(
  publicOrigin: string,
  refuse: (res: Response, why: 'origin' | 'json') => void = (res, why) =>
    send(res, why === 'origin' ? 'PU_BAD_ORIGIN' : 'PU_NEEDS_JSON'),
) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST') return next();
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== publicOrigin) return refuse(res, 'origin');
    if (!req.is('application/json')) return refuse(res, 'json');
    next();
  };
}
