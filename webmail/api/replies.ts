import { newMessageId } from '../../core/ids.ts';
import { outboundRow } from '../../core/store/index.ts';
import { encryptedToKeyIds, keyIds, parseEncryptionKey, wrapEncrypted } from '../../keys/index.ts';
import type { PickupApiDeps } from './deps.ts';
import { HttpError } from './http.ts';
import { consoleReplyRow } from './reply-console.ts';
import { rfc5322Date } from '../../core/rfc5322-date.ts';

/**
 * A reply written in the pickup app: an armored OpenPGP message that the browser signed with the contact's
 * key and encrypted to the sender's key and its own. The server cannot read it; it checks that it is an
 * OpenPGP message to the sender's current key, wraps it as RFC 3156 PGP/MIME addressed to the sender of
 * the thread, and spools it like any outbound copy (DESIGN.md "Reply").
 */
/** One msg-id (RFC 5322 §3.6.4): printable ASCII without white space, in angle brackets. */
const MSG_ID = /^<[\x21-\x3b\x3d\x3f-\x7e]+@[\x21-\x3b\x3d\x3f-\x7e]+>$/;

export async function acceptReply(
  deps: PickupApiDeps,
  input: { contactId: string; contactAddress: string; inReplyTo: string; message: string },
): Promise<string> {
  const { db, config, clock, log } = deps;
  const now = clock.now();
  if (Buffer.byteLength(input.message, 'utf8') > config.pickup.maxReplyBytes)
    throw new HttpError('PU_REPLY_TOO_BIG');
  const pickup = await db.stores.pickups.thread(input.inReplyTo, input.contactId);
  if (!pickup) throw new HttpError('PU_NOT_FOUND');
  const today = await db.stores.outbound.repliesSince(input.contactId, now.getTime() - 86_400_000);
  if (today >= config.pickup.maxRepliesPerDay) throw new HttpError('PU_REPLY_LIMIT');
  await requireEncryptedToSender(deps, pickup.sender_address, input.message);
  const own = await ownCopy(deps, input.contactId, input.message);

  const messageId = newMessageId(config.hostname);
  // The thread's Message-ID came from the sender's mail client: it goes into a header only when it is one
  // clean msg-id, never with a line break or anything else that could start a field of its own.
  const parent = MSG_ID.test(pickup.message_id) ? [pickup.message_id] : [];
  const outer = [
    `From: <${input.contactAddress}>`,
    `To: <${pickup.sender_address}>`,
    'Subject: [...]',
    `Date: ${rfc5322Date(now)}`,
    `Message-ID: ${messageId}`,
    ...parent.flatMap((id) => [`In-Reply-To: ${id}`, `References: ${id}`]),
  ].map((f) => Buffer.from(`${f}\r\n`, 'latin1'));
  const armor = Buffer.from(input.message.replace(/\r/g, '').replace(/\n/g, '\r\n'), 'latin1');
  const parts = wrapEncrypted(outer, [armor]);
  const row = outboundRow(
    deps,
    {
      kind: 'reply',
      userId: null,
      // The null sender: a failed reply cannot be bounced to the contact's mailbox without revealing it.
      envelopeFrom: '',
      recipient: pickup.sender_address,
      messageId,
      parts,
      contactId: input.contactId,
    },
    now.getTime(),
  );
  const id = row.id;
  const kept = await consoleReplyRow(
    deps,
    {
      id,
      contactId: input.contactId,
      senderAddress: pickup.sender_address,
      userId: pickup.user_id,
      message: input.message,
    },
    now,
  );
  await db.stores.transaction(async (stores) => {
    await stores.outbound.add([row]);
    // No inbound relay: her console keeps it too (still encrypted to her sender key, sealed at rest).
    if (kept) await stores.consoleReplies.add(kept);
    // The contact's own copy for the thread: only when it is encrypted to their key too (it always is from
    // the app), so that the server keeps nothing it or anyone but the contact and the sender could read.
    if (own)
      await stores.pickups.addOwnReply({
        id,
        contact_id: input.contactId,
        pickup_id: pickup.id,
        key_fingerprint: own,
        ciphertext: deps.sealer.seal('pickup', Buffer.from(input.message, 'utf8'), `reply:${id}`),
        created_at: now.getTime(),
      });
  });
  log.info('PU_REPLY_ACCEPTED', { id, contact: input.contactId, rcpt: pickup.sender_address });
  await deps.enqueue([id]).catch(() => log.warn('PU_ENQUEUE_FAILED', { id })); // reconcile picks it up
  return id;
}

/** The contact key's fingerprint when the reply is encrypted to it (to keep as the contact's copy). */
async function ownCopy(deps: PickupApiDeps, contactId: string, armored: string): Promise<string | undefined> {
  const contact = await deps.db.stores.contacts.byId(contactId);
  if (!contact?.public_key || !contact.fingerprint) return undefined;
  const mine = new Set(keyIds(await parseEncryptionKey(contact.public_key)));
  const ids = await encryptedToKeyIds(armored);
  return ids.some((k) => mine.has(k)) ? contact.fingerprint : undefined;
}

/** The reply must be an OpenPGP message that the sender's current key can open. */
async function requireEncryptedToSender(deps: PickupApiDeps, sender: string, armored: string): Promise<void> {
  const senderKey = await deps.keys.senderKey(sender);
  if (!senderKey) throw new HttpError('PU_REPLY_INVALID');
  let ids: string[];
  try {
    ids = await encryptedToKeyIds(armored);
  } catch {
    throw new HttpError('PU_REPLY_INVALID');
  }
  const own = new Set(keyIds({ fingerprint: senderKey.signer.fingerprint, key: senderKey.signer.publicKey }));
  if (!ids.some((id) => own.has(id))) throw new HttpError('PU_REPLY_INVALID');
}
