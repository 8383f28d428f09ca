import type { Lang } from '../lib/i18n.ts';

/** The audit screen's texts (German default, English). */
const de = {
  title: 'Protokoll',
  intro:
    'Jede Aktion von Admins und Praxis-Nutzern, jede Zustellentscheidung: wer, was, wann, woher. Nie Inhalte.',
  from: 'Von (Tag)',
  to: 'Bis (Tag)',
  actor: 'Wer',
  action: 'Aktion',
  all: 'Alle',
  filter: 'Filtern',
  csv: 'Als CSV herunterladen',
  none: 'Keine Einträge.',
  at: 'Zeit',
  subject: 'Betrifft',
  detail: 'Detail',
  ip: 'IP',
  more: 'Weitere',
  back: 'Zurück',
};

export const AUDIT_TEXT: Record<Lang, Record<keyof typeof de, string>> = {
  de,
  en: {
    title: 'Audit trail',
    intro:
      'Every admin and practitioner action, every delivery decision: who, what, when, from where. Never content.',
    from: 'From (day)',
    to: 'To (day)',
    actor: 'Who',
    action: 'Action',
    all: 'All',
    filter: 'Filter',
    csv: 'Download as CSV',
    none: 'No entries.',
    at: 'Time',
    subject: 'Subject',
    detail: 'Detail',
    ip: 'IP',
    more: 'More',
    back: 'Back',
  },
};
