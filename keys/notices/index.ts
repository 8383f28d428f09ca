import type { Config } from '../../core/config.ts';

export { dkimSignMail } from './dkim.ts';
export {
  encodeText,
  encodeWord,
  notificationMail,
  receiptMail,
  type Language,
  type MailHead,
  type NotificationInput,
  type ReceiptInput,
} from './mail.ts';

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

/** Where she reads the codes: SEALPOST_PUBLIC_URL/console. */
export function consoleUrl(config: Pick<Config, 'publicUrl'>): string {
  return `${config.publicUrl.replace(/\/+$/, '')}/console`;
}
