import PostalMime, { type Address, type Attachment } from 'postal-mime';
import { displayText, fileName } from './display.ts';
import { withCharsetNotes } from './mime-charsets.ts';

/**
 * The decrypted MIME entity → what the reader shows. Only called on a message that openpgp.js decrypted
 * and integrity-checked in full: a tampered message never reaches the parser. Every header string the app
 * shows (subject, names, addresses, attachment names) leaves here neutralised (display.ts): no bidi
 * control or invisible character from the sender reaches the page or a download name. Bodies and encoded
 * words are decoded in every charset the server's parser reads (mime-charsets.ts, charset.ts); a label no
 * decoder knows is decoded by a fallback and named in `unknownCharsets`, for a notice.
 */
export interface ReadAttachment {
  /** Shown and suggested for the download: display.ts fileName(). */
  name: string;
  /** The sender's name had characters that fileName() removed or replaced (shown as a hint). */
  renamed: boolean;
  /** The declared MIME type: used only to let cid: images into the message frame, never for a download. */
  type: string;
  bytes: Uint8Array;
  contentId?: string;
  inline: boolean;
}

export interface ReadMessage {
  subject: string;
  from: { name: string; address: string } | undefined;
  to: string;
  cc: string;
  date: Date | undefined;
  messageId: string | undefined;
  references: string | undefined;
  text: string | undefined;
  html: string | undefined;
  attachments: ReadAttachment[];
  /** Charset labels that no decoder knew (a fallback decoded them): shown as a notice, at most 40 chars. */
  unknownCharsets: string[];
}

function mailbox(a: Address | undefined): { name: string; address: string } | undefined {
  if (!a) return undefined;
  const m = a.address !== undefined ? a : a.group[0];
  return m ? { name: displayText(m.name), address: displayText(m.address) } : undefined;
}

function list(addresses: Address[] | undefined): string {
  return (addresses ?? [])
    .flatMap((a) => (a.address !== undefined ? [a] : a.group))
    .map((m) => (m.name ? `${displayText(m.name)} <${displayText(m.address)}>` : displayText(m.address)))
    .join(', ');
}

let parsing: Promise<unknown> = Promise.resolve();

/** One parse at a time: the charset notes of mime-charsets.ts belong to the parse that is running. */
export function readMime(bytes: Uint8Array): Promise<ReadMessage> {
  const run = parsing.then(() => parse(bytes));
  parsing = run.catch(() => undefined);
  return run;
}

async function parse(bytes: Uint8Array): Promise<ReadMessage> {
  const { result: email, unknown } = await withCharsetNotes(() =>
    PostalMime.parse(bytes, { attachmentEncoding: 'arraybuffer' }),
  );
  const date = email.date ? new Date(email.date) : undefined;
  return {
    subject: displayText(email.subject ?? ''),
    from: mailbox(email.from),
    to: list(email.to),
    cc: list(email.cc),
    date: date && !Number.isNaN(date.getTime()) ? date : undefined,
    messageId: email.messageId,
    references: email.references,
    text: email.text,
    html: email.html,
    attachments: email.attachments.map(attachment),
    unknownCharsets: unknown.map(displayText),
  };
}

function attachment(a: Attachment, i: number): ReadAttachment {
  const name = fileName(a.filename ?? '', `attachment-${i + 1}`);
  return {
    name,
    renamed: a.filename != null && a.filename !== '' && name !== a.filename,
    type: a.mimeType || 'application/octet-stream',
    bytes:
      a.content instanceof ArrayBuffer
        ? new Uint8Array(a.content)
        : typeof a.content === 'string'
          ? new TextEncoder().encode(a.content)
          : a.content,
    ...(a.contentId ? { contentId: a.contentId } : {}),
    inline: Boolean(a.related) || (a.disposition === 'inline' && Boolean(a.contentId)),
  };
}
