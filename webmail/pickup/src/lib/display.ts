/**
 * Strings that come from a message or the server (subject, names, addresses, attachment names) → what the
 * app shows, and the name it suggests for a download. A sender controls these strings, so none of them
 * may steer how the text around it is laid out:
 *
 * - bidi controls (U+202A–U+202E, U+2066–U+2069, U+200E/U+200F, U+061C) and every other invisible format
 *   character (Unicode category Cf: zero-width space, soft hyphen, word joiner, BOM, tags, … and the
 *   Hangul fillers that look like nothing) are removed: `invoice\u202Efdp.exe` is shown as
 *   `invoicefdp.exe`, never as `invoiceexe.pdf`. ZWJ and ZWNJ stay: Persian, Indic scripts and emoji need
 *   them, and they reorder nothing;
 * - control characters (C0, DEL, C1) and the line and paragraph separators become a space.
 *
 * What is left is shown in its logical order; strong right-to-left letters (Hebrew, Arabic names) still
 * show as they should, inside their own element or a `<bdi>`.
 */
const INVISIBLE = /(?![\u200C\u200D])[\p{Cf}\u115F\u1160\u3164\uFFA0]/gu;
const CONTROL = /[\p{Cc}\u2028\u2029]/gu;
/** Path separators, control characters and what Windows refuses in a file name. */
const NOT_IN_FILE_NAME = /[\p{Cc}/\\:*?"<>|]/gu;
/** Code points of a suggested file name (file systems allow 255 bytes; UTF-8 needs up to 4 a character). */
const MAX_NAME = 120;
const MAX_EXTENSION = 16;

export function displayText(s: string): string {
  return s.replace(INVISIBLE, '').replace(CONTROL, ' ');
}

/**
 * The name of an attachment as shown and as suggested for the download: `displayText`, then path
 * separators and control characters become `_`, no leading or trailing dots or spaces (no hidden file, no
 * name Windows trims), at most 120 characters with the extension kept. Empty → `fallback`.
 */
export function fileName(name: string, fallback: string): string {
  const cleaned = name
    .replace(INVISIBLE, '')
    .replace(NOT_IN_FILE_NAME, '_')
    .replace(/\s+/gu, ' ')
    .replace(/^[.\s]+|[.\s]+$/gu, '');
  const chars = Array.from(cleaned);
  if (chars.length === 0) return fallback;
  if (chars.length <= MAX_NAME) return cleaned;
  const dot = cleaned.lastIndexOf('.');
  const ext = dot > 0 ? Array.from(cleaned.slice(dot)) : [];
  const keep = ext.length > 0 && ext.length <= MAX_EXTENSION ? ext : [];
  return chars.slice(0, MAX_NAME - keep.length).join('') + keep.join('');
}
