import { decryptReply } from './mime/pgpmime.ts';
import { MimeError } from './mime/mime.ts';
import { isAttachment, parseEntity, transferEncoding, type MimeEntity } from './mime/mime-tree.ts';
import type { SigningKey } from './openpgp/index.ts';

/**
 * A pickup reply opened for her console (docs/console.md "Replies"), where no inbound relay takes it: the
 * armored message the client's browser encrypted to her sender key, decrypted as the worker would (EFAIL-safe,
 * decompression capped, author bound to the contact), its signature judged against the contact's registered
 * key. What comes back is the verdict, the text part and the number of attachments — a value for this one
 * answer, never stored. A message that cannot be opened or read through is a verdict, not an error.
 */
export type ConsoleReplyVerdict = 'valid' | 'invalid' | 'unknown-key' | 'none' | 'unreadable';

export type OpenedConsoleReply =
  | { ok: true; signature: ConsoleReplyVerdict; text: string; attachments: number }
  | { ok: false; signature: 'unreadable' };

export async function openConsoleReply(input: {
  armored: string;
  /** Her key, or all her keys (a reply written before a rotation is to the earlier one). */
  senderKey: SigningKey | readonly SigningKey[];
  contactPublicKey: string;
  contactAddress: string;
  now: Date;
  maxDecompressedBytes: number;
}): Promise<OpenedConsoleReply> {
  try {
    const opened = await decryptReply({
      raw: Buffer.from(input.armored, 'latin1'),
      decryptionKey: input.senderKey,
      contactPublicKey: input.contactPublicKey,
      author: input.contactAddress,
      now: input.now,
      maxDecompressedBytes: input.maxDecompressedBytes,
    });
    if (!opened.ok) return { ok: false, signature: 'unreadable' };
    const parts = leaves(parseEntity(opened.inner));
    const textPart = parts.find((e) => e.type === 'text/plain' && !isAttachment(e));
    return {
      ok: true,
      signature: opened.signature.state,
      text: textPart ? decodeText(textPart) : '',
      attachments: parts.filter((e) => e !== textPart && !e.type.startsWith('multipart/')).length,
    };
  } catch (err) {
    if (err instanceof MimeError) return { ok: false, signature: 'unreadable' };
    throw err;
  }
}

function leaves(entity: MimeEntity): MimeEntity[] {
  return entity.children.length ? entity.children.flatMap((c) => leaves(c.entity)) : [entity];
}

function decodeText(entity: MimeEntity): string {
  const cte = transferEncoding(entity);
  const bytes =
    cte === 'base64'
      ? Buffer.from(entity.body.toString('latin1').replace(/[^A-Za-z0-9+/=]/g, ''), 'base64')
      : cte === 'quoted-printable'
        ? quotedPrintable(entity.body.toString('latin1'))
        : entity.body;
  const charset = (entity.params.get('charset') ?? 'utf-8').toLowerCase();
  const latin = charset === 'iso-8859-1' || charset === 'latin1' || charset === 'us-ascii';
  return bytes.toString(latin ? 'latin1' : 'utf8').replace(/\r\n/g, '\n');
}

function quotedPrintable(s: string): Buffer {
  const soft = s.replace(/=\r?\n/g, '');
  const out: number[] = [];
  for (let i = 0; i < soft.length; i++) {
    const hex = soft[i] === '=' ? soft.slice(i + 1, i + 3) : '';
    if (/^[0-9A-Fa-f]{2}$/.test(hex)) {
      out.push(parseInt(hex, 16));
      i += 2;
    } else out.push(soft.charCodeAt(i) & 0xff);
  }
  return Buffer.from(out);
}
