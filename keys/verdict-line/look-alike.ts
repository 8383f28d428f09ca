/**
 * Look-alikes of Sealpost's visible verdict line (`[Sealpost] Verschlüsselt empfangen …`) in text a sender
 * wrote. Only Sealpost may write that line; a sender who writes one (in clear mail, or inside an encrypted
 * message above or below ours) gets it marked, in place, as not from Sealpost (docs/inbound.md
 * "The visible line, and why a sender cannot forge it").
 *
 * A look-alike is the word "Sealpost" in any disguise: case, Unicode compatibility forms (fullwidth,
 * mathematical letters), accents and other combining marks, invisible format characters (zero-width
 * space/joiner, soft hyphen, bidi controls), letters of other scripts that look like Latin ones (a table in
 * the spirit of Unicode TS #39 "confusables", for the letters of the word), and anything that is not a
 * letter between the letters ("S e a l-p o s t", "Seal<b>post</b>"). Only letters are compared, so
 * punctuation and spacing never hide it.
 */
export type NoticeLanguage = 'de' | 'en';

/** What Sealpost puts before a look-alike. ASCII only, so that it fits any charset it is inserted into. */
export const LOOK_ALIKE_MARKERS: Record<NoticeLanguage, string> = {
  de: '[Achtung: nicht von Sealpost]',
  en: '[Warning: not from Sealpost]',
};
const MARKERS = Object.values(LOOK_ALIKE_MARKERS);

const WORD = 'sealpost';

/** Letters of other scripts (and symbols) that read as the letters of the word. */
const CONFUSABLE: Record<string, string> = {
  // s
  ѕ: 's',
  Ѕ: 's',
  ꜱ: 's',
  Ꮪ: 's',
  $: 's',
  ʂ: 's',
  // e
  е: 'e',
  Е: 'e',
  є: 'e',
  Є: 'e',
  ε: 'e',
  Ε: 'e',
  ɛ: 'e',
  ҽ: 'e',
  Ꭼ: 'e',
  ℮: 'e',
  // a
  а: 'a',
  А: 'a',
  α: 'a',
  Α: 'a',
  ɑ: 'a',
  Ꭺ: 'a',
  '@': 'a',
  // l (and what reads as l: capital I, digit one, vertical bar, i without its dot)
  I: 'l',
  i: 'l',
  ı: 'l',
  '1': 'l',
  '|': 'l',
  '!': 'l',
  ӏ: 'l',
  Ӏ: 'l',
  ι: 'l',
  Ι: 'l',
  ǀ: 'l',
  ł: 'l',
  Ł: 'l',
  ɩ: 'l',
  Ɩ: 'l',
  Ꮮ: 'l',
  І: 'l',
  і: 'l',
  // p
  р: 'p',
  Р: 'p',
  ρ: 'p',
  Ρ: 'p',
  Ꮲ: 'p',
  // o
  о: 'o',
  О: 'o',
  ο: 'o',
  Ο: 'o',
  '0': 'o',
  օ: 'o',
  ø: 'o',
  Ø: 'o',
  σ: 'o',
  ᴏ: 'o',
  Ꮎ: 'o',
  // t
  т: 't',
  Т: 't',
  τ: 't',
  Τ: 't',
  '+': 't',
  ŧ: 't',
  ƭ: 't',
  Ꭲ: 't',
};

/** Letter (a–z char code) of each ASCII character, 0 for none: the hot path needs no string at all. */
const ASCII_LETTER = new Uint8Array(128);
for (let c = 0; c < 128; c++) {
  const char = String.fromCharCode(c);
  const mapped = CONFUSABLE[char] ?? (/[A-Za-z]/.test(char) ? char.toLowerCase() : '');
  ASCII_LETTER[c] = mapped ? mapped.charCodeAt(0) : 0;
}
/** Other code points seen so far (a text has few distinct ones). */
const OTHER_LETTERS = new Map<number, string>();
const MAX_REMEMBERED = 10_000;

/** The letters (a–z) a non-ASCII character reads as; '' for anything else (ignored between letters). */
function lettersOf(code: number): string {
  const known = OTHER_LETTERS.get(code);
  if (known !== undefined) return known;
  const char = String.fromCodePoint(code);
  let out = CONFUSABLE[char] ?? '';
  // NFKD: compatibility forms become plain letters, accents become combining marks (dropped below).
  if (!out) {
    for (const c of char.normalize('NFKD')) {
      const mapped = CONFUSABLE[c] ?? c.toLowerCase();
      if (/^[a-z]$/.test(mapped)) out += mapped;
    }
  }
  if (OTHER_LETTERS.size < MAX_REMEMBERED) OTHER_LETTERS.set(code, out);
  return out;
}

const WORD_CODES = [...WORD].map((c) => c.charCodeAt(0));
const LAST = WORD_CODES[WORD_CODES.length - 1]!;

/** Where each look-alike starts (string index of its first letter), in order. */
export function lookAlikes(text: string): number[] {
  // The last letters read and where each came from, in a ring: constant memory for any text size.
  const size = WORD_CODES.length;
  const letters = new Uint8Array(size);
  const from = new Float64Array(size);
  let n = 0;
  const starts: number[] = [];
  const push = (letter: number, at: number) => {
    letters[n % size] = letter;
    from[n % size] = at;
    n++;
    if (letter !== LAST || n < size) return;
    for (let k = 0; k < size; k++) if (letters[(n - size + k) % size] !== WORD_CODES[k]) return;
    const start = from[(n - size) % size]!;
    if (!insideMarker(text, start)) starts.push(start);
  };
  for (let i = 0; i < text.length;) {
    const unit = text.charCodeAt(i);
    if (unit < 0x80) {
      const letter = ASCII_LETTER[unit]!;
      if (letter) push(letter, i);
      i++;
      continue;
    }
    const code = text.codePointAt(i)!;
    const got = lettersOf(code);
    for (let k = 0; k < got.length; k++) push(got.charCodeAt(k), i);
    i += code > 0xffff ? 2 : 1;
  }
  return starts;
}

/** Our own marker holds the word: it is no look-alike (marking twice would grow a message on every reply). */
function insideMarker(text: string, index: number): boolean {
  return MARKERS.some((m) => {
    const from = text.lastIndexOf(m, index);
    return from >= 0 && index < from + m.length;
  });
}

/** Opening punctuation before the word (`[Sealpost]`, `**Sealpost`): the marker goes before it. */
const OPENING = /[[({<«„"'*_~【〔「『]/;
const MAX_BACK = 16;

/** Where the marker for a look-alike starting at `start` goes. */
function insertionPoint(text: string, start: number): number {
  let at = start;
  while (at > 0 && start - at < MAX_BACK && OPENING.test(text[at - 1]!)) at--;
  return at;
}

function alreadyMarked(text: string, at: number): boolean {
  const before = text.slice(Math.max(0, at - 64), at).trimEnd();
  return MARKERS.some((m) => before.endsWith(m));
}

/** Insertion points for the look-alikes of `text` (deduplicated, ascending), skipping marked ones. */
export function insertionPoints(text: string): number[] {
  const points = new Set<number>();
  for (const start of lookAlikes(text)) {
    const at = insertionPoint(text, start);
    if (!alreadyMarked(text, at)) points.add(at);
  }
  return [...points].sort((a, b) => a - b);
}

/** Plain text with every look-alike marked; `count` is how many markers were inserted. */
export function markText(text: string, language: NoticeLanguage): { text: string; count: number } {
  const points = insertionPoints(text);
  if (points.length === 0) return { text, count: 0 };
  return { text: insertAt(text, points, `${LOOK_ALIKE_MARKERS[language]} `), count: points.length };
}

export function insertAt(text: string, points: readonly number[], insert: string): string {
  let out = '';
  let pos = 0;
  for (const p of points) {
    out += text.slice(pos, p) + insert;
    pos = p;
  }
  return out + text.slice(pos);
}
