/**
 * Minimal, byte-exact handling of an RFC 5322 header section. The message is never re-serialised: fields
 * are kept as their raw bytes (folding and encoded-words untouched), and the body is passed on as it came.
 */
export interface HeaderField {
  name: string; // as written
  lower: string; // lower-cased name
  raw: Buffer; // the whole field, folded lines and the final line break included
}

export interface SplitMessage {
  fields: HeaderField[];
  body: Buffer; // everything after the empty line
}

export class MimeError extends Error {
  override name = 'MimeError';
}

/** A header field name: printable US-ASCII except colon (RFC 5322 §2.2). */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
/** A single header field may not exceed this many bytes: bounds the work a hostile header can cause. */
const MAX_FIELD_BYTES = 64 * 1024;

/** Split raw message bytes into header fields and body. Throws MimeError when there is no valid header. */
export function splitMessage(raw: Buffer): SplitMessage {
  const fields: HeaderField[] = [];
  let pos = 0;
  let current: { name: string; start: number } | undefined;
  const close = (end: number) => {
    if (!current) return;
    if (end - current.start > MAX_FIELD_BYTES) throw new MimeError('header field too long');
    fields.push({
      name: current.name,
      lower: current.name.toLowerCase(),
      raw: raw.subarray(current.start, end),
    });
    current = undefined;
  };
  while (pos < raw.length) {
    const lf = raw.indexOf(0x0a, pos);
    // The last line may lack its line break; it is a whole line all the same (no byte dropped).
    const end = lf < 0 ? raw.length : lf;
    const lineEnd = lf < 0 ? raw.length : lf + 1;
    const line = raw.subarray(pos, end > pos && raw[end - 1] === 0x0d ? end - 1 : end);
    if (line.length === 0) {
      close(pos);
      if (fields.length === 0) throw new MimeError('message has no header fields');
      return { fields, body: raw.subarray(lineEnd) };
    }
    const first = line[0];
    if (first === 0x20 || first === 0x09) {
      if (!current) throw new MimeError('message starts with a continuation line');
    } else {
      close(pos);
      const colon = line.indexOf(0x3a);
      const name = colon > 0 ? line.subarray(0, colon).toString('latin1') : '';
      if (!FIELD_NAME.test(name)) {
        if (fields.length === 0) throw new MimeError('message does not start with a header field');
        throw new MimeError('malformed header line');
      }
      current = { name, start: pos };
    }
    pos = lineEnd;
  }
  close(raw.length);
  if (fields.length === 0) throw new MimeError('message has no header fields');
  return { fields, body: Buffer.alloc(0) };
}

/** The unfolded value of a field (without the name and colon), trimmed. */
export function fieldValue(field: HeaderField): string {
  const text = field.raw.toString('utf8');
  return text
    .slice(text.indexOf(':') + 1)
    .replace(/\r?\n(?=[ \t])/g, '')
    .replace(/\r?\n$/, '')
    .trim();
}

export function findField(fields: readonly HeaderField[], lowerName: string): HeaderField | undefined {
  return fields.find((f) => f.lower === lowerName);
}

export function getValue(fields: readonly HeaderField[], lowerName: string): string | undefined {
  const field = findField(fields, lowerName);
  return field && fieldValue(field);
}

/** A new field, with CRLF, folded at commas/semicolons is the caller's business; values must be ASCII. */
export function makeField(name: string, value: string): Buffer {
  if (/[\r\n]/.test(value)) throw new MimeError('header value must not contain line breaks');
  return Buffer.from(`${name}: ${value}\r\n`, 'utf8');
}

/** Ensure a field's raw bytes end with CRLF (a field may end in a bare LF in sloppy input). */
export function withCrlf(raw: Buffer): Buffer {
  if (raw.length >= 2 && raw[raw.length - 2] === 0x0d && raw[raw.length - 1] === 0x0a) return raw;
  if (raw.length >= 1 && raw[raw.length - 1] === 0x0a)
    return Buffer.concat([raw.subarray(0, -1), Buffer.from('\r\n')]);
  return Buffer.concat([raw, Buffer.from('\r\n')]);
}

/** Append parameters to a raw Content-Type field, keeping its bytes (and folding) as they are. */
export function appendParams(field: HeaderField, params: string): Buffer {
  const raw = withCrlf(field.raw);
  let body = raw
    .subarray(0, raw.length - 2)
    .toString('latin1')
    .replace(/[ \t]+$/, '');
  if (body.endsWith(';')) body = body.slice(0, -1);
  return Buffer.concat([Buffer.from(`${body};\r\n ${params}\r\n`, 'latin1')]);
}

/** Base64 folded into 76-character continuation lines, for structured header values like Autocrypt keydata. */
export function foldedBase64(data: Uint8Array): string {
  const b64 = Buffer.from(data).toString('base64');
  const lines: string[] = [];
  for (let i = 0; i < b64.length; i += 76) lines.push(b64.slice(i, i + 76));
  return lines.join('\r\n ');
}
