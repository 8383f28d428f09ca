import type { ReplyVerdict } from '../../../contract/console-replies.ts';
import type { Lang } from '../lib/i18n.ts';

interface RepliesText {
  title: string;
  intro: string;
  none: string;
  from: string;
  received: string;
  signature: string;
  read: string;
  reading: string;
  close: string;
  delete: string;
  attachments: (n: number) => string;
  empty: string;
  previous: string;
  next: string;
  pageOf: (page: number, pages: number) => string;
  verdict: Record<ReplyVerdict, string>;
}

/** The replies screen's texts (German default, English). */
export const REPLIES_TEXT: Record<Lang, RepliesText> = {
  de: {
    title: 'Antworten',
    intro:
      'Antworten Ihrer Kontakte von der Abholseite. Sie liegen verschlüsselt auf dem Server und werden nur entschlüsselt, wenn Sie eine öffnen; entschlüsselt gespeichert wird nichts.',
    none: 'Keine Antworten.',
    from: 'Von',
    received: 'Empfangen',
    signature: 'Signatur',
    read: 'Lesen',
    reading: 'Wird entschlüsselt …',
    close: 'Schließen',
    delete: 'Löschen',
    attachments: (n) => `${n} Anhang/Anhänge werden hier nicht angezeigt.`,
    empty: '(kein Text)',
    previous: 'Zurück',
    next: 'Weiter',
    pageOf: (p, n) => `Seite ${p} von ${n}`,
    verdict: {
      valid: 'gültig (Schlüssel des Kontakts)',
      invalid: 'ungültig',
      'unknown-key': 'unbekannter Schlüssel',
      none: 'nicht signiert',
      unreadable: 'nicht lesbar',
    },
  },
  en: {
    title: 'Replies',
    intro:
      'Replies from your contacts on the pickup page. They are kept encrypted on the server and decrypted only when you open one; nothing is stored decrypted.',
    none: 'No replies.',
    from: 'From',
    received: 'Received',
    signature: 'Signature',
    read: 'Read',
    reading: 'Decrypting …',
    close: 'Close',
    delete: 'Delete',
    attachments: (n) => `${n} attachment(s) are not shown here.`,
    empty: '(no text)',
    previous: 'Previous',
    next: 'Next',
    pageOf: (p, n) => `Page ${p} of ${n}`,
    verdict: {
      valid: "valid (the contact's key)",
      invalid: 'invalid',
      'unknown-key': 'unknown key',
      none: 'not signed',
      unreadable: 'unreadable',
    },
  },
};
