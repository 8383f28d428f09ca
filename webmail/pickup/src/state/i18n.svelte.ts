import { DICTIONARIES, pickLanguage, type Dict, type Lang } from '../lib/i18n.ts';

/** The language in use (from navigator.languages, switchable) and its dictionary. */
class I18n {
  lang = $state<Lang>(pickLanguage(navigator.languages ?? [navigator.language]));
  get t(): Dict {
    return DICTIONARIES[this.lang];
  }
  get locale(): string {
    return this.lang === 'de' ? 'de-DE' : 'en-GB';
  }
  toggle(): void {
    this.lang = this.lang === 'de' ? 'en' : 'de';
  }
  date(d: Date): string {
    return d.toLocaleString(this.locale, { dateStyle: 'medium', timeStyle: 'short' });
  }
  day(d: Date): string {
    return d.toLocaleDateString(this.locale, { dateStyle: 'long' });
  }
}

export const i18n = new I18n();
