import { ApiError } from './api.ts';
import { errorKey, type ErrorKey } from './i18n.ts';
import { signedOut } from './session.svelte.ts';

/**
 * The error a screen shows for a failed call (texts in i18n.ts `errors`); a session the server ended signs
 * her out, which shows the sign-in again.
 */
export function errorOf(err: unknown, fallback: ErrorKey = 'other'): ErrorKey {
  if (!(err instanceof ApiError)) return fallback;
  if (err.code === 'CON_AUTH_REQUIRED') signedOut();
  return errorKey(err.code);
}
