/**
 * The access code and the passphrase as docs/pickup.md defines them, checked before any key is derived:
 * the browser must derive from exactly the string the server derived from when it issued the code.
 * (keys/access-code.ts is the server's copy; test/unit/pickup-code.test.ts pins the two together.)
 */
export const CODE_ALPHABET = '0123456789ABCDEFGHJKMNPQRSTVWXYZ'; // Crockford base32
export const CODE_LENGTH = 10;
export const MIN_PASSPHRASE = 12;

export type CodeCheck =
  | { ok: true; code: string }
  | { ok: false; problem: 'empty' }
  | { ok: false; problem: 'character'; characters: string }
  | { ok: false; problem: 'length'; length: number };

/**
 * What a person typed → the code: upper case, separators (anything not a letter or digit) dropped, the
 * letters people confuse with digits mapped (O→0, I/L→1). A letter outside the alphabet (U, or a non-Latin
 * letter) is a typing error reported before deriving, never silently dropped.
 */
export function checkCode(input: string): CodeCheck {
  const code = input
    .toUpperCase()
    .replace(/[^\p{L}\p{N}]/gu, '')
    .replace(/O/g, '0')
    .replace(/[IL]/g, '1');
  if (code.length === 0) return { ok: false, problem: 'empty' };
  const wrong = [...new Set([...code].filter((ch) => !CODE_ALPHABET.includes(ch)))];
  if (wrong.length > 0) return { ok: false, problem: 'character', characters: wrong.join(' ') };
  if (code.length !== CODE_LENGTH) return { ok: false, problem: 'length', length: [...code].length };
  return { ok: true, code };
}

/** A passphrase as it is derived from: Unicode NFC, surrounding white space removed. */
export function normalisePassphrase(input: string): string {
  return input.normalize('NFC').trim();
}

/** Length in characters (code points), as people count them. */
export function charLength(s: string): number {
  return [...s].length;
}

export interface Strength {
  /** 0 weak … 3 strong; a hint only: the rule is MIN_PASSPHRASE characters. */
  level: 0 | 1 | 2 | 3;
  length: number;
  classes: number;
}

/**
 * A rough strength hint from length and character classes (lower, upper, digits, symbols, other scripts):
 * bits ≈ length × log2(pool). No dictionary: a small, honest hint, not a promise.
 */
export function passphraseStrength(input: string): Strength {
  const s = normalisePassphrase(input);
  const chars = [...s];
  const pools: [RegExp, number][] = [
    [/[a-z]/, 26],
    [/[A-Z]/, 26],
    [/[0-9]/, 10],
    [/[!-/:-@[-`{-~ ]/, 33],
    [/[^\x20-\x7e]/u, 100],
  ];
  let pool = 0;
  let classes = 0;
  for (const [re, size] of pools) {
    if (chars.some((ch) => re.test(ch))) {
      pool += size;
      classes++;
    }
  }
  const bits = chars.length * Math.log2(Math.max(pool, 2));
  // Repeating one character adds length but little entropy: count distinct characters too.
  const distinct = new Set(chars).size;
  const effective = Math.min(bits, distinct * 2 * Math.log2(Math.max(pool, 2)));
  const level = effective >= 90 ? 3 : effective >= 70 ? 2 : effective >= 50 ? 1 : 0;
  return { level, length: chars.length, classes };
}
