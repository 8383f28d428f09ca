import assert from 'node:assert/strict';
import { displayText, fileName } from '../../webmail/pickup/src/lib/display.ts';

/**
 * The pickup app's neutralising of strings from a message (webmail/pickup/src/lib/display.ts): no bidi
 * control or invisible format character survives, control characters and path separators do not reach a
 * download name, and ordinary names in any script are left as they are. The browser tests show the same
 * on the page (test/security/pickup-attachment-bidi-name.test.ts, pickup-bidi-subject-sender.test.ts).
 */
const BIDI = [
  '\u202A',
  '\u202B',
  '\u202C',
  '\u202D',
  '\u202E',
  '\u2066',
  '\u2067',
  '\u2068',
  '\u2069',
  '\u200E',
  '\u200F',
  '\u061C',
];
const INVISIBLE = ['\u200B', '\u2060', '\uFEFF', '\u00AD', '\u180E', '\u3164', '\u115F', '\u{E0041}'];

describe('pickup app: strings from a message are neutralised for display and download', () => {
  it('removes every bidi control and invisible format character', () => {
    for (const c of [...BIDI, ...INVISIBLE]) {
      const code = c.codePointAt(0)!.toString(16);
      assert.equal(displayText(`a${c}b`), 'ab', `U+${code} in text`);
      assert.equal(fileName(`a${c}b.txt`, 'x'), 'ab.txt', `U+${code} in a file name`);
    }
  });

  const names: [string, string][] = [
    ['invoice\u202Efdp.exe', 'invoicefdp.exe'],
    ['Bild\u2066\u202Egnp\u2069.js', 'Bildgnp.js'],
    ['Rechnung\u200F\u061C.pdf\u202C', 'Rechnung.pdf'],
    ['../../etc/passwd', '_.._etc_passwd'],
    ['C:\\Windows\\evil.bat', 'C__Windows_evil.bat'],
    ['tab\there\u0007\u0000.txt', 'tab_here__.txt'],
    ['a\u0085b\u009Bc.txt', 'a_b_c.txt'],
    ['what?*<>|".doc', 'what______.doc'],
    ['  .hidden  ', 'hidden'],
    ['name.  ', 'name'],
    ['...', 'fallback'],
    ['\u202E', 'fallback'],
    ['', 'fallback'],
    ['Befund Müller.pdf', 'Befund Müller.pdf'],
    ['שלום עולם.pdf', 'שלום עולם.pdf'],
    ['گزارش\u200Cها.pdf', 'گزارش\u200Cها.pdf'], // ZWNJ belongs to Persian words and stays
    ['👩\u200D👩\u200D👧.png', '👩\u200D👩\u200D👧.png'], // ZWJ joins emoji and stays
  ];
  // Titles show the code points escaped: the controls themselves would garble the test report.
  const show = (s: string) =>
    JSON.stringify(s).replace(/[^\x20-\x7e]/gu, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`);
  for (const [name, expected] of names) {
    it(`file name ${show(name)} → ${show(expected)}`, () => {
      assert.equal(fileName(name, 'fallback'), expected);
    });
  }

  it('caps a long file name at 120 characters and keeps its extension', () => {
    const long = `${'ä'.repeat(300)}.pdf`;
    const out = fileName(long, 'x');
    assert.equal(Array.from(out).length, 120);
    assert.ok(out.endsWith('.pdf'));
    assert.equal(Array.from(fileName('😀'.repeat(200), 'x')).length, 120, 'whole code points');
  });

  it('turns control characters and line separators in text into spaces, and leaves the rest', () => {
    assert.equal(displayText('Betreff\r\nX-Injected: y'), 'Betreff  X-Injected: y');
    assert.equal(displayText('a\u2028b\u2029c\u0000d'), 'a b c d');
    assert.equal(displayText('Praxis Dr. Berg – Ärztin'), 'Praxis Dr. Berg – Ärztin');
    assert.equal(displayText('مرحبا Anna'), 'مرحبا Anna');
  });
});
