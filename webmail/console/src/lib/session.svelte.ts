import type { ConsoleKey } from './console-key.ts';
import type { Lang } from './i18n.ts';

/**
 * The console's state shared by the shell and the screens: the language, who is signed in, and her unlocked
 * console key (memory only: a reload signs her out, as the session key in api.ts is memory only too).
 */
export interface ConsoleUser {
  login: string;
  role: 'user' | 'admin';
}

export const session = $state<{ lang: Lang; user: ConsoleUser | undefined }>({ lang: 'de', user: undefined });

let key: ConsoleKey | undefined;
let keyLockId: string | undefined;

/** Her unlocked console key (set at sign-in), for the screens that decrypt codes, subjects or replies. */
export function consoleKey(): ConsoleKey | undefined {
  return key;
}

/** The id her key's lock is bound to (`console:<user id>`, from the sign-in answer): for a re-lock. */
export function consoleLockId(): string | undefined {
  return keyLockId;
}

export function signedIn(user: ConsoleUser, unlocked: ConsoleKey, lockId?: string): void {
  key = unlocked;
  keyLockId = lockId;
  session.user = user;
}

/** Forget who was signed in (sign-out, or the server said the session ended). */
export function signedOut(): void {
  key = undefined;
  keyLockId = undefined;
  session.user = undefined;
}
