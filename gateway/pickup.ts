import { randomBytes } from 'node:crypto';
import type { Config } from '../core/config.ts';
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
import { dkimSignMail } from './dkim.ts';
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

/**
 * The From of notifications and receipts: SEALPOST_NOTIFY_FROM (or the file key pickup.fromAddress), else
 * noreply@ of the practitioner's own domain, which a DKIM key of the practice's domain aligns with.
 */
export function notifyFrom(config: Config, senderAddress: string): string {
  return (
    config.notifyFrom ??
    config.pickup.fromAddress ??
    `noreply@${senderAddress.slice(senderAddress.lastIndexOf('@') + 1)}`
  );
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
  const from = { name: sender.name, address: notifyFrom(config, sender.address) };
  const notificationId = newMessageId(config.hostname);
  const notification = notificationMail({
    language: config.pickup.language,
    from,
    replyTo: sender.address,
    to: contact.address,
    messageId: notificationId,
    date: now,
    senderName: sender.name,
    link: `${config.publicUrl.replace(/\/+$/, '')}/p/${pickupId}`,
    expiresAt: new Date(expiresAt),
    ...(config.securityWord ? { securityWord: config.securityWord } : {}),
    practice: {
      name: config.practiceName,
      ...(config.practiceAddress ? { address: config.practiceAddress } : {}),
      ...(config.practicePhone ? { phone: config.practicePhone } : {}),
    },
  });
  let receipt: PickupCopy['receipt'];
  if (created) {
    const receiptId = newMessageId(config.hostname);
    receipt = {
      messageId: receiptId,
      bytes: await dkimSignMail(
        config,
        receiptMail({
          language: config.pickup.language,
          from: { name: 'Sealpost', address: from.address },
          to: sender.address,
          messageId: receiptId,
          date: now,
          recipient: contact.address,
          code: created.code,
          reissued: false,
        }),
        from.address,
      ),
    };
  }
  return {
    recipient: contact.address,
    pickupId,
    contact,
    ...(created ? { created } : {}),
    ciphertext,
    notification: {
      messageId: notificationId,
      bytes: await dkimSignMail(config, notification, from.address),
    },
    ...(receipt ? { receipt } : {}),
    expiresAt,
    senderName: sender.name,
    senderFingerprint: sender.signer.fingerprint,
  };
}
