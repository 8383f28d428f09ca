import * as z from 'zod/mini';

/**
 * The admin console's users screen (`/console/users`, docs/console.md): schemas shared by the server
 * (webmail/console-api/admin-users.ts) and the app (webmail/console/src/lib/api-users.ts). Browser code.
 */
const login = z.string().check(z.minLength(3), z.maxLength(254), z.regex(/^[^\s@]+@[^\s@]+$/));
const password = z.string().check(z.minLength(1), z.maxLength(1024));

/** GET /api/console/users?offset=&limit= */
export const usersQuery = z.object({
  offset: z._default(z.coerce.number().check(z.int(), z.minimum(0)), 0),
  limit: z._default(z.coerce.number().check(z.int(), z.minimum(1), z.maximum(100)), 25),
});

/** POST /api/console/users: without a password the answer carries a one-time link for her to set one. */
export const addUserRequest = z.strictObject({
  login,
  password: z.optional(password),
  admin: z.boolean(),
  name: z.optional(z.string().check(z.minLength(1), z.maxLength(200))),
});
export type AddUserRequest = z.infer<typeof addUserRequest>;

export const userFlagRequest = z.strictObject({ login, on: z.boolean() });
export const userLoginRequest = z.strictObject({ login });
/** POST /api/console/users/password: a new password typed by the admin, or (none) a one-time link. */
export const userPasswordRequest = z.strictObject({ login, password: z.optional(password) });
export const userAddressRequest = z.strictObject({ login, address: login });
/** POST /api/console/set-password (no session): the link's token and her new password. */
export const setPasswordRequest = z.strictObject({
  token: z.string().check(z.regex(/^[A-Za-z0-9_-]{43}$/)),
  password,
});

export const userRow = z.strictObject({
  login: z.string(),
  admin: z.boolean(),
  disabled: z.boolean(),
  addresses: z.array(z.string()),
  totp: z.enum(['on', 'pending', 'off']),
});
export type UserRowAnswer = z.infer<typeof userRow>;
export const usersAnswer = z.strictObject({
  total: z.number(),
  offset: z.number(),
  users: z.array(userRow),
});
export type UsersAnswer = z.input<typeof usersAnswer>;

/** A change's answer: `link` when the admin asked for a one-time link (shown to her once, to pass on). */
export const userChangeAnswer = z.strictObject({ ok: z.literal(true), link: z.optional(z.string()) });
export type UserChangeAnswer = z.input<typeof userChangeAnswer>;
