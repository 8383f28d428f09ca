import PostalMime, { type Address } from 'postal-mime';

/**
 * The decrypted MIME entity → what the reader shows. Only called on a message that openpgp.js decrypted
 * and integrity-checked in full: a tampered message never reaches the parser.
 */
export interface ReadAttachment {
  name: string;
  type: string;
  bytes: Uint8Array;
  contentId?: string;
  inline: boolean;
}

export interface ReadMessage {
  subject: string;
  from: { name: string; address: string } | undefined;
  to: string;
  date: Date | undefined;
  messageId: string | undefined;
  references: string | undefined;
  text: string | undefined;
  html: string | undefined;
  attachments: ReadAttachment[];
}

function mailbox(a: Address | undefined): { name: string; address: string } | undefined {
  if (!a) return undefined;
  if (a.address !== undefined) return { name: a.name, address: a.address };
  const first = a.group[0];
  return first ? { name: first.name, address: first.address } : undefined;
}

function list(addresses: Address[] | undefined): string {
  return (addresses ?? [])
    .flatMap((a) => (a.address !== undefined ? [a] : a.group))
    .map((m) => (m.name ? `${m.name} <${m.address}>` : m.address))
    .join(', ');
}

export async function readMime(bytes: Uint8Array): Promise<ReadMessage> {
  const email = await PostalMime.parse(bytes, { attachmentEncoding: 'arraybuffer' });
  const date = email.date ? new Date(email.date) : undefined;
  return {
    subject: email.subject ?? '',
    from: mailbox(email.from),
    to: list(email.to),
    date: date && !Number.isNaN(date.getTime()) ? date : undefined,
    messageId: email.messageId,
    references: email.references,
    text: email.text,
    html: email.html,
    attachments: email.attachments.map((a, i) => ({
      name: a.filename ?? `attachment-${i + 1}`,
      type: a.mimeType || 'application/octet-stream',
      bytes:
        a.content instanceof ArrayBuffer
          ? new Uint8Array(a.content)
          : typeof a.content === 'string'
            ? new TextEncoder().encode(a.content)
            : a.content,
      ...(a.contentId ? { contentId: a.contentId } : {}),
      inline: Boolean(a.related) || (a.disposition === 'inline' && Boolean(a.contentId)),
    })),
  };
}
