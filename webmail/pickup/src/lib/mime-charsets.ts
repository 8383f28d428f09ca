import PostalMime from 'postal-mime';
import { fromBase64, toBase64 } from './bytes.ts';
import { decodeCharset, isNativeLabel } from './charset.ts';

/**
 * postal-mime decodes with `TextDecoder` alone and silently falls back to windows-1252 for any other
 * label: a UTF-7 body or encoded word came out as `Fr+APY-sche`. This module makes it decode as the
 * server's parser does (charset.ts), in two places of its MIME node class, on its prototype, once:
 *
 * - `getTextContent` (every text body, nested messages included) decodes with `decodeCharset`;
 * - `processHeaders` rewrites each run of RFC 2047 encoded words whose charset TextDecoder does not know
 *   (in every header field, and in `filename`/`name` parameters) into one `=?utf-8?B?…?=` word of the
 *   same text, so that postal-mime's own subject, address and file name parsing reads it unchanged.
 *
 * Both run synchronously inside `PostalMime.parse`; `withCharsetNotes` collects the labels that were not
 * recognised during one parse (parses are serialised by the caller). These are postal-mime internals (not
 * in its types): `installed` fails loudly when they are gone, and test/unit/pickup-charsets.test.ts reads
 * every charset through the real parser.
 */
interface Params {
  [name: string]: string | undefined;
}
interface Node {
  content: ArrayBuffer | Uint8Array | null;
  contentType: { parsed: { params: Params } };
  contentDisposition: { parsed: { params: Params } };
  headers: { key: string; value: string }[];
  decodeFlowedText(str: string, delSp: boolean): string;
  getTextContent(): string;
  processHeaders(): void;
}

let unknown: Set<string> | undefined;

function note(label: string | undefined): void {
  unknown?.add(
    Array.from(label ?? '')
      .slice(0, 40)
      .join(''),
  );
}

function install(): true {
  const root = (new PostalMime() as unknown as { root?: object }).root;
  const proto = root ? (Object.getPrototypeOf(root) as Partial<Node>) : undefined;
  const processHeaders = proto?.processHeaders;
  if (!proto || typeof proto.getTextContent !== 'function' || typeof processHeaders !== 'function') {
    throw new Error('postal-mime: MIME node internals changed; charsets cannot be decoded');
  }
  proto.getTextContent = function (this: Node): string {
    if (!this.content) return '';
    const params = this.contentType.parsed.params;
    const bytes = this.content instanceof Uint8Array ? this.content : new Uint8Array(this.content);
    const { text, known } = decodeCharset(bytes, params.charset);
    if (!known) note(params.charset);
    return /^flowed$/i.test(params.format ?? '')
      ? this.decodeFlowedText(text, /^yes$/i.test(params.delsp ?? ''))
      : text;
  };
  proto.processHeaders = function (this: Node): void {
    processHeaders.call(this);
    for (const header of this.headers) header.value = transcodeWords(header.value);
    for (const params of [this.contentType.parsed.params, this.contentDisposition.parsed.params]) {
      for (const name of ['filename', 'name']) {
        const value = params[name];
        if (value) params[name] = transcodeWords(value);
      }
    }
  };
  return true;
}

const installed = install();

/** Run one parse and return what it found, with the labels no decoder knew. */
export async function withCharsetNotes<T>(
  parse: () => Promise<T>,
): Promise<{ result: T; unknown: string[] }> {
  if (!installed) throw new Error('unreachable');
  unknown = new Set();
  try {
    const result = await parse();
    return { result, unknown: [...unknown] };
  } finally {
    unknown = undefined;
  }
}

const WORD = /=\?([^?\s]+)\?([QqBb])\?([^?]*)\?=/g;

/**
 * Every run of adjacent encoded words (only white space between them) in one charset that TextDecoder does
 * not know → one UTF-8 encoded word of the decoded text. The bytes of a run are joined before decoding, as
 * RFC 2047 section 6.2 allows a character to be split across words.
 */
export function transcodeWords(value: string): string {
  if (!value.includes('=?')) return value;
  const words = [...value.matchAll(WORD)];
  let out = '';
  let pos = 0;
  for (let i = 0; i < words.length;) {
    const first = words[i]!;
    const charset = first[1]!;
    let j = i + 1;
    while (j < words.length) {
      const prev = words[j - 1]!;
      const gap = value.slice(prev.index + prev[0].length, words[j]!.index);
      if (!/^\s*$/.test(gap) || words[j]![1]!.toLowerCase() !== charset.toLowerCase()) break;
      j++;
    }
    if (!isNativeLabel(charset)) {
      const run = words.slice(i, j);
      const last = run.at(-1)!;
      const bytes = concat(run.map((w) => wordBytes(w[2]!, w[3]!)));
      const { text, known } = decodeCharset(bytes, charset);
      if (!known) note(charset);
      out += value.slice(pos, first.index) + `=?utf-8?B?${toBase64(new TextEncoder().encode(text))}?=`;
      pos = last.index + last[0].length;
    }
    i = j;
  }
  return out + value.slice(pos);
}

function wordBytes(encoding: string, text: string): Uint8Array {
  if (encoding.toUpperCase() === 'B') {
    const clean = text.replace(/[^A-Za-z0-9+/]/g, '');
    const usable = clean.slice(0, clean.length - (clean.length % 4 === 1 ? 1 : 0));
    return fromBase64(usable + '='.repeat((4 - (usable.length % 4)) % 4));
  }
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    const hex = c === '=' ? /^[0-9A-Fa-f]{2}$/.exec(text.slice(i + 1, i + 3)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 2;
    } else {
      bytes.push(c === '_' ? 0x20 : c.charCodeAt(0) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

function concat(parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    all.set(p, at);
    at += p.length;
  }
  return all;
}
