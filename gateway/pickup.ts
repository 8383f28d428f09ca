import { randomBytes } from 'node:crypto';
import { newMessageId } from '../core/ids.ts';
import {
  buildPickupCiphertext,
  newContactRecord,
  type Contact,
  type NewContact,
  type PreparedMessage,
  type SigningKey,
} from '../keys/index.ts';
import type { GatewayContext } from './submission-context.ts';
import { notificationMail, receiptMail } from './notices.ts';

/**
 * The `pickup` output (DESIGN.md "The gateway pipeline", step 4): the message signed by the sender and
 * encrypted to the contact's key alone, a neutral notification to the recipient, and — for a new contact —
 * the sender's receipt with the access code. Built in memory; spool.ts commits it all in one transaction.
 */
export interface PickupCopy {
  recipient: string;
  pickupId: string;
  contact: Contact;
  /** Set when the contact is created by this message (its row is inserted with the pickup). */
  created?: NewContact;
  ciphertext: Buffer[];
  notification: { messageId: string; bytes: Buffer };
  receipt?: { messageId: string; bytes: Buffer };
  expiresAt: number;
  senderName: string;
  senderFingerprint: string;
}

export interface PickupSender {
  address: string;
  name: string;
  signer: SigningKey;
}

/** 128 random bits, base64url: the id in the link, and no secret. */
export function newPickupId(): string {
  return randomBytes(16).toString('base64url');
}

export function envelopeSender(ctx: GatewayContext): string {
  return ctx.deps.config.pickup.fromAddress ?? `noreply@${ctx.deps.config.hostname}`;
}

export async function buildPickup(
  ctx: GatewayContext,
  input: {
    message: PreparedMessage;
    recipient: string;
    contact: Contact | undefined;
    sender: PickupSender;
    now: Date;
  },
): Promise<PickupCopy> {
  const { config } = ctx.deps;
  const { now, sender } = input;
  const created = input.contact ? undefined : await newContactRecord(input.recipient, now, ctx.deps.crypto);
  const contact = input.contact ?? created!.contact;
  const ciphertext = await buildPickupCiphertext({
    message: input.message,
    signer: sender.signer,
    contactKey: contact.key,
    now,
  });
  const pickupId = newPickupId();
  const expiresAt = now.getTime() + config.pickup.retentionDays * 86_400_000;
  const from = { name: sender.name, address: envelopeSender(ctx) };
  const notificationId = newMessageId(config.hostname);
  const notification = notificationMail({
    language: config.pickup.language,
    from,
    to: contact.address,
    messageId: notificationId,
    date: now,
    senderName: sender.name,
    link: `${config.publicUrl.replace(/\/+$/, '')}/p/${pickupId}`,
    expiresAt: new Date(expiresAt),
  });
  let receipt: PickupCopy['receipt'];
  if (created) {
    const receiptId = newMessageId(config.hostname);
    receipt = {
      messageId: receiptId,
      bytes: receiptMail({
        language: config.pickup.language,
        from: { name: 'Sealpost', address: envelopeSender(ctx) },
        to: sender.address,
        messageId: receiptId,
        date: now,
        recipient: contact.address,
        code: created.code,
        reissued: false,
      }),
    };
  }
  return {
    recipient: contact.address,
    pickupId,
    contact,
    ...(created ? { created } : {}),
    ciphertext,
    notification: { messageId: notificationId, bytes: notification },
    ...(receipt ? { receipt } : {}),
    expiresAt,
    senderName: sender.name,
    senderFingerprint: sender.signer.fingerprint,
  };
}
