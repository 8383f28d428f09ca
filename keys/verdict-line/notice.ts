import { randomBytes } from 'node:crypto';
import { makeField, splitMessage, withCrlf, type HeaderField } from '../mime/mime.ts';
import { isAttachment, transferEncoding, type MimeEntity } from '../mime/mime-tree.ts';

/**
 * The visible line Sealpost puts at the top of a decrypted message: into the first text/plain and the
 * first text/html part that is not an attachment (so that it shows whichever alternative the mail program
 * renders), in that part's charset and transfer encoding. A message with no text part is wrapped into a
 * multipart/mixed whose first part is the line. Only the parts that take the line are re-encoded; every
 * other byte stays as it came.
 */
export interface Marked {
  fields: HeaderField[];
  body: Buffer[];
}

const CRLF = Buffer.from('\r\n');
/** Charsets that have the German letters of the line (ä ö ü ß) at their Latin-1 code points. */
const LATIN1 = new Set(['iso-8859-1', 'latin1', 'iso-8859-15', 'windows-1252', 'cp1252']);

export function withNotice(entity: MimeEntity, line: string): Marked {
  const done = { plain: false, html: false };
  const marked = mark(entity, line, done);
  if (marked) return marked;
  return wrap(entity, line);
}

function mark(entity: MimeEntity, line: string, done: { plain: boolean; html: boolean }): Marked | undefined {
  if (entity.children.length > 0) {
    let changed = false;
    const body: Buffer[] = [];
    let pos = 0;
    for (const child of entity.children) {
      const m = mark(child.entity, line, done);
      if (!m) continue;
      changed = true;
      body.push(entity.body.subarray(pos, child.start), ...m.fields.map((f) => f.raw), CRLF, ...m.body);
      pos = child.end;
    }
    if (!changed) return undefined;
    body.push(entity.body.subarray(pos));
    return { fields: entity.fields.map(crlfField), body };
  }
  if (isAttachment(entity)) return undefined;
  if (entity.type === 'text/plain' && !done.plain) {
    done.plain = true;
    return markPlain(entity, line);
  }
  if (entity.type === 'text/html' && !done.html) {
    done.html = true;
    return markHtml(entity, line);
  }
  return undefined;
}

function markPlain(entity: MimeEntity, line: string): Marked {
  const charset = (entity.params.get('charset') ?? 'us-ascii').toLowerCase();
  let fields = entity.fields.map(crlfField);
  let bytes: Buffer;
  if (charset === 'utf-8' || charset === 'utf8') bytes = Buffer.from(line, 'utf8');
  else if (charset === 'us-ascii' || charset === 'ascii') {
    // US-ASCII is a subset of UTF-8: declaring UTF-8 keeps the text as it is and lets the line in.
    bytes = Buffer.from(line, 'utf8');
    fields = setField(fields, 'Content-Type', contentType(entity, { charset: 'utf-8' }));
  } else if (LATIN1.has(charset)) bytes = Buffer.from(line, 'latin1');
  else bytes = Buffer.from(asciiOnly(line), 'latin1');
  const prefix = Buffer.concat([bytes, CRLF, CRLF]);
  const cte = transferEncoding(entity);
  if (cte === 'base64') return { fields, body: [base64Lines(Buffer.concat([prefix, decodeBase64(entity)]))] };
  if (cte === 'quoted-printable') return { fields, body: [quotedPrintable(prefix), entity.body] };
  if (cte === '7bit' && bytes.some((b) => b > 0x7f))
    fields = setField(fields, 'Content-Transfer-Encoding', '8bit');
  return { fields, body: [prefix, entity.body] };
}

/**
 * The box in HTML. Every property that could hide it is set inline with !important: a style sheet in the
 * sender's HTML (`div { display: none !important }`) loses against an inline !important declaration.
 */
const BOX_STYLE = [
  'display:block',
  'visibility:visible',
  'opacity:1',
  'position:static',
  'transform:none',
  'height:auto',
  'max-height:none',
  'overflow:visible',
  'clip-path:none',
  'font-size:14px',
  'line-height:1.4',
  'color:#000',
  'background:#fff',
  'border:1px solid #888',
  'padding:4px 8px',
  'margin:0 0 12px 0',
  'font-family:sans-serif',
]
  .map((d) => `${d} !important`)
  .join(';');

function markHtml(entity: MimeEntity, line: string): Marked {
  const html = `<div style="${BOX_STYLE}">${htmlText(line)}</div>`;
  const fields = entity.fields.map(crlfField);
  const cte = transferEncoding(entity);
  if (cte === 'base64') {
    const decoded = decodeBase64(entity);
    const at = afterBodyTag(decoded);
    const joined = Buffer.concat([decoded.subarray(0, at), Buffer.from(html), decoded.subarray(at)]);
    return { fields, body: [base64Lines(joined)] };
  }
  const at = afterBodyTag(entity.body);
  const inserted =
    cte === 'quoted-printable'
      ? Buffer.from(`=\r\n${quotedPrintable(Buffer.from(html)).toString('latin1')}=\r\n`, 'latin1')
      : Buffer.concat([Buffer.from(html), CRLF]);
  return { fields, body: [entity.body.subarray(0, at), inserted, entity.body.subarray(at)] };
}

/** A multipart/mixed around an entity without a text part: the line first, the entity unchanged second. */
function wrap(entity: MimeEntity, line: string): Marked {
  const boundary = `sealpost-notice-${randomBytes(12).toString('hex')}`;
  const inner = entity.fields.filter((f) => /^content-/.test(f.lower)).map((f) => withCrlf(f.raw));
  const first = [
    `--${boundary}`,
    'Content-Type: text/plain; charset=utf-8',
    'Content-Transfer-Encoding: 8bit',
    '',
    line,
    `--${boundary}`,
    '',
  ].join('\r\n');
  return {
    fields: [fieldOf('Content-Type', `multipart/mixed; boundary="${boundary}"`)],
    body: [Buffer.from(first, 'utf8'), ...inner, CRLF, entity.body, Buffer.from(`\r\n--${boundary}--\r\n`)],
  };
}

export function crlfField(field: HeaderField): HeaderField {
  return { ...field, raw: withCrlf(field.raw) };
}

function fieldOf(name: string, value: string): HeaderField {
  return splitMessage(Buffer.concat([makeField(name, value), CRLF])).fields[0]!;
}

/** Replace the field `name` (every occurrence) by one new field, or append it. */
export function setField(fields: HeaderField[], name: string, value: string): HeaderField[] {
  const lower = name.toLowerCase();
  const at = fields.findIndex((f) => f.lower === lower);
  const rest = fields.filter((f) => f.lower !== lower);
  rest.splice(at < 0 ? rest.length : at, 0, fieldOf(name, value));
  return rest;
}

export function contentType(entity: MimeEntity, changes: Record<string, string>): string {
  const params = new Map(entity.params);
  for (const [k, v] of Object.entries(changes)) params.set(k, v);
  const list = [...params].map(([k, v]) => `${k}="${v.replace(/["\\\r\n]/g, '')}"`);
  return [entity.type, ...list].join('; ');
}

export function decodeBase64(entity: MimeEntity): Buffer {
  return Buffer.from(entity.body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64');
}

/** Base64 in 76-character lines (RFC 2045 §6.8), ending with CRLF. */
export function base64Lines(data: Buffer): Buffer {
  const b64 = data.toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return Buffer.from(`${lines.join('\r\n')}\r\n`, 'latin1');
}

/** Quoted-printable (RFC 2045 §6.7): CRLF stays a hard break; lines are soft-broken before 76 chars. */
export function quotedPrintable(data: Buffer): Buffer {
  let out = '';
  let lineLength = 0;
  for (let i = 0; i < data.length; i++) {
    const b = data[i]!;
    if (b === 0x0d && data[i + 1] === 0x0a) {
      out += '\r\n';
      lineLength = 0;
      i++;
      continue;
    }
    const token =
      b > 0x20 && b < 0x7f && b !== 0x3d
        ? String.fromCharCode(b)
        : `=${b.toString(16).toUpperCase().padStart(2, '0')}`;
    if (lineLength + token.length > 73) {
      out += '=\r\n';
      lineLength = 0;
    }
    out += token;
    lineLength += token.length;
  }
  return Buffer.from(out, 'latin1');
}

/** Decode quoted-printable (RFC 2045 §6.7): soft line breaks go, `=XX` becomes its byte. */
export function decodeQuotedPrintable(data: Buffer): Buffer {
  const text = data.toString('latin1').replace(/=[ \t]*\r?\n/g, '');
  const out = Buffer.alloc(text.length);
  let n = 0;
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === '=' ? /^[0-9A-Fa-f]{2}$/.exec(text.slice(i + 1, i + 3)) : null;
    if (hex) {
      out[n++] = parseInt(hex[0], 16);
      i += 2;
    } else out[n++] = text.charCodeAt(i);
  }
  return out.subarray(0, n);
}

function afterBodyTag(html: Buffer): number {
  const m = /<body\b[^>]*>/i.exec(html.toString('latin1'));
  return m ? m.index + m[0].length : 0;
}

/** Escaped for HTML, every non-ASCII character as a numeric reference: right in any charset. */
export function htmlText(text: string): string {
  return [...text]
    .map((c) => {
      if (c === '&') return '&amp;';
      if (c === '<') return '&lt;';
      if (c === '>') return '&gt;';
      if (c === '"') return '&quot;';
      const code = c.codePointAt(0)!;
      return code > 0x7e ? `&#${code};` : c;
    })
    .join('');
}

function asciiOnly(text: string): string {
  const map: Record<string, string> = {
    ä: 'ae',
    ö: 'oe',
    ü: 'ue',
    Ä: 'Ae',
    Ö: 'Oe',
    Ü: 'Ue',
    ß: 'ss',
    '…': '...',
  };
  return [...text].map((c) => map[c] ?? (c.charCodeAt(0) > 0x7e ? '?' : c)).join('');
}
