/** The console's texts, German (default) and English. */
export type Lang = 'de' | 'en';

export const TEXT = {
  de: {
    title: 'Sealpost-Konsole',
    signInTitle: 'Anmelden',
    login: 'Ihre Sealpost-Adresse',
    password: 'Passwort (wie in Ihrem E-Mail-Programm)',
    signIn: 'Anmelden',
    totp: 'Code aus Ihrer Authenticator-App',
    totpTitle: 'Zwei-Faktor-Anmeldung',
    totpStart: 'Zwei-Faktor-Anmeldung einrichten',
    totpScan: 'Scannen Sie den QR-Code mit Ihrer Authenticator-App und geben Sie den angezeigten Code ein.',
    totpConfirm: 'Bestätigen',
    totpOn: 'Zwei-Faktor-Anmeldung ist eingeschaltet.',
    enrolIntro:
      'Für die Verwaltung ist die Zwei-Faktor-Anmeldung Pflicht. Scannen Sie den QR-Code mit Ihrer Authenticator-App (oder übernehmen Sie den otpauth-Link) und melden Sie sich mit dem angezeigten Code an.',
    enrolQr: 'QR-Code für die Authenticator-App',
    signingIn: 'Anmelden … (Ihr Schlüssel wird entsperrt)',
    signOut: 'Abmelden',
    codesTitle: 'Zugangscodes zum Weitergeben',
    codesIntro:
      'Nennen Sie jeden Code persönlich oder am Telefon – niemals per E-Mail – und markieren Sie ihn danach als weitergegeben. Er wird dann vom Server gelöscht.',
    none: 'Keine Zugangscodes warten.',
    contact: 'Kontakt',
    code: 'Zugangscode',
    since: 'seit',
    handedOver: 'Weitergegeben',
    unreadable: 'nicht mehr lesbar (Passwort zurückgesetzt)',
    errors: {
      CON_AUTH_FAILED: 'Adresse oder Passwort ist nicht richtig.',
      CON_RATE_LIMITED: 'Zu viele Fehlversuche. Bitte später erneut versuchen.',
      CON_UNAVAILABLE: 'Gerade nicht verfügbar. Bitte später erneut versuchen.',
      CON_AUTH_REQUIRED: 'Ihre Sitzung ist abgelaufen. Bitte melden Sie sich neu an.',
      CON_TOTP_REQUIRED: 'Bitte geben Sie den Code aus Ihrer Authenticator-App ein.',
      CON_TOTP_WRONG: 'Der Code aus der Authenticator-App ist nicht richtig.',
      CON_TOTP_ENABLED: 'Die Zwei-Faktor-Anmeldung ist bereits eingeschaltet.',
      CON_TOTP_ENROL: 'Bitte richten Sie zuerst die Zwei-Faktor-Anmeldung ein.',
      unlock: 'Ihr Konsolen-Schlüssel ließ sich nicht entsperren.',
      other: 'Etwas ist schiefgegangen. Bitte erneut versuchen.',
    },
    language: 'English',
    navigation: 'Bereiche der Konsole',
    loading: 'Wird geladen …',
  },
  en: {
    title: 'Sealpost console',
    signInTitle: 'Sign in',
    login: 'Your Sealpost address',
    password: 'Password (as in your mail program)',
    signIn: 'Sign in',
    totp: 'Code from your authenticator app',
    totpTitle: 'Two-factor sign-in',
    totpStart: 'Set up two-factor sign-in',
    totpScan: 'Scan the QR code with your authenticator app and enter the code it shows.',
    totpConfirm: 'Confirm',
    totpOn: 'Two-factor sign-in is on.',
    enrolIntro:
      'Administrators must use two-factor sign-in. Scan the QR code with your authenticator app (or copy the otpauth link) and sign in with the code it shows.',
    enrolQr: 'QR code for the authenticator app',
    signingIn: 'Signing in … (unlocking your key)',
    signOut: 'Sign out',
    codesTitle: 'Access codes to hand over',
    codesIntro:
      'Tell each code in person or by phone — never by e-mail — then mark it as handed over. It is then deleted from the server.',
    none: 'No access codes are waiting.',
    contact: 'Contact',
    code: 'Access code',
    since: 'since',
    handedOver: 'Handed over',
    unreadable: 'no longer readable (password reset)',
    errors: {
      CON_AUTH_FAILED: 'Address or password is not correct.',
      CON_RATE_LIMITED: 'Too many failed attempts. Please try again later.',
      CON_UNAVAILABLE: 'Not available right now. Please try again later.',
      CON_AUTH_REQUIRED: 'Your session has ended. Please sign in again.',
      CON_TOTP_REQUIRED: 'Please enter the code from your authenticator app.',
      CON_TOTP_WRONG: 'The code from your authenticator app is not correct.',
      CON_TOTP_ENABLED: 'Two-factor sign-in is already on.',
      CON_TOTP_ENROL: 'Please set up two-factor sign-in first.',
      unlock: 'Your console key could not be unlocked.',
      other: 'Something went wrong. Please try again.',
    },
    language: 'Deutsch',
    navigation: 'Console sections',
    loading: 'Loading …',
  },
} as const;

export type ErrorKey = keyof (typeof TEXT)['de']['errors'];

export function errorKey(code: string): ErrorKey {
  return code in TEXT.de.errors ? (code as ErrorKey) : 'other';
}

export function when(iso: string, lang: Lang): string {
  return new Date(iso).toLocaleString(lang === 'de' ? 'de-DE' : 'en-GB', {
    dateStyle: 'medium',
    timeStyle: 'short',
  });
}
