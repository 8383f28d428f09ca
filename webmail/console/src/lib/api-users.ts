import * as contract from '../../../contract/console-users.ts';
import { okAnswer } from '../../../contract/console.ts';
import { call } from './api.ts';

/** The admin's users screen (/console/users) as the browser sees its API (webmail/contract/console-users.ts). */
export const PAGE_SIZE = 25;

export function users(offset: number) {
  return call('GET', `/users?offset=${offset}&limit=${PAGE_SIZE}`, contract.usersAnswer);
}

export function addUser(body: contract.AddUserRequest) {
  return call('POST', '/users', contract.userChangeAnswer, body);
}

export function setFlag(what: 'disabled' | 'admin', login: string, on: boolean) {
  return call('POST', `/users/${what}`, contract.userChangeAnswer, { login, on });
}

/** A new password typed by the admin, or (none) a one-time link for her to set one. */
export function resetPassword(login: string, password?: string) {
  return call('POST', '/users/password', contract.userChangeAnswer, {
    login,
    ...(password ? { password } : {}),
  });
}

export function resetTotp(login: string) {
  return call('POST', '/users/totp-reset', contract.userChangeAnswer, { login });
}

export function senderAddress(login: string, address: string, remove: boolean) {
  return call('POST', remove ? '/users/addresses/remove' : '/users/addresses', contract.userChangeAnswer, {
    login,
    address,
  });
}

/** The set-password page (no session): the link's token and her new password. */
export async function setPasswordByLink(token: string, password: string): Promise<void> {
  await call('POST', '/set-password', okAnswer, { token, password });
}
