import { resetPassword } from './console-password.ts';
import { createHash, randomBytes } from 'node:crypto';
import { MIN_PASSWORD_LENGTH, type UserRow } from '../core/users.ts';
import { ensureConsoleKey } from './console-codes.ts';
import type { CryptoPool } from './crypto-pool.ts';
import type { TotpDeps } from './totp.ts';

/**
 * The admin's actions on users, one implementation for the CLI (`sealpost user …`) and the admin console
 * (`/console/users`, docs/console.md). Callers write the audit entry (the CLI as `cli`, the console with the
 * admin's login and IP). Every change of who may sign in ends the user's console sessions.
 */
export interface UserAdminDeps extends TotpDeps {
  readonly crypto: CryptoPool;
}

export type UserActionProblem = 'exists' | 'not-found' | 'weak-password' | 'address-taken';

export class UserActionError extends Error {
  readonly problem: UserActionProblem;
  constructor(problem: UserActionProblem, message: string) {
    super(message);
    this.name = 'UserActionError';
    this.problem = problem;
  }
}

/** How long a one-time link to set a password stays valid. */
export const PASSWORD_LINK_MS = 72 * 3600_000;

function weak(password: string): void {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new UserActionError(
      'weak-password',
      `password must have at least ${MIN_PASSWORD_LENGTH} characters`,
    );
  }
}

/**
 * Add a user who may send as her login. With a password (typed by the admin) her console key is made from
 * it now; without one she gets a random password nobody knows and sets her own through a one-time link
 * (`passwordLink`).
 */
export async function addUser(
  deps: UserAdminDeps,
  input: { login: string; password?: string; isAdmin: boolean; displayName?: string },
): Promise<UserRow> {
  if (input.password !== undefined) weak(input.password);
  if (await deps.stores.users.find(input.login)) {
    throw new UserActionError('exists', `user ${input.login} exists already`);
  }
  if (await deps.stores.users.ownerOf(input.login)) {
    throw new UserActionError('address-taken', `${input.login} belongs to a user already`);
  }
  const password = input.password ?? randomBytes(32).toString('base64url');
  const user = await deps.stores.users.add(
    {
      login: input.login,
      password,
      isAdmin: input.isAdmin,
      ...(input.displayName ? { displayName: input.displayName } : {}),
    },
    deps.clock.now(),
  );
  if (input.password !== undefined) await ensureConsoleKey(deps, user, password);
  return user;
}

async function existing(deps: UserAdminDeps, login: string): Promise<UserRow> {
  const user = await deps.stores.users.find(login);
  if (!user) throw new UserActionError('not-found', `no such user: ${login}`);
  return user;
}

/**
 * A new password (a reset): her console key was locked by the old one, so it and the codes encrypted to it
 * go (nobody can read them any more; the admin issues new codes), and a new key is made from the new one.
 */
export async function resetUserPassword(
  deps: UserAdminDeps,
  login: string,
  password: string,
): Promise<UserRow> {
  weak(password);
  const user = await existing(deps, login);
  await resetPassword(deps, user.login, password);
  return user;
}

/** She may also send as `address` (an alias); it may belong to nobody else. */
export async function addSenderAddress(deps: UserAdminDeps, login: string, address: string): Promise<void> {
  const user = await existing(deps, login);
  if (await deps.stores.users.ownerOf(address)) {
    throw new UserActionError('address-taken', `${address} belongs to a user already`);
  }
  await deps.stores.users.addAddress(user.login, address, deps.clock.now());
}

export async function removeSenderAddress(
  deps: UserAdminDeps,
  login: string,
  address: string,
): Promise<void> {
  const user = await existing(deps, login);
  if (!(await deps.stores.users.removeAddress(user.id, address))) {
    throw new UserActionError('not-found', `${login} does not send as ${address} (or it is the login)`);
  }
}

export async function setUserDisabled(deps: UserAdminDeps, login: string, disabled: boolean): Promise<void> {
  const user = await existing(deps, login);
  await deps.stores.users.setDisabled(user.id, disabled);
  await deps.stores.console.endSessionsOf(user.id);
}

/** The admin role on or off; her sessions end (an admin signs in again, with TOTP). */
export async function setUserAdmin(deps: UserAdminDeps, login: string, admin: boolean): Promise<void> {
  const user = await existing(deps, login);
  await deps.stores.users.setAdmin(user.id, admin);
  await deps.stores.console.endSessionsOf(user.id);
}

/** Her TOTP secret goes (a lost phone): she enrols again (an admin must, at the next sign-in). */
export async function resetUserTotp(deps: UserAdminDeps, login: string): Promise<void> {
  const user = await existing(deps, login);
  await deps.stores.console.dropTotp(user.id);
  await deps.stores.console.endSessionsOf(user.id);
}

function linkHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/** A one-time link's token (the only copy; the database keeps its SHA-256), valid PASSWORD_LINK_MS. */
export async function passwordLink(deps: UserAdminDeps, login: string): Promise<string> {
  const user = await existing(deps, login);
  const token = randomBytes(32).toString('base64url');
  const now = deps.clock.now().getTime();
  await deps.stores.console.addPasswordLink(linkHash(token), user.id, now + PASSWORD_LINK_MS, now);
  return token;
}

/** She sets her password through the link (used up either way); undefined when it is unknown or expired. */
export async function usePasswordLink(
  deps: UserAdminDeps,
  token: string,
  password: string,
): Promise<UserRow | undefined> {
  weak(password);
  const userId = await deps.stores.console.takePasswordLink(linkHash(token), deps.clock.now().getTime());
  const user = userId === undefined ? undefined : await deps.stores.users.byId(userId);
  if (!user) return undefined;
  return resetUserPassword(deps, user.login, password);
}
