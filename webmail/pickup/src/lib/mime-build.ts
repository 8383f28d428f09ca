import { randomHex, toBase64, utf8 } from './bytes.ts';

/**
 * The reply as an RFC 5322 / MIME entity, built by hand (docs/pickup.md "Replies"): CRLF line ends, UTF-8
 * text in base64, attachments in base64, RFC 2047 encoded words for a non-ASCII subject or display name,
 * RFC 2231 for non-ASCII file names. Nothing a person typed can add a header line: control characters are
 * removed from every header value.
 */
export interface ReplyAttachment {
  name: string;
  type: string;
  bytes: Uint8Array;
}

export interface ReplyInput {
  from: string; // the contact's address
  /** The name the client gave for the reply's From (optional). */
  fromName?: string;
  to: { address: string; name?: string };
  subject: string;
  text: string;
  date: Date;
  /** The domain right of the @ in the new Message-ID (the public host). */
  host: string;
  /** The original's Message-ID (`<…>`), when it has a valid one. */
  inReplyTo?: string;
  /** The original's References, to which its Message-ID is appended. */
  references?: string;
  attachments: ReplyAttachment[];
}

const CRLF = '\r\n';
// 52 base64 chars + `=?UTF-8?B?` + `?=` = 64 ≤ 75 (RFC 2047 §2), so that `Subject: ` and a word fit in 78
const ENCODED_WORD_BYTES = 39;
const MSG_ID = /^<[^<>\s@]+@[^<>\s@]+>$/;

/** Header values never carry CR, LF or other controls: what a person typed cannot add a field. */
export function headerSafe(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f]+/g, ' ').trim();
}

const isAscii = (s: string) => /^[\x20-\x7e]*$/.test(s);

/** RFC 2047 B-encoded words of at most 75 characters, never splitting a character. */
export function encodeWords(s: string): string {
  const words: string[] = [];
  let chunk: number[] = [];
  const flush = () => {
    if (chunk.length) words.push(`=?UTF-8?B?${toBase64(Uint8Array.from(chunk))}?=`);
    chunk = [];
  };
  for (const ch of s) {
    const bytes = utf8(ch);
    if (chunk.length + bytes.length > ENCODED_WORD_BYTES) flush();
    chunk.push(...bytes);
  }
  flush();
  return words.join(`${CRLF} `);
}

/** An unstructured value (Subject): as is when ASCII (folded at spaces), else encoded words. */
export function unstructured(value: string): string {
  const v = headerSafe(value);
  if (!isAscii(v) || /=\?/.test(v)) return encodeWords(v);
  return foldAscii(v);
}

function foldAscii(v: string): string {
  const out: string[] = [];
  let line = '';
  for (const word of v.split(' ')) {
    if (line && line.length + word.length + 1 > 76) {
      out.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  out.push(line);
  return out.join(`${CRLF} `);
}

/** `Name <addr>` with the name quoted (ASCII) or encoded (RFC 2047 allows encoded words in a phrase). */
export function mailbox(address: string, name?: string): string {
  const addr = headerSafe(address).replace(/[<>\s]/g, '');
  const n = name ? headerSafe(name) : '';
  if (!n) return `<${addr}>`;
  const phrase = isAscii(n) ? `"${n.replace(/(["\\])/g, '\\$1')}"` : encodeWords(n);
  return `${phrase} <${addr}>`;
}

function percent(s: string): string {
  return Array.from(utf8(s), (b) =>
    /[A-Za-z0-9!#$&+.^_`|~-]/.test(String.fromCharCode(b))
      ? String.fromCharCode(b)
      : `%${b.toString(16).toUpperCase().padStart(2, '0')}`,
  ).join('');
}

/**
 * The file name parameters: `name`/`filename` quoted when ASCII; otherwise RFC 2231 `filename*` (in
 * continuations when long) plus an RFC 2047 `name` that older clients (Outlook) read.
 */
export function fileParams(rawName: string): { type: string; disposition: string } {
  const name = headerSafe(rawName).replace(/[/\\]/g, '_') || 'attachment';
  if (isAscii(name) && name.length <= 60) {
    const quoted = `"${name.replace(/(["\\])/g, '\\$1')}"`;
    return { type: `name=${quoted}`, disposition: `filename=${quoted}` };
  }
  const encoded = percent(name);
  const pieces: string[] = [];
  for (let i = 0; i < encoded.length;) {
    let end = Math.min(encoded.length, i + 54);
    // never cut a %XX triple
    if (encoded[end - 1] === '%') end -= 1;
    else if (encoded[end - 2] === '%') end -= 2;
    pieces.push(encoded.slice(i, end));
    i = end;
  }
  const disposition =
    pieces.length === 1
      ? `filename*=UTF-8''${pieces[0]}`
      : pieces.map((p, i) => `filename*${i}*=${i === 0 ? "UTF-8''" : ''}${p}`).join(`;${CRLF} `);
  return { type: `name="${encodeWords(name)}"`, disposition };
}

/** Base64 in lines of 76 characters (RFC 2045 §6.8). */
export function base64Lines(bytes: Uint8Array): string {
  const b64 = toBase64(bytes);
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join(CRLF);
}

function contentType(t: string): string {
  return /^[A-Za-z0-9!#$&.+^_-]+\/[A-Za-z0-9!#$&.+^_-]+$/.test(t)
    ? t.toLowerCase()
    : 'application/octet-stream';
}

/**
 * A text attachment names its charset (else a reader guesses US-ASCII): UTF-8 when the bytes are valid
 * UTF-8, else windows-1252, what a text file from a German desktop that is not UTF-8 almost always is.
 */
function textCharset(type: string, bytes: Uint8Array): string {
  if (!/^text\//i.test(contentType(type))) return '';
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    return ' charset=utf-8;';
  } catch {
    return ' charset=windows-1252;';
  }
}

function rfc5322Date(d: Date): string {
  return d.toUTCString().replace('GMT', '+0000');
}

function threadFields(input: ReplyInput): string[] {
  const parent = input.inReplyTo && MSG_ID.test(input.inReplyTo) ? input.inReplyTo : undefined;
  if (!parent) return [];
  const earlier = (input.references ?? '').split(/\s+/).filter((r) => MSG_ID.test(r) && r !== parent);
  return [`In-Reply-To: ${parent}`, `References: ${[...earlier.slice(-10), parent].join(`${CRLF} `)}`];
}

export function buildReply(input: ReplyInput): { bytes: Uint8Array; messageId: string } {
  const messageId = `<${randomHex(16)}@${headerSafe(input.host).replace(/[^A-Za-z0-9.-]/g, '') || 'localhost'}>`;
  const head = [
    `From: ${mailbox(input.from, input.fromName)}`,
    `To: ${mailbox(input.to.address, input.to.name)}`,
    `Subject: ${unstructured(input.subject)}`,
    `Date: ${rfc5322Date(input.date)}`,
    `Message-ID: ${messageId}`,
    ...threadFields(input),
    'MIME-Version: 1.0',
  ];
  const textPart = [
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: base64',
    '',
    base64Lines(utf8(input.text.replace(/\r?\n/g, CRLF))),
  ];
  let body: string[];
  if (input.attachments.length === 0) {
    body = textPart;
  } else {
    const boundary = `sealpost-${randomHex(12)}`;
    body = [`Content-Type: multipart/mixed; boundary="${boundary}"`, '', 'This is a MIME message.'];
    body.push(`--${boundary}`, ...textPart);
    for (const a of input.attachments) {
      const p = fileParams(a.name);
      body.push(
        `--${boundary}`,
        `Content-Type: ${contentType(a.type)};${textCharset(a.type, a.bytes)}${CRLF} ${p.type}`,
        `Content-Disposition: attachment;${CRLF} ${p.disposition}`,
        'Content-Transfer-Encoding: base64',
        '',
        base64Lines(a.bytes),
      );
    }
    body.push(`--${boundary}--`, '');
  }
  return { bytes: utf8([...head, ...body].join(CRLF)), messageId };
}
