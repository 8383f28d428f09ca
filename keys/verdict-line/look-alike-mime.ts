import { isUtf8 } from 'node:buffer';
import {
  base64Lines,
  contentType,
  crlfField,
  decodeBase64,
  decodeQuotedPrintable,
  quotedPrintable,
  setField,
  type Marked,
} from './notice.ts';
import { markHtml } from './look-alike-html.ts';
import { lookAlikes, markText, type NoticeLanguage } from './look-alike.ts';
import { MimeError } from '../mime/mime.ts';
import { isAttachment, parseEntity, transferEncoding, type MimeEntity } from '../mime/mime-tree.ts';

/**
 * Look-alikes of the visible verdict line in a MIME entity a sender wrote (keys/verdict-line/look-alike.ts), marked
 * in place. Read are every text/plain part (also attachments: mail programs show them inline), every
 * text/html part that is not an attachment, and the messages inside message/rfc822 parts — decoded from
 * their transfer encoding (base64, quoted-printable) and charset, so that no encoding hides a look-alike.
 * A part that gets a marker is written again as UTF-8 in its transfer encoding; every other byte stays as
 * it came, and a message without look-alikes is not changed at all.
 */
export interface Neutralised {
  /** The entity with every look-alike marked; undefined when no marker was inserted. */
  marked?: Marked;
  /** Look-alikes found, marked or not (one in a style sheet or an attribute cannot take a marker). */
  found: number;
}

/** message/rfc822 inside message/rfc822 … is read this deep; deeper nesting is refused as unreadable. */
const MAX_MESSAGE_DEPTH = 8;

/** Throws MimeError when a part cannot be read (the caller then cannot vouch for the message). */
export function neutralise(entity: MimeEntity, language: NoticeLanguage, depth = 0): Neutralised {
  if (entity.children.length > 0) return multipart(entity, language, depth);
  if (entity.type === 'message/rfc822' || entity.type === 'message/global') {
    return message(entity, language, depth);
  }
  if (entity.type === 'text/plain') return textPart(entity, language, 'plain');
  if (entity.type === 'text/html' && !isAttachment(entity)) return textPart(entity, language, 'html');
  return { found: 0 };
}

const CRLF = Buffer.from('\r\n');

export function serialise(marked: Marked): Buffer {
  return Buffer.concat([...marked.fields.map((f) => f.raw), CRLF, ...marked.body]);
}

/**
 * A message inside a message (a forward, inline or as an attachment). One that cannot be read as a message
 * is searched as text: a look-alike in it is counted (our line then goes first), but nothing is rewritten.
 */
function message(entity: MimeEntity, language: NoticeLanguage, depth: number): Neutralised {
  if (depth >= MAX_MESSAGE_DEPTH) throw new MimeError('messages nested too deep');
  const cte = transferEncoding(entity);
  const raw = decoded(entity, cte);
  let inner: MimeEntity;
  try {
    inner = parseEntity(raw);
  } catch (err) {
    if (!(err instanceof MimeError)) throw err;
    return { found: lookAlikes(decodeText(raw, undefined)).length };
  }
  const done = neutralise(inner, language, depth + 1);
  if (!done.marked) return { found: done.found };
  const bytes = serialise(done.marked);
  const body =
    cte === 'base64' ? base64Lines(bytes) : cte === 'quoted-printable' ? quotedPrintable(bytes) : bytes;
  return { marked: { fields: entity.fields.map(crlfField), body: [body] }, found: done.found };
}

function decoded(entity: MimeEntity, cte: string): Buffer {
  if (cte === 'base64') return decodeBase64(entity);
  if (cte === 'quoted-printable') return decodeQuotedPrintable(entity.body);
  return entity.body;
}

function multipart(entity: MimeEntity, language: NoticeLanguage, depth: number): Neutralised {
  let found = 0;
  let changed = false;
  const body: Buffer[] = [];
  let pos = 0;
  for (const child of entity.children) {
    const done = neutralise(child.entity, language, depth);
    found += done.found;
    if (!done.marked) continue;
    changed = true;
    body.push(entity.body.subarray(pos, child.start), serialise(done.marked));
    pos = child.end;
  }
  if (!changed) return { found };
  body.push(entity.body.subarray(pos));
  return { marked: { fields: entity.fields.map(crlfField), body }, found };
}

function textPart(entity: MimeEntity, language: NoticeLanguage, kind: 'plain' | 'html'): Neutralised {
  const cte = transferEncoding(entity);
  const bytes = decoded(entity, cte);
  const charset = entity.params.get('charset')?.toLowerCase();
  const text = decodeText(bytes, charset);
  const done =
    kind === 'plain'
      ? { ...markText(text, language), hidden: 0 }
      : (({ html, count, hidden }) => ({ text: html, count, hidden }))(markHtml(text, language));
  if (done.count === 0) return { found: done.hidden };
  let out = done.text;
  // The part is now UTF-8: an HTML <meta> charset that says otherwise would make a mail program misread it.
  if (kind === 'html' && charset !== 'utf-8' && charset !== 'utf8') out = metaCharsetUtf8(out);
  const utf8 = Buffer.from(out, 'utf8');
  let fields = setField(
    entity.fields.map(crlfField),
    'Content-Type',
    contentType(entity, { charset: 'utf-8' }),
  );
  let body: Buffer;
  if (cte === 'base64') body = base64Lines(utf8);
  else if (cte === 'quoted-printable') body = quotedPrintable(utf8);
  else {
    body = utf8;
    if (utf8.some((b) => b > 0x7f)) fields = setField(fields, 'Content-Transfer-Encoding', '8bit');
  }
  return { marked: { fields, body: [body] }, found: done.count + done.hidden };
}

/**
 * The text of a part in its declared charset (any the WHATWG Encoding Standard knows, as a mail program
 * reads it); without one, or with one nobody knows, UTF-8 when the bytes are UTF-8, else Windows-1252.
 */
export function decodeText(bytes: Buffer, charset: string | undefined): string {
  const guess = () => new TextDecoder(isUtf8(bytes) ? 'utf-8' : 'windows-1252').decode(bytes);
  if (!charset || charset === 'us-ascii' || charset === 'ascii') return guess();
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return guess();
  }
}

function metaCharsetUtf8(html: string): string {
  return html.replace(/(<meta\b[^>]*?charset\s*=\s*["']?)[^"'\s;/>]+/gi, '$1utf-8');
}
