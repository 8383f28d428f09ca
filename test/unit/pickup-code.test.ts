import assert from 'node:assert/strict';
import { formatAccessCode, newAccessCode, normaliseAccessCode } from '../../keys/access-code.ts';
import { checkCode, normalisePassphrase, passphraseStrength } from '../../webmail/pickup/src/lib/code.ts';

/**
 * The pickup app's code entry (webmail/pickup/src/lib/code.ts) must derive from exactly the string the
 * server derived from (keys/access-code.ts), and report typing errors before any request.
 */
describe('pickup app: access code and passphrase entry', () => {
  it('accepts what people type for real codes and agrees with the server', () => {
    for (let i = 0; i < 300; i++) {
      const code = newAccessCode();
      const variants = [
        formatAccessCode(code),
        code.toLowerCase(),
        formatAccessCode(code).replace(/-/g, ' '),
        ` ${formatAccessCode(code).replace(/-/g, '–')} `,
        code.replace(/0/g, 'O').replace(/1/g, i % 2 ? 'I' : 'l'),
      ];
      for (const typed of variants) {
        const check = checkCode(typed);
        assert.deepEqual(check, { ok: true, code }, typed);
        assert.equal(normaliseAccessCode(typed), code, `server agrees on ${typed}`);
      }
    }
  });

  const refused: [string, ReturnType<typeof checkCode>][] = [
    ['', { ok: false, problem: 'empty' }],
    [' - ', { ok: false, problem: 'empty' }],
    ['7F3K-Q9XD-2', { ok: false, problem: 'length', length: 9 }],
    ['7F3K-Q9XD-2MM', { ok: false, problem: 'length', length: 11 }],
    ['7F3K-Q9XD-2U', { ok: false, problem: 'character', characters: 'U' }],
    ['ÄF3K-Q9XD-2u', { ok: false, problem: 'character', characters: 'Ä U' }],
    ['7F3K-Q9XD-ЖM', { ok: false, problem: 'character', characters: 'Ж' }],
  ];
  for (const [typed, want] of refused) {
    it(`refuses ${JSON.stringify(typed)} before deriving (${want.ok ? '' : want.problem})`, () => {
      assert.deepEqual(checkCode(typed), want);
      assert.equal(normaliseAccessCode(typed), undefined, 'the server refuses it too');
    });
  }

  it('normalises a passphrase to NFC without surrounding white space', () => {
    const composed = 'Blaue Wolken über Köln';
    const decomposed = ' Blaue Wolken u\u0308ber Ko\u0308ln \n';
    assert.notEqual(composed, decomposed.trim());
    assert.equal(normalisePassphrase(decomposed), composed);
  });

  it('hints at strength from length and character classes, not from repetition', () => {
    assert.equal(passphraseStrength('aaaaaaaaaaaaaaaa').level, 0, 'one letter repeated is weak');
    assert.equal(passphraseStrength('korrektpferd').level, 1);
    const strong = passphraseStrength('Blaue Wolken über Köln 42!');
    assert.equal(strong.level, 3);
    assert.equal(strong.classes, 5);
    assert.equal(strong.length, 26);
    assert.ok(passphraseStrength('abcdefghijkl').level <= passphraseStrength('abcdEFGH1234!?').level);
  });
});
