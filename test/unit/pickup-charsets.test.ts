import assert from 'node:assert/strict';
import fc from 'fast-check';
import iconv from 'iconv-lite';
import { simpleParser } from 'mailparser';
import { decodeCharset, decodeUtf7 } from '../../webmail/pickup/src/lib/charset.ts';
import { transcodeWords } from '../../webmail/pickup/src/lib/mime-charsets.ts';
import { readMime } from '../../webmail/pickup/src/lib/mime-read.ts';
import { CHARSET_TABLE, encode, mimeIn } from '../helpers/charsets.ts';

/**
 * Issue 19: the pickup app reads every charset the server's parser (mailparser on iconv-lite) reads — and
 * UTF-7, which the browser's TextDecoder lacks — in bodies and in encoded words, and says so when a label
 * is unknown. Each message is built with iconv-lite and read by both parsers: they must agree, but for
 * UTF-7, which libmime refuses on purpose (a filter-evasion trick) and the app decodes to text before it
 * sanitises anything (test/security/pickup-utf7-script-injection.test.ts).
 */
describe('pickup app: charsets as the server reads them', () => {
  // Node 20's TextDecoder reads windows-1252 as ISO-8859-1 (0x80 → U+0080, not €); Chromium's does not.
  const nodeReads1252 = new TextDecoder('windows-1252').decode(Uint8Array.of(0x80)) === '€';
  for (const { charset, sentence } of CHARSET_TABLE) {
    it(`${charset}: body and encoded-word subject read as text, as the server's parser reads them`, async function () {
      if (charset === 'windows-1252' && !nodeReads1252) this.skip(); // test/browser/pickup-charsets covers it
      const raw = mimeIn(charset, sentence);
      const app = await readMime(new Uint8Array(raw));
      assert.equal(app.subject, sentence);
      assert.equal(app.text?.trim(), sentence);
      assert.deepEqual(app.unknownCharsets, []);
      // mailparser (libmime) reads the same, except UTF-7, which it deliberately leaves undecoded.
      const server = await simpleParser(raw);
      const expected = charset === 'UTF-7' ? encode(sentence, charset).toString('latin1') : sentence;
      assert.equal(server.subject, expected, 'mailparser');
      assert.equal(server.text?.trim(), expected, 'mailparser');
    });
  }

  it('UTF-7 in an HTML part is decoded to text before anything reads it as HTML', async () => {
    const html = iconv.encode('<p>Grüße <b>fett</b></p>', 'utf-7');
    const raw = Buffer.from(
      `From: a@praxis.example\r\nSubject: x\r\nContent-Type: text/html; charset=utf-7\r\n\r\n${html.toString('latin1')}\r\n`,
    );
    const app = await readMime(new Uint8Array(raw));
    assert.equal(app.html?.trim(), '<p>Grüße <b>fett</b></p>');
  });

  it('UTF-7 display names in From and To, split across two encoded words', async () => {
    const name = iconv.encode('Frau Jürgens-Weiß', 'utf-7').toString('latin1');
    const cut = name.indexOf('+') + 3; // inside the base64 run
    const raw = Buffer.from(
      [
        `From: =?utf-7?Q?${name.slice(0, cut).replace(/ /g, '_')}?= =?utf-7?Q?${name.slice(cut).replace(/ /g, '_')}?= <j@praxis.example>`,
        `To: =?UTF-7?B?${Buffer.from(iconv.encode('Max Müller', 'utf-7')).toString('base64')}?= <max@example.org>`,
        'Subject: =?utf-7?Q?Fr+APY-sche?=',
        'Content-Type: text/plain; charset=utf-7',
        '',
        'Fr+APY-sche Gr+APw-+AN8-e',
        '',
      ].join('\r\n'),
    );
    const app = await readMime(new Uint8Array(raw));
    assert.deepEqual(app.from, { name: 'Frau Jürgens-Weiß', address: 'j@praxis.example' });
    assert.equal(app.to, 'Max Müller <max@example.org>');
    assert.equal(app.subject, 'Frösche');
    assert.equal(app.text?.trim(), 'Frösche Grüße');
  });

  it('code pages only iconv-lite has (cp850, macintosh Greek) and UTF-32 decode as on the server', async () => {
    for (const [charset, text] of [
      ['cp850', 'Grüße aus Köln'],
      ['ibm437', 'Grüße aus Köln'],
      ['macgreek', 'Καλημέρα'],
      ['utf-32le', 'Grüße 👋'],
      ['ks_c_5601-1987', '안녕하세요'],
      ['x-sjis', 'こんにちは'],
      ['cp936', '你好'],
    ] as const) {
      const decoded = decodeCharset(new Uint8Array(iconv.encode(text, charset)), charset);
      assert.deepEqual(decoded, { text, known: true }, charset);
    }
  });

  it('an unknown label: a fallback decode (UTF-8 when valid, else windows-1252), named for a notice', async () => {
    assert.deepEqual(decodeCharset(new TextEncoder().encode('Grüße'), 'x-unheard-of'), {
      text: 'Grüße',
      known: false,
    });
    assert.deepEqual(decodeCharset(Uint8Array.from([0x47, 0x72, 0xfc, 0xdf, 0x65]), 'x-unheard-of'), {
      text: 'Grüße',
      known: false,
    });
    const raw = Buffer.from(
      'From: a@praxis.example\r\nSubject: =?x-unheard-of?Q?Gr=C3=BC=C3=9Fe?=\r\n' +
        'Content-Type: text/plain; charset=x-unheard-of\r\n\r\nGr\xfc\xdfe\r\n',
      'latin1',
    );
    const app = await readMime(new Uint8Array(raw));
    assert.equal(app.subject, 'Grüße');
    assert.equal(app.text?.trim(), 'Grüße');
    assert.deepEqual(app.unknownCharsets, ['x-unheard-of']);
  });

  it('decodes UTF-7 exactly as iconv-lite does (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme', maxLength: 40 }), (s) => {
        const bytes = new Uint8Array(iconv.encode(s, 'utf-7'));
        assert.equal(decodeUtf7(bytes), s);
        assert.equal(decodeUtf7(bytes), iconv.decode(Buffer.from(bytes), 'utf-7'));
      }),
      { numRuns: 300 },
    );
    assert.equal(decodeUtf7(new TextEncoder().encode('1 +- 1 = 2')), '1 + 1 = 2');
  });

  it('leaves encoded words in charsets TextDecoder knows to postal-mime', () => {
    assert.equal(transcodeWords('=?iso-8859-1?Q?Gr=FC=DFe?= x'), '=?iso-8859-1?Q?Gr=FC=DFe?= x');
    assert.equal(transcodeWords('a =?utf-7?Q?Fr+APY-sche?= b'), `a =?utf-8?B?${btoa('Fr\xc3\xb6sche')}?= b`);
  });
});
