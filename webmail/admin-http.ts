import type { Response } from 'express';

/**
 * Answers of the admin API (docs/admin-api.md): one table of stable codes (docs/codes.md), sent as
 * `{ code, message }` with the status below, like the pickup API's table in webmail/api/http.ts.
 */
export const ADMIN_CODES = {
  ADM_AUTH_REQUIRED: { status: 401, message: 'Sign in with a Sealpost administrator account (HTTP Basic)' },
  ADM_AUTH_FAILED: { status: 401, message: 'Login or password is not correct' },
  ADM_FORBIDDEN: { status: 403, message: 'This account is not a Sealpost administrator' },
  ADM_TLS_REQUIRED: {
    status: 403,
    message: 'The admin API is served over HTTPS only (or to a client on this machine)',
  },
  ADM_RATE_LIMITED: { status: 429, message: 'Too many failed logins from this address, try again later' },
  ADM_BAD_REQUEST: { status: 400, message: 'The request is malformed' },
  ADM_NOT_FOUND: { status: 404, message: 'No such key change' },
  ADM_NOT_HELD: { status: 409, message: 'This key change was already decided' },
  ADM_UNAVAILABLE: { status: 503, message: 'Not available in this process, try again later' },
  ADM_INTERNAL: { status: 500, message: 'Internal error; nothing was changed' },
} as const;
export type AdminCode = keyof typeof ADMIN_CODES;

/** The realm a browser shows when it asks for the login (RFC 7617). */
export const ADMIN_REALM = 'Basic realm="Sealpost admin"';

export function sendAdmin(res: Response, code: AdminCode, extra: Record<string, unknown> = {}): void {
  const row = ADMIN_CODES[code];
  if (row.status === 401) res.setHeader('WWW-Authenticate', ADMIN_REALM);
  res.status(row.status).json({ code, message: row.message, ...extra });
}
