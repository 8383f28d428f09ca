import * as contract from '../../../contract/console.ts';
import type { PasswordChangeRequest } from '../../../contract/console-account.ts';
import { call } from './api.ts';

/** The account screen's calls (webmail/contract/console-account.ts). */
export async function changePassword(body: PasswordChangeRequest): Promise<void> {
  await call('POST', '/account/password', contract.okAnswer, body);
}

/** A new code for the contact of her code line `id` (one she can no longer read, after a password reset). */
export async function issueNewCode(id: string): Promise<void> {
  await call('POST', `/codes/${encodeURIComponent(id)}/new-code`, contract.okAnswer);
}
