import type { NextFunction, Request, Response } from 'express';

/**
 * HTTP errors of the webmail API: one table of stable codes (docs/codes.md), answered as
 * `{ code, message }`. Call sites never write status lines or texts of their own.
 */
export const HTTP_CODES = {
  PU_NOT_FOUND: { status: 404, message: 'No such message' },
  PU_EXPIRED: { status: 410, message: 'This message has expired and was deleted' },
  PU_BAD_REQUEST: { status: 400, message: 'The request is malformed' },
  PU_BAD_CODE: { status: 401, message: 'The access code is not correct' },
  PU_LOCKED: { status: 423, message: 'Too many wrong codes: ask the sender for a new access code' },
  PU_TOO_MANY_WRONG_CODES: {
    status: 429,
    message:
      'Too many wrong codes from this address: wait until retryAfterSeconds have passed, then try again',
  },
  PU_NO_SESSION: { status: 401, message: 'Not signed in, or the session has ended' },
  PU_BAD_ORIGIN: { status: 403, message: 'Cross-origin requests are refused' },
  PU_NEEDS_JSON: { status: 415, message: 'Send application/json' },
  PU_REPLY_INVALID: { status: 400, message: "The reply is not an OpenPGP message to the sender's key" },
  PU_REPLY_TOO_BIG: { status: 413, message: 'The reply is too big' },
  PU_REPLY_LIMIT: { status: 429, message: 'Too many replies today, try again tomorrow' },
  PU_SECRET_INVALID: { status: 400, message: 'The new secret is not acceptable' },
  PU_KEY_INVALID: { status: 400, message: 'The key cannot be used' },
  PU_INTERNAL: { status: 500, message: 'Internal error; nothing was changed' },
  PU_UNAVAILABLE: { status: 503, message: 'Temporarily unavailable, try again shortly' },
} as const;
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
export function postGuard(publicOrigin: string) {
  return (req: Request, res: Response, next: NextFunction): void => {
    if (req.method !== 'POST') return next();
    const origin = req.headers.origin;
    if (origin !== undefined && origin !== publicOrigin) return send(res, 'PU_BAD_ORIGIN');
    if (!req.is('application/json')) return send(res, 'PU_NEEDS_JSON');
    next();
  };
}
