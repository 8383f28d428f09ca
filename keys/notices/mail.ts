import { rfc5322Date } from '../../core/rfc5322-date.ts';

/**
 * The mails Sealpost writes about pickups (DESIGN.md "Pickup crypto"), in German (default) and English:
 * - the **notification** to the recipient: who wrote (a display name), the link, nothing else — no
 *   subject, no content, no code;
 * - the **receipt** to the sender: that a new secure contact needs an access code, and the link to her
 *   console, where the code waits (never the code itself: docs/console.md), and, after a new code, which
 *   earlier messages the recipient can no longer open.
 * Pure functions: text in, RFC 5322 bytes out (UTF-8 text, base64 transfer encoding).
 */
export type Language = 'de' | 'en';

export interface MailHead {
  from: { name: string; address: string };
  /** The practitioner who wrote (a notification's answer goes to them, not to noreply@). */
  replyTo?: string;
  to: string;
  messageId: string;
  date: Date;
}

export interface NotificationInput extends MailHead {
  language: Language;
  senderName: string;
  link: string;
  expiresAt: Date;
  /** The practice's security word (SEALPOST_SECURITY_WORD), also shown on every pickup page. */
  securityWord?: string;
  /** The operator's lines under the text: practice name, postal address, phone. */
  practice?: { name: string; address?: string; phone?: string };
}

export interface ReceiptInput extends MailHead {
  language: Language;
  recipient: string;
  /** SEALPOST_PUBLIC_URL/console, where the code waits for her. */
  consoleUrl: string;
  /** Set when the code was re-issued: earlier messages under the old key, to resend. */
  stale?: { messageId: string; createdAt: Date }[];
  reissued: boolean;
}

const TEXT = {
  de: {
    notificationSubject: (name: string) => `Vertrauliche Nachricht von ${name}`,
    notificationBody: (n: NotificationInput) => [
      'Guten Tag,',
      '',
      `${n.senderName} hat Ihnen eine vertrauliche Nachricht geschickt; sie liegt verschlüsselt bereit,`,
      'und Sie öffnen sie über den Link unten mit dem Zugangscode, den Sie persönlich oder am Telefon',
      'erhalten haben.',
      'Der Code kommt nie per E-Mail: Eine E-Mail, die ihn nennt oder nach ihm fragt, ist nicht von uns.',
      '',
      n.link,
      '',
      ...(n.securityWord
        ? [`Sicherheitswort der Praxis: ${n.securityWord} (es steht auch auf der Seite).`, '']
        : []),
      `Die Nachricht ist bis ${day(n.expiresAt, 'de')} abrufbar. Vertraulich antworten Sie über die`,
      'Seite; eine Antwort auf diese E-Mail ist nicht verschlüsselt.',
      ...practiceLines(n),
    ],
    receiptSubject: (rcpt: string) => `Sicher zugestellt an ${rcpt} – Zugangscode in der Konsole`,
    receiptBody: (r: ReceiptInput) => [
      r.reissued
        ? `Für ${r.recipient} wurde ein neuer Zugangscode ausgestellt.`
        : `Ihre Nachricht an ${r.recipient} wurde sicher zur Abholung bereitgestellt.`,
      '',
      r.reissued
        ? 'Der neue Code liegt verschlüsselt in Ihrer Sealpost-Konsole bereit:'
        : 'Ein neuer sicherer Kontakt braucht einen Zugangscode. Er liegt verschlüsselt in Ihrer',
      ...(r.reissued ? [] : ['Sealpost-Konsole bereit:']),
      '',
      r.consoleUrl,
      '',
      'Melden Sie sich dort mit Ihrer Sealpost-Adresse und Ihrem Passwort an und teilen Sie den Code',
      'persönlich oder telefonisch mit – niemals per E-Mail. Diese E-Mail enthält den Code nicht.',
      `${r.recipient} braucht ihn einmal für alle Nachrichten von Ihnen und kann ihn danach`,
      'durch ein eigenes Passwort ersetzen.',
      ...staleLines(r, 'de'),
    ],
    staleIntro: 'Diese früheren Nachrichten sind mit dem alten Code verschlüsselt und nicht mehr',
    staleIntro2: 'lesbar; bitte senden Sie sie aus Ihrem Gesendet-Ordner erneut:',
  },
  en: {
    notificationSubject: (name: string) => `Confidential message from ${name}`,
    notificationBody: (n: NotificationInput) => [
      'Hello,',
      '',
      `${n.senderName} has sent you a confidential message; it is waiting for you encrypted, and you`,
      'open it with the link below and the access code you were given in person or by phone.',
      'The code never comes by e-mail: an e-mail that tells it or asks for it is not from us.',
      '',
      n.link,
      '',
      ...(n.securityWord
        ? [`The practice's security word: ${n.securityWord} (it is shown on the page too).`, '']
        : []),
      `The message can be read until ${day(n.expiresAt, 'en')}. Reply confidentially on the page;`,
      'a reply to this e-mail is not encrypted.',
      ...practiceLines(n),
    ],
    receiptSubject: (rcpt: string) => `Delivered securely to ${rcpt} – access code in your console`,
    receiptBody: (r: ReceiptInput) => [
      r.reissued
        ? `A new access code was issued for ${r.recipient}.`
        : `Your message to ${r.recipient} was delivered securely for pickup.`,
      '',
      r.reissued
        ? 'The new code is waiting, encrypted, in your Sealpost console:'
        : 'A new secure contact needs an access code. It is waiting, encrypted, in your Sealpost console:',
      '',
      r.consoleUrl,
      '',
      'Sign in there with your Sealpost address and password, and tell the code in person or by phone —',
      'never by e-mail. This e-mail does not contain the code.',
      `${r.recipient} needs it once for all your messages and may then replace it with a`,
      'passphrase of their own.',
      ...staleLines(r, 'en'),
    ],
    staleIntro: 'These earlier messages are encrypted to the old code and can no longer be read;',
    staleIntro2: 'please send them again from your Sent folder:',
  },
} as const;

function practiceLines(n: NotificationInput): string[] {
  const p = n.practice;
  if (!p) return [];
  return ['', '-- ', p.name, ...(p.address ? [p.address] : []), ...(p.phone ? [p.phone] : [])].map((l) =>
    l.replace(/[\r\n]+/g, ' '),
  );
}

function staleLines(r: ReceiptInput, lang: Language): string[] {
  if (!r.stale || r.stale.length === 0) return [];
  const t = TEXT[lang];
  return [
    '',
    t.staleIntro,
    t.staleIntro2,
    ...r.stale.map((s) => `  - ${dateTime(s.createdAt, lang)}  ${s.messageId}`),
  ];
}

function day(d: Date, lang: Language): string {
  return d.toLocaleDateString(lang === 'de' ? 'de-DE' : 'en-GB', {
    timeZone: 'Europe/Berlin',
    year: 'numeric',
    month: 'long',
    day: 'numeric',
  });
}

function dateTime(d: Date, lang: Language): string {
  return d.toLocaleString(lang === 'de' ? 'de-DE' : 'en-GB', { timeZone: 'Europe/Berlin' });
}

export function notificationMail(n: NotificationInput): Buffer {
  const t = TEXT[n.language];
  return mail(n, t.notificationSubject(n.senderName), t.notificationBody(n), n.language);
}

export function receiptMail(r: ReceiptInput): Buffer {
  const t = TEXT[r.language];
  return mail(r, t.receiptSubject(r.recipient), t.receiptBody(r), r.language);
}

function mail(head: MailHead, subject: string, lines: readonly string[], lang: Language): Buffer {
  const body = Buffer.from(lines.join('\r\n') + '\r\n', 'utf8').toString('base64');
  const fields = [
    `From: ${encodeWord(head.from.name)} <${head.from.address}>`,
    ...(head.replyTo ? [`Reply-To: <${head.replyTo}>`] : []),
    `To: <${head.to}>`,
    `Subject: ${encodeText(subject)}`,
    `Date: ${rfc5322Date(head.date)}`,
    `Message-ID: ${head.messageId}`,
    'MIME-Version: 1.0',
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    `Content-Language: ${lang}`,
    'Auto-Submitted: auto-generated',
  ];
  return Buffer.from(`${fields.join('\r\n')}\r\n\r\n${fold(body)}\r\n`, 'latin1');
}

/** A display name: a quoted string when ASCII (names may hold commas), else RFC 2047 words. */
export function encodeWord(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return `"${text.replace(/["\\]/g, '\\$&')}"`;
  return encodeText(text);
}

/**
 * Unstructured text (Subject): as it is when ASCII, else RFC 2047 B-words of at most 45 bytes of UTF-8
 * each (an encoded word may be 75 characters long), never splitting a character, folded between words.
 */
export function encodeText(text: string): string {
  if (/^[\x20-\x7e]*$/.test(text)) return text;
  const words: string[] = [];
  let chunk = '';
  for (const ch of text) {
    if (Buffer.byteLength(chunk + ch, 'utf8') > 45) {
      words.push(chunk);
      chunk = '';
    }
    chunk += ch;
  }
  if (chunk) words.push(chunk);
  return words.map((w) => `=?UTF-8?B?${Buffer.from(w, 'utf8').toString('base64')}?=`).join('\r\n ');
}

function fold(base64: string): string {
  return base64.replace(/.{1,76}/g, '$&\r\n').trimEnd();
}
