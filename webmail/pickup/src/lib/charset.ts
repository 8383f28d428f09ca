// eslint-disable-next-line @typescript-eslint/triple-slash-reference -- the root tsconfig (unit tests) excludes src/
/// <reference path="./iconv-tables.d.ts" />
import sbcsData from 'iconv-lite/encodings/sbcs-data.js';
import sbcsGenerated from 'iconv-lite/encodings/sbcs-data-generated.js';

/**
 * Bytes in a declared charset → text, for every charset the server's parser reads (mailparser on
 * iconv-lite), not only those the browser's `TextDecoder` knows (the WHATWG Encoding Standard):
 *
 * 1. what `TextDecoder` decodes, under its own labels or the spellings mail programs use (`x-`, `cs`,
 *    `cp932`, `ks_c_5601-1987`, … as postal-mime aliases them);
 * 2. UTF-7 (RFC 2152: old Outlook and Exchange, some mailing lists), decoded here — the browser has none;
 * 3. UTF-32 and the single-byte code pages that only iconv-lite has (cp437, cp850, mac*, …), from
 *    iconv-lite's own tables (data only: no Buffer, no codec code in the bundle);
 * 4. anything else: UTF-8 when the bytes are valid UTF-8, else windows-1252, with `known: false` so that
 *    the reader says the text may look wrong. Never raw bytes, never an exception.
 *
 * The result is text: it is escaped or sanitised by its caller like any other text (sanitize.ts), so a
 * UTF-7 `+ADw-script+AD4-` reaches the page only as decoded characters, never as markup of its own.
 */
export interface Decoded {
  text: string;
  /** False when the label was not recognised and a fallback decoded the bytes. */
  known: boolean;
}

type Table = string | { type: string; chars: string };
const TABLES = { ...(sbcsGenerated as Record<string, Table>), ...(sbcsData as Record<string, Table>) };

/** postal-mime's aliases for labels that TextDecoder knows under another name (decode-strings.ts). */
const ALIASES: Record<string, string> = {
  iso88598i: 'iso-8859-8',
  iso88598e: 'iso-8859-8',
  shiftjis: 'shift_jis',
  windows31j: 'shift_jis',
  mskanji: 'shift_jis',
  eucjp: 'euc-jp',
  iso2022jp: 'iso-2022-jp',
  iso2022jp1: 'iso-2022-jp',
  iso2022jp2: 'iso-2022-jp',
  junet: 'iso-2022-jp',
  euckr: 'euc-kr',
  uhc: 'euc-kr',
  tis620: 'windows-874',
};
const CODE_PAGES: Record<string, string> = {
  '932': 'shift_jis',
  '936': 'gbk',
  '949': 'euc-kr',
  '950': 'big5',
  '874': 'windows-874',
  '51932': 'euc-jp',
  '50220': 'iso-2022-jp',
  '50221': 'iso-2022-jp',
  '50222': 'iso-2022-jp',
};
const UTF7 = new Set(['utf7', 'unicode11utf7', 'csunicode11utf7']);
const UTF32 = new Set(['utf32', 'utf32le', 'utf32be', 'ucs4', 'ucs4le', 'ucs4be']);

/** What TextDecoder offers here (the root tsconfig has no DOM types). */
interface Decoder {
  readonly encoding: string;
  decode(bytes: Uint8Array): string;
}

/** One decoder per label, or null where TextDecoder refuses it (a label can not grow this past the table). */
const native = new Map<string, Decoder | null>();

function textDecoder(label: string): Decoder | null {
  let d = native.get(label);
  if (d === undefined) {
    d = null;
    try {
      const candidate = new TextDecoder(label);
      // WHATWG maps iso-2022-kr, hz-gb-2312, … to "replacement": one U+FFFD for the whole text.
      if (candidate.encoding !== 'replacement') d = candidate;
    } catch {
      // not a label of the Encoding Standard
    }
    if (native.size < 512) native.set(label, d);
  }
  return d;
}

/** The label as a mail program writes it → a TextDecoder, when one of the spellings is known. */
function findTextDecoder(label: string): Decoder | null {
  const direct = textDecoder(label);
  if (direct) return direct;
  const normal = label.replace(/^(?:x-ms-|x-|cs)/, '').replace(/[\s._-]+/g, '');
  const page = /^(?:cp|windows|ms|ibm)(\d+)$/.exec(normal)?.[1];
  const alias = (page && CODE_PAGES[page]) || ALIASES[normal];
  return (alias && textDecoder(alias)) || textDecoder(normal);
}

/** iconv-lite's single-byte table for the label (its own canonical form and alias chain). */
function findTable(label: string): string | undefined {
  let name = label.replace(/:\d{4}$|[^0-9a-z]/g, '');
  for (let hops = 0; hops < 8; hops++) {
    const entry: Table | undefined = Object.hasOwn(TABLES, name) ? TABLES[name] : undefined;
    if (entry === undefined) return undefined;
    if (typeof entry === 'object') return entry.type === '_sbcs' ? entry.chars : undefined;
    name = entry;
  }
  return undefined;
}

export function decodeCharset(bytes: Uint8Array, charset: string | undefined | null): Decoded {
  const label = (charset ?? '').trim().toLowerCase().replace(/\*.*$/, '') || 'utf-8';
  const compact = label.replace(/^(?:x-|cs)/, '').replace(/[^0-9a-z]/g, '');
  if (UTF7.has(compact)) return { text: decodeUtf7(bytes), known: true };
  const decoder = findTextDecoder(label);
  if (decoder) return { text: decoder.decode(bytes), known: true };
  if (UTF32.has(compact)) return { text: decodeUtf32(bytes, compact.endsWith('le')), known: true };
  const table = findTable(label);
  if (table) return { text: decodeTable(bytes, table), known: true };
  return { text: fallback(bytes), known: false };
}

/** Whether postal-mime's own decoding (TextDecoder under the label as written) already reads this label. */
export function isNativeLabel(charset: string): boolean {
  return textDecoder(charset.trim().toLowerCase().replace(/\*.*$/, '')) !== null;
}

function fallback(bytes: Uint8Array): string {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    return new TextDecoder('windows-1252').decode(bytes);
  }
}

function decodeTable(bytes: Uint8Array, chars: string): string {
  const high = chars.length === 128 ? chars : chars.slice(128);
  let out = '';
  for (const b of bytes) out += b < 0x80 ? String.fromCharCode(b) : (high[b - 0x80] ?? '\uFFFD');
  return out;
}

function decodeUtf32(bytes: Uint8Array, littleDefault: boolean): string {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let little = littleDefault;
  let start = 0;
  if (bytes.length >= 4) {
    const bom = view.getUint32(0, false);
    if (bom === 0x0000feff || bom === 0xfffe0000) {
      little = bom === 0xfffe0000;
      start = 4;
    }
  }
  let out = '';
  for (let i = start; i + 4 <= bytes.length; i += 4) {
    const cp = view.getUint32(i, little);
    out += cp <= 0x10ffff && (cp < 0xd800 || cp > 0xdfff) ? String.fromCodePoint(cp) : '\uFFFD';
  }
  return bytes.length % 4 === 0 ? out : out + '\uFFFD';
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const PLUS = 0x2b;
const MINUS = 0x2d;

/**
 * RFC 2152 UTF-7, read as iconv-lite reads it: `+` opens modified base64 of UTF-16 code units, which runs
 * to the first character outside the base64 alphabet (a `-` there is absorbed); `+-` is a plus sign.
 * Leftover bits of an incomplete code unit are dropped. A byte above 0x7F (not UTF-7) becomes U+FFFD.
 */
export function decodeUtf7(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    if (b !== PLUS) {
      out += b < 0x80 ? String.fromCharCode(b) : '\uFFFD';
      i++;
      continue;
    }
    i++;
    if (bytes[i] === MINUS) {
      out += '+';
      i++;
      continue;
    }
    let bits = 0;
    let acc = 0;
    while (i < bytes.length) {
      const v = B64.indexOf(String.fromCharCode(bytes[i]!));
      if (v < 0 || bytes[i]! >= 0x80) break;
      acc = ((acc << 6) | v) & 0xffffff;
      bits += 6;
      if (bits >= 16) {
        bits -= 16;
        out += String.fromCharCode((acc >> bits) & 0xffff);
      }
      i++;
    }
    if (bytes[i] === MINUS) i++;
  }
  return out;
}
