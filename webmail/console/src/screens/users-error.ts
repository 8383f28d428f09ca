import { ApiError } from '../lib/api.ts';
import { signedOut } from '../lib/session.svelte.ts';

/** The refusal code of a failed call on the users screens; an ended session signs out (as errorOf). */
export function codeOf(err: unknown): string {
  if (!(err instanceof ApiError)) return 'other';
  if (err.code === 'CON_AUTH_REQUIRED') signedOut();
  return err.code;
}
