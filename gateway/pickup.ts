import { randomBytes } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Config } from '../core/config.ts';
import type { ConsoleCodesTable } from '../core/db/schema.ts';
import { smtpError } from '../core/errors.ts';
import { newMessageId } from '../core/ids.ts';
import { effectiveSettings, type EffectiveSettings } from '../core/settings.ts';
import {
  buildPickupCiphertext,
  consoleCodeRow,
  consoleUrl,
  dkimSignMail,
  notificationMail,
  notifyFrom,
  receiptMail,
  newContactRecord,
  type Contact,
  type NewContact,
  type PreparedMessage,
  type SigningKey,
} from '../keys/index.ts';
import type { GatewayContext } from './submission-context.ts';

/**
 * The `pickup` output (DESIGN.md "The gateway pipeline", step 4): the message signed by the sender and
 * encrypted to the contact's key alone, a neutral notification to the recipient, and — for a new contact —
 * the access code encrypted to the sender's console key and a receipt that sends her to the console (the
 * code itself never goes by e-mail, docs/console.md). Built in memory; spool.ts commits it all in one transaction.
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
  /** A new contact's code, encrypted to the sender's console key (stored with the pickup). */
  consoleCode?: Insertable<ConsoleCodesTable>;
  expiresAt: number;
  senderName: string;
  senderFingerprint: string;
}

export interface PickupSender {
  /** The signed-in user: her console key gets a new contact's code. */
  userId: string;
  address: string;
  name: string;
  signer: SigningKey;
}

/** 128 random bits, base64url: the id in the link, and no secret. */
export function newPickupId(): string {
  return randomBytes(16).toString('base64url');
}

/** The receipt for a new contact: the code waits in her console; the mail only says so and links there. */
async function newContactReceipt(
  config: Config,
  language: EffectiveSettings['language'],
  input: { from: string; to: string; contact: Contact; now: Date },
): Promise<{ messageId: string; bytes: Buffer }> {
  const messageId = newMessageId(config.hostname);
  const mail = receiptMail({
    language,
    from: { name: 'Sealpost', address: input.from },
    to: input.to,
    messageId,
    date: input.now,
    recipient: input.contact.address,
    consoleUrl: consoleUrl(config),
    reissued: false,
  });
  return { messageId, bytes: await dkimSignMail(config, mail, input.from) };
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
  // The admin's settings in force now (practice name, language, retention; docs/admin-console.md).
  const settings = await effectiveSettings(ctx.deps);
  // Fail closed: a new contact's code is kept only for her console; without her console key, no contact.
  const consoleKey = input.contact ? undefined : await ctx.deps.db.stores.console.keyOf(sender.userId);
  if (!input.contact && !consoleKey) throw smtpError('GW_CONSOLE_KEY_MISSING');
  const created = input.contact ? undefined : await newContactRecord(input.recipient, now, ctx.deps.crypto);
  const contact = input.contact ?? created!.contact;
  const ciphertext = await buildPickupCiphertext({
    message: input.message,
    signer: sender.signer,
    contactKey: contact.key,
    now,
    signEncrypt: ctx.signEncrypt,
  });
  const pickupId = newPickupId();
  const expiresAt = now.getTime() + settings.retentionDays * 86_400_000;
  const from = { name: sender.name, address: notifyFrom(config, sender.address) };
  const notificationId = newMessageId(config.hostname);
  const notification = notificationMail({
    language: settings.language,
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
      name: settings.practiceName,
      ...(config.practiceAddress ? { address: config.practiceAddress } : {}),
      ...(config.practicePhone ? { phone: config.practicePhone } : {}),
    },
  });
  let receipt: PickupCopy['receipt'];
  let consoleCode: PickupCopy['consoleCode'];
  if (created && consoleKey) {
    consoleCode = await consoleCodeRow(ctx.deps, consoleKey, {
      userId: sender.userId,
      contactAddress: contact.address,
      code: created.code,
      now,
    });
    receipt = await newContactReceipt(config, settings.language, {
      from: from.address,
      to: sender.address,
      contact,
      now,
    });
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
    ...(consoleCode ? { consoleCode } : {}),
    expiresAt,
    senderName: sender.name,
    senderFingerprint: sender.signer.fingerprint,
  };
}
