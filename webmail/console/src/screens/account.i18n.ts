import type { Lang } from '../lib/i18n.ts';

/** The account screen's texts (German default, English). */
export const ACCOUNT_TEXT = {
  de: {
    title: 'Passwort ändern',
    intro:
      'Das neue Passwort gilt auch für Ihr E-Mail-Programm. Ihr Konsolen-Schlüssel wird in diesem Browser neu verschlossen; Ihre Zugangscodes bleiben lesbar.',
    old: 'Bisheriges Passwort',
    new: 'Neues Passwort',
    repeat: 'Neues Passwort wiederholen',
    hint: (n: number) => `Mindestens ${n} Zeichen.`,
    submit: 'Passwort ändern',
    busy: 'Schlüssel wird neu verschlossen …',
    done: 'Ihr Passwort ist geändert. Stellen Sie es auch in Ihrem E-Mail-Programm ein.',
    short: (n: number) => `Das neue Passwort braucht mindestens ${n} Zeichen.`,
    mismatch: 'Die beiden neuen Passwörter stimmen nicht überein.',
    wrong: 'Das bisherige Passwort ist nicht richtig.',
    keyChanged: 'Ihr Schlüssel wurde inzwischen ersetzt. Bitte melden Sie sich neu an.',
    failed: 'Das Passwort konnte nicht geändert werden. Es gilt weiter das bisherige.',
  },
  en: {
    title: 'Change password',
    intro:
      'The new password is also the one for your mail program. Your console key is re-locked in this browser; your access codes stay readable.',
    old: 'Current password',
    new: 'New password',
    repeat: 'Repeat the new password',
    hint: (n: number) => `At least ${n} characters.`,
    submit: 'Change password',
    busy: 'Re-locking your key …',
    done: 'Your password is changed. Set it in your mail program too.',
    short: (n: number) => `The new password needs at least ${n} characters.`,
    mismatch: 'The two new passwords differ.',
    wrong: 'The current password is not correct.',
    keyChanged: 'Your key was replaced meanwhile. Please sign in again.',
    failed: 'The password could not be changed. The current one still holds.',
  },
} as const satisfies Record<Lang, unknown>;

/** The "issue a new code" button on an unreadable line of the codes screen. */
export const REISSUE_TEXT = {
  de: { button: 'Neuen Code ausstellen', busy: 'Neuer Code wird ausgestellt …' },
  en: { button: 'Issue a new code', busy: 'Issuing a new code …' },
} as const satisfies Record<Lang, unknown>;
