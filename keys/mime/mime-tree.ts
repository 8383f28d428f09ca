import { MimeError, getValue, splitMessage, type HeaderField } from './mime.ts';

/**
 * A MIME entity tree over the original bytes (RFC 2045/2046): every entity keeps its header fields as raw
 * bytes and its body as a slice of the message, so that whatever is not changed is passed on byte for
 * byte. Only multipart/* is descended into; message/rfc822 and everything else are leaves.
 */
export interface MimeEntity {
  fields: HeaderField[];
  body: Buffer;
  /** Lower-cased `type/subtype`; text/plain when absent (RFC 2045 §5.2). */
  type: string;
  /** Content-Type parameters, names lower-cased. */
  params: Map<string, string>;
  children: MimeChild[];
}

/** A part of a multipart body, with where it sits in its parent's body (for rebuilding around it). */
export interface MimeChild {
  entity: MimeEntity;
  start: number;
  end: number;
}

/** Nesting and part counts beyond these are hostile: never recurse or allocate without a bound. */
const MAX_DEPTH = 16;
const MAX_PARTS = 500;

export interface ContentType {
  type: string;
  params: Map<string, string>;
}

/** Parse a Content-Type value: `type/subtype` and `; name=value` parameters (tokens or quoted strings). */
export function parseContentType(value: string | undefined): ContentType {
  const params = new Map<string, string>();
  if (!value) return { type: 'text/plain', params };
  const semi = value.indexOf(';');
  const type = (semi < 0 ? value : value.slice(0, semi)).trim().toLowerCase();
  const rest = semi < 0 ? '' : value.slice(semi);
  const re = /;\s*([^\s=;]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^;\s]*))/g;
  for (const m of rest.matchAll(re)) {
    const name = m[1]!.toLowerCase();
    if (!params.has(name)) params.set(name, m[2] !== undefined ? m[2].replace(/\\(.)/g, '$1') : m[3]!);
  }
  return { type: /^[a-z0-9!#$&^_.+-]+\/[a-z0-9!#$&^_.+-]+$/.test(type) ? type : 'text/plain', params };
}

/** Parse an entity (header section, empty line, body). Throws MimeError on a header that is not one. */
export function parseEntity(raw: Buffer): MimeEntity {
  const counter = { parts: 0 };
  return entityOf(raw, 0, counter);
}

function entityOf(raw: Buffer, depth: number, counter: { parts: number }): MimeEntity {
  if (++counter.parts > MAX_PARTS) throw new MimeError('too many MIME parts');
  // A part may have no header fields at all (RFC 2046 §5.1.1: then it is text/plain).
  const split = startsWithBlankLine(raw)
    ? { fields: [], body: raw.subarray(raw[0] === 0x0d ? 2 : 1) }
    : splitMessage(raw);
  const { type, params } = parseContentType(getValue(split.fields, 'content-type'));
  const entity: MimeEntity = { fields: split.fields, body: split.body, type, params, children: [] };
  const boundary = params.get('boundary');
  if (type.startsWith('multipart/') && boundary) {
    if (depth >= MAX_DEPTH) throw new MimeError('MIME nesting too deep');
    entity.children = multipartChildren(split.body, boundary).map(({ start, end }) => ({
      entity: entityOf(split.body.subarray(start, end), depth + 1, counter),
      start,
      end,
    }));
  }
  return entity;
}

function startsWithBlankLine(raw: Buffer): boolean {
  return raw[0] === 0x0a || (raw[0] === 0x0d && raw[1] === 0x0a);
}

/**
 * The byte ranges of the parts between `--boundary` delimiter lines (RFC 2046 §5.1.1): a part ends before
 * the line break that precedes the next delimiter. A body without a closing delimiter ends its last part
 * at the end of the body.
 */
export function multipartChildren(body: Buffer, boundary: string): { start: number; end: number }[] {
  const delimiter = Buffer.from(`--${boundary}`, 'latin1');
  const ranges: { start: number; end: number }[] = [];
  let partStart = -1;
  let pos = 0;
  while (pos <= body.length) {
    const lf = body.indexOf(0x0a, pos);
    const lineEnd = lf < 0 ? body.length : lf + 1;
    if (body.subarray(pos, pos + delimiter.length).equals(delimiter)) {
      const rest = body.subarray(pos + delimiter.length, lf < 0 ? body.length : lf).toString('latin1');
      const close = rest.startsWith('--');
      if (/^[ \t\r]*$/.test(close ? rest.slice(2) : rest)) {
        if (partStart >= 0) ranges.push({ start: partStart, end: lineBreakBefore(body, pos) });
        if (close) return ranges;
        partStart = lineEnd;
      }
    }
    if (lf < 0) break;
    pos = lineEnd;
  }
  if (partStart >= 0 && partStart <= body.length) ranges.push({ start: partStart, end: body.length });
  return ranges;
}

function lineBreakBefore(body: Buffer, pos: number): number {
  if (pos >= 2 && body[pos - 2] === 0x0d && body[pos - 1] === 0x0a) return pos - 2;
  if (pos >= 1 && body[pos - 1] === 0x0a) return pos - 1;
  return pos;
}

/** The Content-Transfer-Encoding, lower-cased; 7bit when absent. */
export function transferEncoding(entity: MimeEntity): string {
  return (getValue(entity.fields, 'content-transfer-encoding') ?? '7bit').toLowerCase();
}

/** Whether the entity is meant as an attachment rather than as the text to show. */
export function isAttachment(entity: MimeEntity): boolean {
  const disposition = getValue(entity.fields, 'content-disposition');
  return !!disposition && /^\s*attachment\b/i.test(disposition);
}
