import type { Lang } from '../lib/i18n.ts';

/** The "new secure contact" screen's texts (German default, English). */
export const ENROL_TEXT = {
  de: {
    title: 'Neuer sicherer Kontakt',
    intro:
      'Legen Sie den Kontakt an, solange die Klientin oder der Klient bei Ihnen ist, und geben Sie die ausgedruckte Karte mit. Der Zugangscode wird nur hier und nur einmal angezeigt.',
    address: 'E-Mail-Adresse der Klientin oder des Klienten',
    submit: 'Kontakt anlegen',
    how: 'Wie erhält die Klientin oder der Klient Zugang?',
    modeCard: 'Zugangscode auf einer gedruckten Karte',
    modePassphrase: 'Eigenes Passwort, jetzt auf diesem Gerät eingegeben',
    handOver:
      'Geben Sie das Gerät jetzt der Klientin oder dem Klienten. Das Passwort verlässt dieses Gerät nicht; die Praxis kennt es nicht und kann es nicht wiederherstellen.',
    ownPass: 'Ihr Passwort (mindestens 12 Zeichen)',
    submitOwn: 'Kontakt mit diesem Passwort anlegen',
    cardHowOwn:
      'Sie erhalten jede Nachricht per E-Mail mit einem Link. Öffnen Sie den Link und geben Sie das Passwort ein, das Sie gewählt haben. Niemand sonst kennt es.',
    ownDone: 'Der Kontakt ist angelegt. Es gibt keinen Code; die Karte zeigt keinen.',
    busy: 'Schlüssel wird erzeugt …',
    exists:
      'Diese Adresse ist bereits ein sicherer Kontakt; ihr Code wurde schon ausgegeben. Ein neuer Code ist über „Zugangscodes“ oder die Kommandozeile möglich.',
    keyChanged: 'Ihr Schlüssel wurde inzwischen ersetzt. Bitte melden Sie sich neu an.',
    failed: 'Der Kontakt konnte nicht angelegt werden.',
    cardTitle: 'Ihr Zugang zu sicheren Nachrichten',
    cardFrom: 'von',
    cardFor: 'für',
    cardWhere: 'Nachrichten abholen unter',
    cardCode: 'Ihr Zugangscode',
    cardHow:
      'Sie erhalten jede Nachricht per E-Mail mit einem Link. Öffnen Sie den Link und geben Sie diesen Code ein. Bewahren Sie die Karte sicher auf und geben Sie den Code niemandem weiter.',
    qrAlt: (url: string) => `QR-Code der Adresse ${url}`,
    print: 'Karte drucken',
    another: 'Weiteren Kontakt anlegen',
    once: 'Der Code wird nicht gespeichert und nach Verlassen dieser Seite nicht mehr angezeigt.',
  },
  en: {
    title: 'New secure contact',
    intro:
      'Create the contact while the client is with you and hand over the printed card. The access code is shown only here, and only once.',
    address: "Client's e-mail address",
    submit: 'Create contact',
    how: 'How does the client get access?',
    modeCard: 'Access code on a printed card',
    modePassphrase: 'Own passphrase, typed on this device now',
    handOver:
      'Hand the device to the client now. The passphrase never leaves this device; the practice does not know it and cannot recover it.',
    ownPass: 'Your passphrase (at least 12 characters)',
    submitOwn: 'Create contact with this passphrase',
    cardHowOwn:
      'Each message reaches you by e-mail with a link. Open the link and enter the passphrase you chose. Nobody else knows it.',
    ownDone: 'The contact is created. There is no code; the card shows none.',
    busy: 'Making the key …',
    exists:
      'This address is already a secure contact; its code was issued before. A new code can be issued from "Access codes" or the command line.',
    keyChanged: 'Your key was replaced meanwhile. Please sign in again.',
    failed: 'The contact could not be created.',
    cardTitle: 'Your access to secure messages',
    cardFrom: 'from',
    cardFor: 'for',
    cardWhere: 'Pick up messages at',
    cardCode: 'Your access code',
    cardHow:
      'Each message reaches you by e-mail with a link. Open the link and enter this code. Keep this card safe and give the code to nobody.',
    qrAlt: (url: string) => `QR code of the address ${url}`,
    print: 'Print card',
    another: 'Create another contact',
    once: 'The code is not stored and is not shown again once you leave this page.',
  },
} as const satisfies Record<Lang, unknown>;
