/**
 * Every string the pickup app shows, in German (the default) and English. Both dictionaries have the same
 * keys (the type of `en` is the type of `de`); functions take what the sentence needs.
 */
export type Lang = 'de' | 'en';

const de = {
  htmlTitle: 'Vertrauliche Nachricht',
  skip: 'Zum Inhalt springen',
  switchLang: 'English',
  switchLangLabel: 'Switch to English',
  loading: 'Wird geladen …',
  expiredTitle: 'Diese Nachricht ist nicht mehr abrufbar',
  expiredText:
    'Sie wurde nach Ablauf der Aufbewahrungsfrist oder vom Absender gelöscht. Wenn Sie sie noch brauchen, bitten Sie den Absender, sie erneut zu senden.',
  notFoundTitle: 'Nachricht nicht gefunden',
  notFoundText: 'Bitte prüfen Sie, ob Sie den Link aus der E-Mail vollständig geöffnet haben.',
  lockedTitle: 'Zugang gesperrt',
  lockedText: (s: string) =>
    `Der Zugangscode wurde zu oft falsch eingegeben. Bitte bitten Sie ${s} um einen neuen Zugangscode.`,
  unreadableTitle: 'Diese Nachricht kann nicht mehr geöffnet werden',
  unreadableText: (s: string) =>
    `Sie wurde verschickt, bevor Ihr neuer Zugangscode ausgestellt wurde. Bitte bitten Sie ${s}, sie erneut zu senden.`,
  errorTitle: 'Die Seite konnte nicht geladen werden',
  errorText: 'Bitte versuchen Sie es in einigen Minuten noch einmal.',
  retry: 'Erneut versuchen',
  codeTitle: (s: string) => `Vertrauliche Nachricht von ${s}`,
  codeIntro: 'Geben Sie den Zugangscode ein, den Sie persönlich oder am Telefon erhalten haben.',
  codeLabel: 'Zugangscode',
  codeHint: 'Zum Beispiel 7F3K-Q9XD-2M. Groß- und Kleinschreibung, Leerzeichen und Bindestriche sind egal.',
  passphraseIntro: 'Geben Sie das Passwort ein, das Sie selbst festgelegt haben.',
  passphraseLabel: 'Passwort',
  open: 'Öffnen',
  availableUntil: (d: string) => `Abrufbar bis ${d}.`,
  codeEmpty: 'Bitte geben Sie den Zugangscode ein.',
  codeLength: (n: number) => `Der Zugangscode hat 10 Zeichen; eingegeben wurden ${n}.`,
  codeChar: (c: string) =>
    `Diese Zeichen kommen im Zugangscode nicht vor: ${c}. Bitte prüfen Sie die Eingabe.`,
  passphraseShort: 'Das Passwort hat mindestens 12 Zeichen.',
  deriving: 'Schlüssel wird berechnet …',
  checking: 'Zugang wird geprüft …',
  decrypting: 'Nachrichten werden entschlüsselt …',
  badCode: (n: number) =>
    `Der Zugangscode ist nicht richtig. Noch ${n} ${n === 1 ? 'Versuch' : 'Versuche'}, dann wird der Zugang gesperrt.`,
  rateLimited:
    'Zu viele falsche Codes von Ihrem Anschluss. Bitte warten Sie bis zu 15 Minuten und versuchen Sie es dann erneut.',
  network: 'Keine Verbindung zum Server. Bitte versuchen Sie es erneut.',
  failed: 'Das hat nicht geklappt. Bitte versuchen Sie es erneut.',
  keyBroken: 'Ihr Schlüssel konnte nicht geöffnet werden. Bitte wenden Sie sich an den Absender.',
  inboxTitle: 'Ihre Nachrichten',
  inboxEmpty: 'Keine Nachrichten vorhanden.',
  from: 'Von',
  to: 'An',
  date: 'Datum',
  noSubject: '(ohne Betreff)',
  pending: 'wird entschlüsselt …',
  tampered:
    'Diese Nachricht wurde unterwegs oder auf dem Server verändert oder ist beschädigt. Sie wird deshalb nicht angezeigt.',
  tamperedShort: 'beschädigt – nicht angezeigt',
  staleShort: 'mit altem Code verschlüsselt – bitte erneut anfordern',
  loadFailed: 'konnte nicht geladen werden',
  sigVerified: (signer: string, fpr: string) =>
    `Unterschrift geprüft: unterschrieben mit dem Schlüssel von ${signer}, Fingerabdruck ${fpr}.`,
  sigMismatch: (signer: string, fpr: string, from: string) =>
    `Unterschrieben mit dem Schlüssel von ${signer} (Fingerabdruck ${fpr}). Der angegebene Absender ${from} gehört nicht zu diesem Schlüssel und ist nicht bestätigt.`,
  unconfirmed: 'nicht bestätigt',
  sigUnsigned: 'Nicht unterschrieben: der Absender ist nicht bestätigt.',
  sigUnknown: (id: string) => `Unterschrieben mit einem unbekannten Schlüssel (${id}): nicht geprüft.`,
  sigInvalid: 'UNGÜLTIGE Unterschrift: die Nachricht ist möglicherweise gefälscht.',
  remoteBlocked: 'Externe Bilder und Inhalte wurden blockiert.',
  linksNote: 'Links sind zu Ihrer Sicherheit nicht anklickbar; die Adresse steht dahinter.',
  frameTitle: 'Nachrichtentext',
  imageWhole: 'Bild in voller Größe zeigen (erneut tippen zum Verkleinern)',
  charsetUnknown: (label: string) =>
    `Unbekannter Zeichensatz „${label}“: Teile dieser Nachricht werden möglicherweise nicht richtig angezeigt.`,
  attachments: 'Anhänge',
  download: (name: string) => `${name} herunterladen`,
  renamed: 'Unsichtbare Steuerzeichen oder Pfadzeichen im Namen wurden entfernt oder ersetzt.',
  back: 'Zur Übersicht',
  reply: 'Antworten',
  replyTitle: (s: string) => `Antwort an ${s}`,
  replyText: 'Ihre Antwort',
  replyFiles: 'Dateien anhängen',
  replySend: 'Verschlüsselt senden',
  replySending: 'Wird verschlüsselt und gesendet …',
  replySent: 'Ihre Antwort wurde verschlüsselt gesendet.',
  replyEmpty: 'Bitte schreiben Sie einen Text oder hängen Sie eine Datei an.',
  replyTooBig: 'Die Antwort ist zu groß. Bitte hängen Sie weniger oder kleinere Dateien an.',
  replyLimit: 'Heute wurden schon zu viele Antworten gesendet. Bitte versuchen Sie es morgen wieder.',
  replyInvalid: 'Die Antwort wurde vom Server nicht angenommen.',
  cancel: 'Abbrechen',
  settings: 'Einstellungen',
  changeTitle: 'Eigenes Passwort festlegen',
  changeIntro:
    'Ersetzen Sie den Zugangscode durch ein Passwort, das nur Sie kennen. Ihre Nachrichten bleiben lesbar.',
  newPass: 'Neues Passwort (mindestens 12 Zeichen)',
  repeatPass: 'Passwort wiederholen',
  strength: (level: number, length: number, classes: number) =>
    `Stärke: ${['schwach', 'mittel', 'gut', 'stark'][level]} (${length} Zeichen, ${classes} von 5 Zeichenarten)`,
  mismatch: 'Die beiden Passwörter stimmen nicht überein.',
  save: 'Passwort speichern',
  saving: 'Wird gespeichert …',
  changed:
    'Ihr Passwort ist gespeichert. Der bisherige Zugangscode gilt ab sofort nicht mehr; öffnen Sie Ihre Nachrichten künftig mit Ihrem Passwort.',
  changeFailed: 'Das Passwort konnte nicht gespeichert werden. Der bisherige Zugang gilt weiter.',
  ownKeyTitle: 'Eigenen OpenPGP-Schlüssel hinterlegen',
  ownKeyIntro:
    'Wenn Sie OpenPGP verwenden, können Sie Ihren öffentlichen Schlüssel hinterlegen. Künftige Nachrichten kommen dann direkt verschlüsselt per E-Mail.',
  ownKeyLabel: 'Öffentlicher Schlüssel (beginnt mit -----BEGIN PGP PUBLIC KEY BLOCK-----)',
  ownKeySave: 'Schlüssel hinterlegen',
  ownKeySaved: (fpr: string) => `Schlüssel hinterlegt: ${fpr}`,
  ownKeyInvalid: (problem: string) => `Dieser Schlüssel kann nicht verwendet werden (${problem}).`,
  ownKeyUnreadable: 'Das ist kein lesbarer öffentlicher OpenPGP-Schlüssel.',
  logout: 'Abmelden',
  loggedOutTitle: 'Sie sind abgemeldet',
  loggedOutText: 'Alle entschlüsselten Inhalte wurden aus diesem Fenster entfernt.',
  endedTitle: 'Sitzung beendet',
  endedText:
    'Die Sitzung ist abgelaufen. Alle entschlüsselten Inhalte wurden aus diesem Fenster entfernt. Bitte melden Sie sich erneut an.',
  signInAgain: 'Erneut anmelden',
  bytes: (n: number) =>
    n < 1024 ? `${n} Byte` : n < 1048576 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1048576).toFixed(1)} MB`,
};

export type Dict = typeof de;

const en: Dict = {
  htmlTitle: 'Confidential message',
  skip: 'Skip to content',
  switchLang: 'Deutsch',
  switchLangLabel: 'Auf Deutsch umschalten',
  loading: 'Loading …',
  expiredTitle: 'This message is no longer available',
  expiredText:
    'It was deleted when its retention period ended, or by the sender. If you still need it, ask the sender to send it again.',
  notFoundTitle: 'Message not found',
  notFoundText: 'Please check that you opened the complete link from the e-mail.',
  lockedTitle: 'Access locked',
  lockedText: (s: string) =>
    `The access code was entered wrongly too many times. Please ask ${s} for a new access code.`,
  unreadableTitle: 'This message can no longer be opened',
  unreadableText: (s: string) =>
    `It was sent before your new access code was issued. Please ask ${s} to send it again.`,
  errorTitle: 'The page could not be loaded',
  errorText: 'Please try again in a few minutes.',
  retry: 'Try again',
  codeTitle: (s: string) => `Confidential message from ${s}`,
  codeIntro: 'Enter the access code you were given in person or by phone.',
  codeLabel: 'Access code',
  codeHint: 'For example 7F3K-Q9XD-2M. Upper or lower case, spaces and dashes do not matter.',
  passphraseIntro: 'Enter the passphrase you chose yourself.',
  passphraseLabel: 'Passphrase',
  open: 'Open',
  availableUntil: (d: string) => `Available until ${d}.`,
  codeEmpty: 'Please enter the access code.',
  codeLength: (n: number) => `The access code has 10 characters; you entered ${n}.`,
  codeChar: (c: string) =>
    `These characters do not occur in access codes: ${c}. Please check what you typed.`,
  passphraseShort: 'The passphrase has at least 12 characters.',
  deriving: 'Computing key …',
  checking: 'Checking access …',
  decrypting: 'Decrypting messages …',
  badCode: (n: number) =>
    `The access code is not correct. ${n} ${n === 1 ? 'attempt' : 'attempts'} left before access is locked.`,
  rateLimited: 'Too many wrong codes from your connection. Please wait up to 15 minutes, then try again.',
  network: 'No connection to the server. Please try again.',
  failed: 'That did not work. Please try again.',
  keyBroken: 'Your key could not be opened. Please contact the sender.',
  inboxTitle: 'Your messages',
  inboxEmpty: 'No messages.',
  from: 'From',
  to: 'To',
  date: 'Date',
  noSubject: '(no subject)',
  pending: 'decrypting …',
  tampered: 'This message was changed in transit or on the server, or is damaged. It is therefore not shown.',
  tamperedShort: 'damaged – not shown',
  staleShort: 'encrypted to an old code – ask for it again',
  loadFailed: 'could not be loaded',
  sigVerified: (signer: string, fpr: string) =>
    `Signature verified: signed with the key of ${signer}, fingerprint ${fpr}.`,
  sigMismatch: (signer: string, fpr: string, from: string) =>
    `Signed with the key of ${signer} (fingerprint ${fpr}). The sender shown, ${from}, does not belong to this key and is not confirmed.`,
  unconfirmed: 'not confirmed',
  sigUnsigned: 'Not signed: the sender is not confirmed.',
  sigUnknown: (id: string) => `Signed with an unknown key (${id}): not verified.`,
  sigInvalid: 'INVALID signature: this message may be forged.',
  remoteBlocked: 'Remote images and content were blocked.',
  linksNote: 'For your safety links cannot be clicked; their address is shown after them.',
  frameTitle: 'Message text',
  imageWhole: 'Show the image at full size (tap again to fit)',
  charsetUnknown: (label: string) =>
    `Unknown character set “${label}”: parts of this message may not be shown correctly.`,
  attachments: 'Attachments',
  download: (name: string) => `Download ${name}`,
  renamed: 'Invisible control characters or path characters in the name were removed or replaced.',
  back: 'Back to the list',
  reply: 'Reply',
  replyTitle: (s: string) => `Reply to ${s}`,
  replyText: 'Your reply',
  replyFiles: 'Attach files',
  replySend: 'Send encrypted',
  replySending: 'Encrypting and sending …',
  replySent: 'Your reply was sent encrypted.',
  replyEmpty: 'Please write some text or attach a file.',
  replyTooBig: 'The reply is too big. Please attach fewer or smaller files.',
  replyLimit: 'Too many replies were sent today. Please try again tomorrow.',
  replyInvalid: 'The server did not accept the reply.',
  cancel: 'Cancel',
  settings: 'Settings',
  changeTitle: 'Choose your own passphrase',
  changeIntro: 'Replace the access code with a passphrase only you know. Your messages stay readable.',
  newPass: 'New passphrase (at least 12 characters)',
  repeatPass: 'Repeat the passphrase',
  strength: (level: number, length: number, classes: number) =>
    `Strength: ${['weak', 'fair', 'good', 'strong'][level]} (${length} characters, ${classes} of 5 kinds)`,
  mismatch: 'The two passphrases do not match.',
  save: 'Save passphrase',
  saving: 'Saving …',
  changed:
    'Your passphrase is saved. The old access code no longer works; open your messages with your passphrase from now on.',
  changeFailed: 'The passphrase could not be saved. Your old access still works.',
  ownKeyTitle: 'Register your own OpenPGP key',
  ownKeyIntro:
    'If you use OpenPGP you can register your public key. Future messages will then come to you encrypted by e-mail.',
  ownKeyLabel: 'Public key (begins with -----BEGIN PGP PUBLIC KEY BLOCK-----)',
  ownKeySave: 'Register key',
  ownKeySaved: (fpr: string) => `Key registered: ${fpr}`,
  ownKeyInvalid: (problem: string) => `This key cannot be used (${problem}).`,
  ownKeyUnreadable: 'This is not a readable OpenPGP public key.',
  logout: 'Log out',
  loggedOutTitle: 'You are logged out',
  loggedOutText: 'All decrypted content was removed from this window.',
  endedTitle: 'Session ended',
  endedText:
    'The session has expired. All decrypted content was removed from this window. Please sign in again.',
  signInAgain: 'Sign in again',
  bytes: (n: number) =>
    n < 1024 ? `${n} bytes` : n < 1048576 ? `${(n / 1024).toFixed(0)} KB` : `${(n / 1048576).toFixed(1)} MB`,
};

export const DICTIONARIES: Record<Lang, Dict> = { de, en };

/** The first of the browser's languages we speak; German otherwise. */
export function pickLanguage(languages: readonly string[]): Lang {
  for (const l of languages) {
    const base = l.toLowerCase().split('-')[0];
    if (base === 'de' || base === 'en') return base;
  }
  return 'de';
}
