import iconv from 'iconv-lite';
import { MimeError, splitMessage, type HeaderField, type SplitMessage } from './mime.ts';

/**
 * One reading of a message (DESIGN.md invariant 8). Everything a peer sends passes `readAtEdge` before any
 * decision is made on it — in both SMTP listeners, and in the worker for a decrypted pickup reply — so that
 * no two parsers on the way (ours splits lines on LF; nodemailer turns a bare CR and a bare LF into CRLF
 * when it relays; mailparser, postal-mime and the practice's mail program each have their own) can see
 * different header fields. The rules, also in docs/gateway.md "One reading":
 *
 * - NUL anywhere: refused. Without BINARYMIME (neither listener offers it) 7bit and 8bit data never hold
 *   a NUL (RFC 2045 §2.7–2.8), and a reader written in C stops at it where ours goes on.
 * - A bare CR in the header section: refused. It is a line end for nodemailer, and not for us.
 * - Other control characters in the header section (but TAB), and U+0085, U+2028, U+2029: refused.
 * - A bare LF anywhere, and a bare CR in the body: rewritten to CRLF, as every relay does; every parser
 *   already takes a bare LF for a line end (the fuzzer checks mailparser and postal-mime), so this changes
 *   no field boundary, it only makes our bytes the ones that arrive.
 * - A continuation line of white space only: refused (some readers take it for the end of the header).
 * - A field that RFC 5322 §3.6 allows once (and the top MIME fields), twice: refused — readers disagree
 *   whether the first or the last counts.
 * - An encoded word (RFC 2047) or an RFC 2231 parameter that decodes to a control character: refused; a
 *   reader that decodes and writes the value into a new header would otherwise start a new field.
 * - More than 256 KiB or 1000 fields of header: refused (bounds the work; Exchange refuses more too).
 */
export type EdgeProblem =
  | 'nul'
  | 'bare-cr'
  | 'control'
  | 'blank-continuation'
  | 'duplicate-field'
  | 'encoded-control'
  | 'header-too-big'
  | 'invalid';

export type EdgeReading =
  { ok: true; raw: Buffer; split: SplitMessage } | { ok: false; problem: EdgeProblem };

/** The header section may hold at most this many bytes and fields (Exchange Online refuses > 256 KB). */
export const MAX_HEADER_BYTES = 256 * 1024;
export const MAX_HEADER_FIELDS = 1000;

/** RFC 5322 §3.6 (at most one each), and the MIME fields that decide how the body is read. */
const SINGLE = new Set([
  'date',
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'bcc',
  'message-id',
  'in-reply-to',
  'references',
  'subject',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
]);

const CR = 0x0d;
const LF = 0x0a;
/** Line separators outside ASCII, as UTF-8: NEL, LINE SEPARATOR, PARAGRAPH SEPARATOR. */
const UNICODE_BREAKS = [
  Buffer.from([0xc2, 0x85]),
  Buffer.from([0xe2, 0x80, 0xa8]),
  Buffer.from([0xe2, 0x80, 0xa9]),
];
// eslint-disable-next-line no-control-regex
const CONTROL_TEXT = /[\x00-\x08\x0a-\x1f\x7f\u0085\u2028\u2029]/;

export function readAtEdge(raw: Buffer): EdgeReading {
  if (raw.indexOf(0) >= 0) return { ok: false, problem: 'nul' };
  const end = headerSectionEnd(raw);
  if (end > MAX_HEADER_BYTES) return { ok: false, problem: 'header-too-big' };
  if (hasBareCr(raw, 0, end)) return { ok: false, problem: 'bare-cr' };
  const normalised = toCrlf(raw);
  let split: SplitMessage;
  try {
    split = splitMessage(normalised);
  } catch (err) {
    if (err instanceof MimeError) return { ok: false, problem: 'invalid' };
    throw err;
  }
  if (split.fields.length > MAX_HEADER_FIELDS) return { ok: false, problem: 'header-too-big' };
  const problem = sectionProblem(split.fields);
  return problem ? { ok: false, problem } : { ok: true, raw: normalised, split };
}

/**
 * Where the header section ends, as our LF-based parser sees it: the offset of the empty line (or the end).
 * Scanning stops just past MAX_HEADER_BYTES: a hostile header is never walked further than that.
 */
function headerSectionEnd(raw: Buffer): number {
  let pos = 0;
  while (pos < raw.length && pos <= MAX_HEADER_BYTES) {
    const lf = raw.indexOf(LF, pos);
    const end = lf < 0 ? raw.length : lf;
    if (end === pos || (end === pos + 1 && raw[pos] === CR)) return pos;
    if (lf < 0) return raw.length;
    pos = lf + 1;
  }
  return pos;
}

function hasBareCr(raw: Buffer, from: number, to: number): boolean {
  for (let i = raw.indexOf(CR, from); i >= 0 && i < to; i = raw.indexOf(CR, i + 1)) {
    if (raw[i + 1] !== LF) return true;
  }
  return false;
}

/**
 * Every bare CR and bare LF as CRLF — byte for byte what nodemailer's DataStream sends for the same input,
 * so that what we parse is what arrives. The input is returned as it is when it needs no change.
 */
export function toCrlf(raw: Buffer): Buffer {
  const at: number[] = []; // offsets after which (bare CR) or before which (bare LF) a byte is inserted
  let i = raw.indexOf(CR);
  let j = raw.indexOf(LF);
  while (i >= 0 || j >= 0) {
    if (i >= 0 && (j < 0 || i < j)) {
      if (raw[i + 1] !== LF) at.push(i + 1);
      i = raw.indexOf(CR, i + 1);
    } else {
      if (j === 0 || raw[j - 1] !== CR) at.push(j);
      j = raw.indexOf(LF, j + 1);
    }
  }
  if (at.length === 0) return raw;
  const out = Buffer.allocUnsafe(raw.length + at.length);
  let o = 0;
  let start = 0;
  for (const pos of at) {
    o += raw.copy(out, o, start, pos);
    // after a bare CR the LF is missing; before a bare LF the CR is
    out[o++] = raw[pos - 1] === CR ? LF : CR;
    start = pos;
  }
  raw.copy(out, o, start);
  return out;
}

/**
 * The first problem of a list of header fields (raw bytes, maybe not yet normalised): a NUL or other
 * control character, a bare CR, a white-space-only continuation line, an encoded control character.
 * Also used on header sections that reach the output from inside an encryption (gateway/inbound/mime.ts).
 */
export function fieldsProblem(fields: readonly HeaderField[]): EdgeProblem | undefined {
  for (const field of fields) {
    const problem = fieldProblem(field);
    if (problem) return problem;
  }
  return undefined;
}

function fieldProblem(field: HeaderField): EdgeProblem | undefined {
  const raw = field.raw;
  for (let i = 0; i < raw.length; i++) {
    const b = raw[i]!;
    if (b === 0) return 'nul';
    if (b === CR && raw[i + 1] !== LF) return 'bare-cr';
    if ((b < 0x20 && b !== 0x09 && b !== CR && b !== LF) || b === 0x7f) return 'control';
  }
  if (UNICODE_BREAKS.some((seq) => raw.includes(seq))) return 'control';
  const text = raw.toString('latin1');
  if (/\n[ \t]+\r?\n/.test(text)) return 'blank-continuation';
  if (encodedControl(text, PARAMETERISED.has(field.lower))) return 'encoded-control';
  return undefined;
}

/** fieldsProblem, and a field that may occur once occurring twice. */
export function sectionProblem(fields: readonly HeaderField[]): EdgeProblem | undefined {
  return fieldsProblem(fields) ?? duplicateProblem(fields);
}

function duplicateProblem(fields: readonly HeaderField[]): EdgeProblem | undefined {
  const seen = new Set<string>();
  for (const field of fields) {
    if (!SINGLE.has(field.lower)) continue;
    if (seen.has(field.lower)) return 'duplicate-field';
    seen.add(field.lower);
  }
  return undefined;
}

const ENCODED_WORD = /=\?([^?\s]+)\?([bBqQ])\?([^?\s]*)\?=/g;
/** An RFC 2231 extended parameter value (`name*=` or `name*0*=`) with a %-encoded control character. */
const PARAM_CONTROL = /\*\s*=\s*[^;]*?%(?:[01][0-9a-f]|7f)/i;

/** The fields whose parameters RFC 2231 extends. */
const PARAMETERISED = new Set(['content-type', 'content-disposition']);

function encodedControl(text: string, parameters: boolean): boolean {
  if (parameters && PARAM_CONTROL.test(text)) return true;
  for (const m of text.matchAll(ENCODED_WORD)) {
    const bytes = wordBytes(m[2]!, m[3]!);
    const charset = charsetOf(m[1]!);
    // A charset iconv-lite does not know (ISO-2022-JP, which uses ESC) is read as bytes: CR, LF, NUL.
    if (
      iconv.encodingExists(charset)
        ? CONTROL_TEXT.test(iconv.decode(bytes, charset))
        : /[\0\r\n]/.test(bytes.toString('latin1'))
    )
      return true;
  }
  return false;
}

/** Decode the encoded words of a header value (RFC 2047), as mailparser does (iconv-lite for charsets). */
export function decodeWords(text: string): string {
  return text
    .replace(/(\?=)\s+(?==\?)/g, '$1') // white space between adjacent encoded words is not displayed
    .replace(ENCODED_WORD, (_w, charset: string, enc: string, data: string) =>
      decodeWord(charset, enc, data),
    );
}

function decodeWord(charset: string, encoding: string, data: string): string {
  const bytes = wordBytes(encoding, data);
  const name = charsetOf(charset);
  return iconv.encodingExists(name) ? iconv.decode(bytes, name) : bytes.toString('latin1');
}

function wordBytes(encoding: string, data: string): Buffer {
  if (encoding.toLowerCase() === 'b') return Buffer.from(data, 'base64');
  const text = data
    .replace(/_/g, ' ')
    .replace(/=([0-9a-f]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16)));
  return Buffer.from(text, 'latin1');
}

/** RFC 2231 §5: a language may follow the charset after '*'. */
function charsetOf(charset: string): string {
  return charset.split('*')[0]!;
}
