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
    path: '/console/account',
    role: 'user',
    label: { de: 'Passwort', en: 'Password' },
    load: () => import('./Account.svelte'),
  },
  {
    path: '/console/contacts/new',
    role: 'user',
    label: { de: 'Neuer sicherer Kontakt', en: 'New secure contact' },
    load: () => import('./Enrol.svelte'),
  },
];

/** The screen of a URL (an unknown path, or one her role does not allow, shows the first screen). */
export function screenOf(path: string, role: 'user' | 'admin'): Screen {
  const allowed = SCREENS.filter((s) => s.role === 'user' || role === 'admin');
  return allowed.find((s) => s.path === path) ?? SCREENS[0]!;
}
