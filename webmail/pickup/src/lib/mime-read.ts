import PostalMime, { type Address, type Attachment } from 'postal-mime';
import { displayText, fileName } from './display.ts';

/**
 * The decrypted MIME entity → what the reader shows. Only called on a message that openpgp.js decrypted
 * and integrity-checked in full: a tampered message never reaches the parser. Every header string the app
 * shows (subject, names, addresses, attachment names) leaves here neutralised (display.ts): no bidi
 * control or invisible character from the sender reaches the page or a download name.
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

export async function readMime(bytes: Uint8Array): Promise<ReadMessage> {
  const email = await PostalMime.parse(bytes, { attachmentEncoding: 'arraybuffer' });
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
