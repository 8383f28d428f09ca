import type { Response } from 'express';
import { ADMIN_HTTP_CODES } from '../core/codes/index.ts';

/**
 * Answers of the admin API (docs/admin-api.md), from the code registry (core/codes/http.ts), sent as
 * `{ code, message }` with the registry's status.
 */
export const ADMIN_CODES = ADMIN_HTTP_CODES;
export type AdminCode = keyof typeof ADMIN_CODES;

/** The realm a browser shows when it asks for the login (RFC 7617). */
export const ADMIN_REALM = 'Basic realm="Sealpost admin"';

export function sendAdmin(res: Response, code: AdminCode, extra: Record<string, unknown> = {}): void {
  const row = ADMIN_CODES[code];
  if (row.status === 401) res.setHeader('WWW-Authenticate', ADMIN_REALM);
  res.status(row.status).json({ code, message: row.message, ...extra });
}
