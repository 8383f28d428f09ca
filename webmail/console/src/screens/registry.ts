import type { Component } from 'svelte';
import type { Lang } from '../lib/i18n.ts';

/**
 * Every screen of the console: its URL, the role it needs, its name in the navigation (German, English) and
 * its component, loaded in its own chunk when first shown. A new screen is one row here and one component
 * (with its texts) in this folder; its API routes are rows of webmail/console-api/table.ts.
 */
export interface Screen {
  readonly path: string;
  readonly role: 'user' | 'admin';
  readonly label: Readonly<Record<Lang, string>>;
  readonly load: () => Promise<{ default: Component }>;
}

export const SCREENS: readonly Screen[] = [
  {
    path: '/console',
    role: 'user',
    label: { de: 'Zugangscodes', en: 'Access codes' },
    load: () => import('./Codes.svelte'),
  },
  {
    path: '/console/sent',
    role: 'user',
    label: { de: 'Gesendet', en: 'Sent' },
    load: () => import('./Sent.svelte'),
  },
  {
    path: '/console/replies',
    role: 'user',
    label: { de: 'Antworten', en: 'Replies' },
    load: () => import('./Replies.svelte'),
  },
  {
    path: '/console/account',
    role: 'user',
    label: { de: 'Passwort', en: 'Password' },
    load: () => import('./Account.svelte'),
  },
  {
    path: '/console/users',
    role: 'admin',
    label: { de: 'Benutzer', en: 'Users' },
    load: () => import('./Users.svelte'),
  },
  {
    path: '/console/keys',
    role: 'admin',
    label: { de: 'Schlüssel', en: 'Keys' },
    load: () => import('./Keys.svelte'),
  },
  {
    path: '/console/sender-keys',
    role: 'admin',
    label: { de: 'Absenderschlüssel', en: 'Sender keys' },
    load: () => import('./SenderKeys.svelte'),
  },
  {
    path: '/console/policy',
    role: 'admin',
    label: { de: 'Richtlinie', en: 'Policy' },
    load: () => import('./Policy.svelte'),
  },
  {
    path: '/console/queue',
    role: 'admin',
    label: { de: 'Warteschlange', en: 'Queue' },
    load: () => import('./Queue.svelte'),
  },
  {
    path: '/console/contacts',
    role: 'admin',
    label: { de: 'Abholkontakte', en: 'Pickup contacts' },
    load: () => import('./Contacts.svelte'),
  },
  {
    path: '/console/audit',
    role: 'admin',
    label: { de: 'Protokoll', en: 'Audit trail' },
    load: () => import('./Audit.svelte'),
  },
  {
    path: '/console/settings',
    role: 'admin',
    label: { de: 'Einstellungen', en: 'Settings' },
    load: () => import('./Settings.svelte'),
  },
  {
    path: '/console/contacts/new',
    role: 'user',
    label: { de: 'Neuer sicherer Kontakt', en: 'New secure contact' },
    load: () => import('./Enrol.svelte'),
  },
];

/**
 * The screen of a URL: its own path or a path below it (`/console/sent/<id>/evidence` is the sent screen's);
 * an unknown path, or one her role does not allow, shows the first screen.
 */
export function screenOf(path: string, role: 'user' | 'admin'): Screen {
  const allowed = SCREENS.filter((s) => s.role === 'user' || role === 'admin');
  const exact = allowed.find((s) => s.path === path);
  if (exact) return exact;
  const below = allowed.filter((s) => s.path !== '/console' && path.startsWith(`${s.path}/`));
  return below.sort((a, b) => b.path.length - a.path.length)[0] ?? SCREENS[0]!;
}
