import type { Clock } from '../core/clock.ts';
import type { Stores } from '../core/store/index.ts';
import { hashPassword, MIN_PASSWORD_LENGTH } from '../core/users.ts';
import { ensureConsoleKey } from './console-codes.ts';
import type { CryptoPool } from './crypto-pool.ts';

/**
 * Her password and her console key move together (docs/console.md "Password change and reset"): the one
 * place that changes a practitioner's password. The CLI (`user passwd`), the admin console and her own
 * console call these two functions and nothing else.
 */

/** The locked private half of her console key as her browser re-locked it with the new password. */
export interface RelockedKey {
  /** The key she re-locked: must still be her current one (else the change is refused). */
  readonly fingerprint: string;
  /** AES-256-GCM under lockKey = Argon2id(new password, kdf)[32..64], `console:<user id>` in the AAD. */
  readonly lockedPrivateKey: Uint8Array;
  /** The new Argon2id parameters with a new random salt (checked by the contract's kdfSchema). */
  readonly kdf: object;
}

export type PasswordChange = 'changed' | 'wrong-password' | 'too-short' | 'key-changed';

/**
 * She changes her own password in the console: the old one is checked, the new one hashed for SMTP AUTH,
 * and her console key's locked blob and KDF parameters replaced by what her browser sent — in one
 * transaction, so the SMTP password and the lock never disagree. The server never sees her private key
 * unlocked; it cannot check the new lock either (that needs the key), so the browser unlocks it once before
 * it sends. Her other console sessions end.
 */
export async function changeOwnPassword(
  deps: { stores: Stores; clock: Clock },
  user: { id: string; login: string },
  input: { oldPassword: string; newPassword: string; key: RelockedKey; keepSession: string },
): Promise<PasswordChange> {
  if (input.newPassword.length < MIN_PASSWORD_LENGTH) return 'too-short';
  if (!(await deps.stores.users.authenticate(user.login, input.oldPassword))) return 'wrong-password';
  const passwordHash = await hashPassword(input.newPassword);
  const ok = await deps.stores.console.relockKey(user.id, {
    fingerprint: input.key.fingerprint,
    lockedPrivateKey: input.key.lockedPrivateKey,
    kdf: JSON.stringify(input.key.kdf),
    passwordHash,
    keepSession: input.keepSession,
  });
  return ok ? 'changed' : 'key-changed';
}

/**
 * The admin sets a new password for her (`sealpost user passwd`, the admin console): nobody can unlock her
 * old console key any more, so it goes with the codes encrypted to it (their contacts keep waiting: new
 * codes are issued from her console, "issue a new code"), her console sessions end, and a new key is made
 * from the new password. Undefined when there is no such user; throws when the password is too short.
 */
export async function resetPassword(
  deps: { stores: Stores; crypto: CryptoPool; clock: Clock },
  login: string,
  password: string,
): Promise<{ id: string; login: string } | undefined> {
  if (password.length < MIN_PASSWORD_LENGTH) {
    throw new Error(`password must have at least ${MIN_PASSWORD_LENGTH} characters`);
  }
  if (!(await deps.stores.users.setPassword(login, password))) return undefined;
  const user = await deps.stores.users.find(login);
  if (!user) return undefined;
  await deps.stores.console.dropKey(user.id);
  await deps.stores.console.endSessionsOf(user.id);
  await ensureConsoleKey(deps, user, password);
  return { id: user.id, login: user.login };
}
