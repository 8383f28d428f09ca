import * as z from 'zod/mini';
import { kdfSchema } from './pickup.ts';

/**
 * The account screen's contract (/console/account, docs/console.md "Password change and reset"): shared by
 * the server (webmail/console-api/account.ts) and the app. Browser code: no Node module.
 */

/** The shortest password `user add` accepts (core/users.ts MIN_PASSWORD_LENGTH; a test keeps them equal). */
export const MIN_NEW_PASSWORD = 10;

/**
 * POST /api/console/account/password: the old and the new password, and her console key as her browser
 * re-locked it with the new one (the same private key, a new salt; never the unlocked key).
 */
export const passwordChangeRequest = z.strictObject({
  oldPassword: z.string().check(z.minLength(1), z.maxLength(1024)),
  newPassword: z.string().check(z.minLength(1), z.maxLength(1024)),
  consoleKey: z.strictObject({
    fingerprint: z.string().check(z.regex(/^[0-9A-Fa-f]{40,64}$/)),
    lockedPrivateKey: z.base64().check(z.maxLength(64 * 1024)),
    kdf: kdfSchema,
  }),
});
export type PasswordChangeRequest = z.infer<typeof passwordChangeRequest>;
