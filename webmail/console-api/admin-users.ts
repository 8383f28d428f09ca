import type { Request, Response } from 'express';
import {
  addSenderAddress,
  addUser,
  inThreadCrypto,
  passwordLink,
  removeSenderAddress,
  resetUserPassword,
  resetUserTotp,
  setUserAdmin,
  setUserDisabled,
  usePasswordLink,
  UserActionError,
  type UserAdminDeps,
} from '../../keys/index.ts';
import {
  addUserRequest,
  setPasswordRequest,
  userAddressRequest,
  userFlagRequest,
  userLoginRequest,
  userPasswordRequest,
  usersQuery,
  type UserChangeAnswer,
  type UsersAnswer,
  userChangeAnswer,
  usersAnswer,
} from '../contract/console-users.ts';
import type { ConsoleApiDeps } from './deps.ts';
import { ConsoleError, sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';
import { auditEntry } from './session.ts';

/**
 * The admin's users screen (`/console/users`, docs/console.md): list, add (password typed by the admin or
 * a one-time link), disable, reset password, sender addresses, admin role, TOTP reset. The actions are
 * keys/user-admin.ts — the same functions as `sealpost user …` — and each writes an audit entry.
 */
function userDeps(deps: ConsoleApiDeps): UserAdminDeps {
  return {
    stores: deps.db.stores,
    sealer: deps.sealer,
    clock: deps.clock,
    crypto: deps.crypto ?? inThreadCrypto(),
  };
}

const PROBLEM_CODES = {
  exists: 'CON_EXISTS',
  'not-found': 'CON_NOT_FOUND',
  'weak-password': 'CON_WEAK_PASSWORD',
  'address-taken': 'CON_ADDRESS_TAKEN',
} as const;

function refusal(err: unknown): never {
  if (err instanceof UserActionError) throw new ConsoleError(PROBLEM_CODES[err.problem]);
  throw err;
}

function parse<T>(
  schema: { safeParse(v: unknown): { success: true; data: T } | { success: false } },
  v: unknown,
): T {
  const r = schema.safeParse(v);
  if (!r.success) throw new ConsoleError('CON_BAD_REQUEST');
  return r.data;
}

function linkUrl(deps: ConsoleApiDeps, token: string): string {
  return `${deps.config.publicUrl.replace(/\/$/, '')}/console/set-password?t=${token}`;
}

async function done(ctx: RouteContext, action: string, subject: string, link?: string): Promise<void> {
  await ctx.audit(action, subject);
  ctx.deps.log.info('CON_ADMIN_ACTION', { user: ctx.user.login, category: action });
  const answer: UserChangeAnswer = { ok: true, ...(link ? { link } : {}) };
  ctx.res.json(answer);
}

async function list({ deps, req, res }: RouteContext): Promise<void> {
  const q = parse(usersQuery, req.query);
  const page = await deps.db.stores.users.page(q.offset, q.limit);
  const users = await Promise.all(
    page.users.map(async (u) => {
      const totp = await deps.db.stores.console.totpOf(u.id);
      const state: 'on' | 'pending' | 'off' = !totp ? 'off' : totp.enabled_at ? 'on' : 'pending';
      return { login: u.login, admin: u.isAdmin, disabled: u.disabled, addresses: u.addresses, totp: state };
    }),
  );
  const answer: UsersAnswer = { total: page.total, offset: q.offset, users };
  res.json(answer);
}

async function add(ctx: RouteContext): Promise<void> {
  const body = parse(addUserRequest, ctx.req.body);
  const d = userDeps(ctx.deps);
  const user = await addUser(d, {
    login: body.login,
    isAdmin: body.admin,
    ...(body.password !== undefined ? { password: body.password } : {}),
    ...(body.name ? { displayName: body.name } : {}),
  }).catch(refusal);
  const link = body.password === undefined ? linkUrl(ctx.deps, await passwordLink(d, user.login)) : undefined;
  await done(ctx, 'user.add', user.login, link);
}

/** Her own admin role and account stay: an admin cannot lock herself out (another admin can). */
function notSelf(ctx: RouteContext, login: string): void {
  if (login.trim().toLowerCase() === ctx.user.login) throw new ConsoleError('CON_BAD_REQUEST');
}

async function disabled(ctx: RouteContext): Promise<void> {
  const body = parse(userFlagRequest, ctx.req.body);
  notSelf(ctx, body.login);
  await setUserDisabled(userDeps(ctx.deps), body.login, body.on).catch(refusal);
  await done(ctx, body.on ? 'user.disable' : 'user.enable', body.login);
}

async function admin(ctx: RouteContext): Promise<void> {
  const body = parse(userFlagRequest, ctx.req.body);
  notSelf(ctx, body.login);
  await setUserAdmin(userDeps(ctx.deps), body.login, body.on).catch(refusal);
  await done(ctx, body.on ? 'user.admin-on' : 'user.admin-off', body.login);
}

async function password(ctx: RouteContext): Promise<void> {
  const body = parse(userPasswordRequest, ctx.req.body);
  const d = userDeps(ctx.deps);
  if (body.password !== undefined) {
    await resetUserPassword(d, body.login, body.password).catch(refusal);
    return done(ctx, 'user.passwd', body.login);
  }
  const token = await passwordLink(d, body.login).catch(refusal);
  await done(ctx, 'user.password-link', body.login, linkUrl(ctx.deps, token));
}

async function totpReset(ctx: RouteContext): Promise<void> {
  const body = parse(userLoginRequest, ctx.req.body);
  await resetUserTotp(userDeps(ctx.deps), body.login).catch(refusal);
  await done(ctx, 'user.totp-reset', body.login);
}

async function aliasAdd(ctx: RouteContext): Promise<void> {
  const body = parse(userAddressRequest, ctx.req.body);
  await addSenderAddress(userDeps(ctx.deps), body.login, body.address).catch(refusal);
  await done(ctx, 'user.alias', body.login);
}

async function aliasRemove(ctx: RouteContext): Promise<void> {
  const body = parse(userAddressRequest, ctx.req.body);
  await removeSenderAddress(userDeps(ctx.deps), body.login, body.address).catch(refusal);
  await done(ctx, 'user.alias-remove', body.login);
}

/**
 * POST /api/console/set-password (no session: the link is the credential, 256 bits, used once, 72 h): she
 * sets her password, and her console key is made from it.
 */
export async function setPasswordByLink(deps: ConsoleApiDeps, req: Request, res: Response): Promise<void> {
  const body = parse(setPasswordRequest, req.body);
  const user = await usePasswordLink(userDeps(deps), body.token, body.password).catch(refusal);
  if (!user) return sendConsole(res, 'CON_LINK_INVALID');
  await auditEntry(deps, req, user.login, 'user.password-set');
  deps.log.info('CON_PASSWORD_SET', { user: user.login, remote: req.ip ?? 'unknown' });
  res.json({ ok: true });
}

export const adminUserRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/users',
    role: 'admin',
    handle: list,
    summary: 'Users with their addresses, roles and state, one page.',
    query: usersQuery,
    answer: usersAnswer,
  },
  {
    method: 'POST',
    path: '/users',
    role: 'admin',
    handle: add,
    summary: 'Add a user: with a password typed by the admin, or a one-time link for her to set it.',
    body: addUserRequest,
    answer: userChangeAnswer,
  },
  {
    method: 'POST',
    path: '/users/disabled',
    role: 'admin',
    handle: disabled,
    summary: 'Disable or enable a user (no SMTP AUTH, no console; her sessions end).',
    body: userFlagRequest,
    answer: userChangeAnswer,
  },
  {
    method: 'POST',
    path: '/users/admin',
    role: 'admin',
    handle: admin,
    summary: 'Give or take the admin role.',
    body: userFlagRequest,
    answer: userChangeAnswer,
  },
  {
    method: 'POST',
    path: '/users/password',
    role: 'admin',
    handle: password,
    summary: "Reset a user's password (pending codes become unreadable and can be reissued).",
    body: userPasswordRequest,
    answer: userChangeAnswer,
  },
  {
    method: 'POST',
    path: '/users/totp-reset',
    role: 'admin',
    handle: totpReset,
    summary: "Drop a user's TOTP (she enrols again at the next sign-in).",
    body: userLoginRequest,
    answer: userChangeAnswer,
  },
  {
    method: 'POST',
    path: '/users/addresses',
    role: 'admin',
    handle: aliasAdd,
    summary: 'Let a user send as another address.',
    body: userAddressRequest,
    answer: userChangeAnswer,
  },
  {
    method: 'POST',
    path: '/users/addresses/remove',
    role: 'admin',
    handle: aliasRemove,
    summary: 'Take an allowed sender address away.',
    body: userAddressRequest,
    answer: userChangeAnswer,
  },
];
