import type { CoreDeps } from '../core/deps.ts';
import { errName } from '../core/log.ts';
import { decryptReply, replyForPractice, type KeyStore } from '../keys/index.ts';

/**
 * `pickup.replyDelivery: decrypt` (DESIGN.md "Reply"): the worker opens a pickup reply with the sender's
 * key and delivers the inner message, marked with a `Sealpost-Security` field that Sealpost alone computes,
 * into the practice's own mailbox (the relay; TLS as for every delivery), From the contact whose key it is
 * and with look-alikes of Sealpost's visible line marked (keys/verdict-line/reply-inner.ts). When it cannot be opened
 * (or read through), the reply goes out as it is — still encrypted: the fallback is never clear text.
 */
export async function replyForDelivery(
  deps: CoreDeps & { keys: KeyStore },
  row: { id: string; kind: string; recipient: string; contact_id: string | null; message_id: string },
  raw: Buffer,
): Promise<Buffer> {
  if (row.kind !== 'reply' || deps.config.pickup.replyDelivery !== 'decrypt' || !row.contact_id) return raw;
  try {
    const sender = await deps.keys.senderKey(row.recipient);
    const contact = await deps.db.stores.contacts.byId(row.contact_id);
    if (!sender || !contact) throw new Error('sender key or contact gone');
    const opened = await decryptReply({
      raw,
      decryptionKey: sender.signer,
      contactPublicKey: contact.public_key,
      author: contact.address,
      now: deps.clock.now(),
    });
    const verdict = opened.verified ? `verified; key=${opened.signedBy}` : 'not-verified';
    const language = deps.config.inbound.language ?? deps.config.pickup.language;
    const reply = replyForPractice(opened.inner, contact.address, language);
    const lookAlike = reply.lookAlike ? '; look-alike=marked' : '';
    const field = `Sealpost-Security: decrypted by Sealpost; pickup reply from ${contact.address}; signature=${verdict}${lookAlike}\r\n`;
    return Buffer.concat([
      Buffer.from(field + messageIdField(reply.message, row.message_id), 'latin1'),
      reply.message,
    ]);
  } catch (err) {
    deps.log.warn('DLV_REPLY_NOT_DECRYPTED', { id: row.id, errName: errName(err) });
    return raw;
  }
}

/**
 * The decrypted reply is a message of its own; without a Message-ID the next server would give it a new one
 * at every attempt, and a copy sent again after a crash could not be recognised as the same (docs/delivery.md
 * "Duplicates"). It gets the spool row's, which is fixed when the reply is accepted.
 */
function messageIdField(inner: Buffer, messageId: string): string {
  const head = inner.subarray(0, Math.max(0, inner.indexOf('\r\n\r\n'))).toString('latin1');
  if (/^message-id\s*:/im.test(head) || !/^<[^<>\s]+>$/.test(messageId)) return '';
  return `Message-ID: ${messageId}\r\n`;
}
