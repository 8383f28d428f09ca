import type { Lang } from '../lib/i18n.ts';

/** The settings and health screen's texts (German default, English). */
const de = {
  title: 'Einstellungen',
  intro:
    'Diese Werte kommen aus der Konfiguration des Servers (Umgebungsvariable); eine Änderung braucht einen Neustart.',
  practiceName: 'Name der Praxis',
  language: 'Sprache der Benachrichtigungen',
  retentionDays: 'Aufbewahrung (Tage)',
  pickup: 'Sichere Abholung',
  discovery: 'Schlüsselsuche (WKD, VKS)',
  keyChange: 'Bei Schlüsselwechsel',
  health: 'Zustand',
  database: 'Datenbank',
  redis: 'Redis',
  relay: 'Relay',
  lastSuccess: 'letzte Zustellung',
  lastFailure: 'letzter Fehler',
  never: 'noch nie',
  tls: 'TLS-Zertifikat',
  expires: 'läuft ab in {n} Tagen',
  selfSigned: '(selbst signiert)',
  noCert: 'keins gefunden',
  queue: 'Warteschlange',
  depth: '{q} wartend, davon {d} zurückgestellt; {b} unzustellbar',
};

export const SETTINGS_TEXT: Record<Lang, Record<keyof typeof de, string>> = {
  de,
  en: {
    title: 'Settings',
    intro:
      "These values come from the server's configuration (environment variable); a change needs a restart.",
    practiceName: 'Practice name',
    language: 'Notification language',
    retentionDays: 'Retention (days)',
    pickup: 'Secure pickup',
    discovery: 'Key discovery (WKD, VKS)',
    keyChange: 'On a key change',
    health: 'Health',
    database: 'Database',
    redis: 'Redis',
    relay: 'Relay',
    lastSuccess: 'last delivery',
    lastFailure: 'last failure',
    never: 'never',
    tls: 'TLS certificate',
    expires: 'expires in {n} days',
    selfSigned: '(self-signed)',
    noCert: 'none found',
    queue: 'Queue',
    depth: '{q} queued, {d} of them deferred; {b} bounced',
  },
};
