import iconv from 'iconv-lite';

/**
 * Issue 19's table: a sentence with non-ASCII letters in each charset (one its script can write), and a
 * message that carries it as body and as encoded-word subject. Used by test/unit/pickup-charsets and
 * test/browser/pickup-charsets.
 */
const LATIN = 'Grüße aus Köln: schöne Äpfel für Frau Müller';
const ALL = 'Grüße – Привет – こんにちは – 안녕하세요 – 你好世界 – €';
export const CHARSET_TABLE: { charset: string; sentence: string }[] = [
  { charset: 'UTF-7', sentence: ALL },
  { charset: 'UTF-8', sentence: ALL },
  { charset: 'ISO-8859-1', sentence: LATIN },
  { charset: 'ISO-8859-15', sentence: `${LATIN}, 5 €` },
  { charset: 'windows-1252', sentence: `${LATIN} – 5 €` },
  { charset: 'KOI8-R', sentence: 'Привет из Москвы, дорогая Анна' },
  { charset: 'ISO-2022-JP', sentence: 'こんにちは、東京から。診察の予約です' },
  { charset: 'Shift_JIS', sentence: 'こんにちは、東京から。診察の予約です' },
  { charset: 'EUC-KR', sentence: '안녕하세요, 서울에서 인사드립니다' },
  { charset: 'GB18030', sentence: ALL },
  { charset: 'Big5', sentence: '你好，來自臺北的問候' },
];

/** iconv-lite writes every charset of the table but ISO-2022-JP: that one is EUC-JP's JIS X 0208 bytes
 * without their high bit between `ESC $ B` and `ESC ( B` (RFC 1468). */
export function encode(text: string, charset: string): Buffer {
  if (charset.toUpperCase() !== 'ISO-2022-JP') return iconv.encode(text, charset);
  const parts = text
    .split(/([^\p{ASCII}]+)/u)
    .map((run, i) =>
      i % 2 === 0
        ? Buffer.from(run, 'latin1')
        : Buffer.concat([
            Buffer.from('\x1b$B', 'latin1'),
            Buffer.from(iconv.encode(run, 'euc-jp').map((b) => b & 0x7f)),
            Buffer.from('\x1b(B', 'latin1'),
          ]),
    );
  return Buffer.concat(parts);
}

export function mimeIn(charset: string, sentence: string, subject = sentence): Buffer {
  const body = encode(`${sentence}\r\n`, charset);
  const word = `=?${charset}?B?${encode(subject, charset).toString('base64')}?=`;
  return Buffer.from(
    [
      'From: Praxis <anna@praxis.example>',
      'To: max@example.org',
      `Subject: ${word}`,
      'Message-ID: <charset-test@praxis.example>',
      'MIME-Version: 1.0',
      `Content-Type: text/plain; charset=${charset}`,
      'Content-Transfer-Encoding: base64',
      '',
      body.toString('base64'),
      '',
    ].join('\r\n'),
  );
}
