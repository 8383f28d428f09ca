import type { CoreDeps } from '../core/deps.ts';
import { errName } from '../core/log.ts';
import { decryptReply, type KeyStore } from '../keys/index.ts';

/**
 * `pickup.replyDelivery: decrypt` (DESIGN.md "Reply"): the worker opens a pickup reply with the sender's
 * key and delivers the inner message, marked with a `Sealpost-Security` field that Sealpost alone computes,
 * into the practice's own mailbox (the relay; TLS as for every delivery). When it cannot be opened, the
 * reply goes out as it is — still encrypted: the fallback is never clear text.
 */
export async function replyForDelivery(
  deps: CoreDeps & { keys: KeyStore },
  row: { id: string; kind: string; recipient: string; contact_id: string | null },
  raw: Buffer,
): Promise<Buffer> {
  if (row.kind !== 'reply' || deps.config.pickup.replyDelivery !== 'decrypt' || !row.contact_id) return raw;
  try {
    const sender = await deps.keys.senderKey(row.recipient);
    const contact = await deps.db.kysely
      .selectFrom('contacts')
      .select(['public_key', 'address'])
      .where('id', '=', row.contact_id)
      .executeTakeFirst();
    if (!sender || !contact) throw new Error('sender key or contact gone');
    const opened = await decryptReply({
      raw,
      decryptionKey: sender.signer,
      contactPublicKey: contact.public_key,
      now: deps.clock.now(),
    });
    const verdict = opened.verified ? `verified; key=${opened.signedBy}` : 'not-verified';
    const field = `Sealpost-Security: decrypted by Sealpost; pickup reply from ${contact.address}; signature=${verdict}\r\n`;
    return Buffer.concat([Buffer.from(field, 'latin1'), opened.inner]);
  } catch (err) {
    deps.log.warn('DLV_REPLY_NOT_DECRYPTED', { id: row.id, errName: errName(err) });
    return raw;
  }
}
