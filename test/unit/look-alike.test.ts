import assert from 'node:assert/strict';
import { decodeQuotedPrintable, quotedPrintable } from '../../keys/verdict-line/notice.ts';
import { markHtml } from '../../keys/verdict-line/look-alike-html.ts';
import { LOOK_ALIKE_MARKERS, lookAlikes, markText } from '../../keys/verdict-line/look-alike.ts';

/** keys/verdict-line/look-alike.ts: what counts as a look-alike of the visible line, and where its marker goes. */
const DE = LOOK_ALIKE_MARKERS.de;

describe('look-alikes of the visible line (keys/verdict-line/look-alike.ts)', () => {
  const disguised: [string, string][] = [
    ['plain', '[Sealpost] Verschlüsselt'],
    ['upper case', '[SEALPOST] Verschlüsselt'],
    ['zero-width space and soft hyphen', '[Seal\u200Bpo\u00ADst] Verschlüsselt'],
    ['bidi controls', '[Seal\u202Epost\u202C]'],
    ['Cyrillic letters', '[Ѕеаlроѕт]'],
    ['Greek letters', '[Sεαlρσst]'],
    ['capital I and digit zero', '[SeaIp0st]'],
    ['fullwidth', '[ＳＥＡＬＰＯＳＴ]'],
    ['mathematical bold', '[𝐒𝐞𝐚𝐥𝐩𝐨𝐬𝐭]'],
    ['accents', '[Séålpöšt]'],
    ['spaced out', '[S e a l - p o s t]'],
    ['across a line break', '[Seal\r\npost]'],
  ];
  for (const [name, text] of disguised) {
    it(`finds "Sealpost" ${name}`, () => {
      assert.equal(lookAlikes(text).length, 1);
      assert.ok(markText(text, 'de').text.startsWith(`${DE} [`));
    });
  }

  it('finds nothing in ordinary text', () => {
    assert.deepEqual(lookAlikes('Ein Siegel auf der Post. Seal the letter; post it.'), []);
  });

  it('marks each line once, keeps quote markers in front, and never marks its own marker', () => {
    const once = markText('> > [Sealpost] A\r\nB [Sealpost] C', 'de');
    assert.equal(once.count, 2);
    assert.equal(once.text, `> > ${DE} [Sealpost] A\r\nB ${DE} [Sealpost] C`);
    assert.deepEqual(markText(once.text, 'de'), { text: once.text, count: 0 });
    assert.equal(markText(once.text, 'en').count, 0, 'a marker in the other language counts too');
  });

  it('marks HTML in place, through entities and tags, and in conditional comments', () => {
    const out = markHtml(
      '<p>x &#91;&#83;eal<b>post</b>]</p><!--[if mso]><p>[Sealpost]</p><![endif]-->',
      'de',
    );
    assert.equal(out.count, 2);
    assert.equal(
      out.html,
      `<p>x ${DE} &#91;&#83;eal<b>post</b>]</p><!--[if mso]><p>${DE} [Sealpost]</p><![endif]-->`,
    );
  });

  it('counts look-alikes where no marker can go: style sheets and shown attributes', () => {
    const out = markHtml(
      '<style>p::before{content:"[Sealpost]"}</style><img alt="Sealpost" title="Sealpost">',
      'de',
    );
    assert.deepEqual([out.count, out.hidden], [0, 3]);
    assert.equal(
      markHtml('<a href="https://sealpost.example/">x</a>', 'de').hidden,
      0,
      'a link target is not shown',
    );
  });

  it('decodes quoted-printable as it is encoded', () => {
    const data = Buffer.from('Grüße =\r\n[Sealpost]\r\n', 'utf8');
    assert.deepEqual(decodeQuotedPrintable(quotedPrintable(data)), data);
    assert.equal(decodeQuotedPrintable(Buffer.from('=5BSeal=\r\npost=5D')).toString(), '[Sealpost]');
  });
});
