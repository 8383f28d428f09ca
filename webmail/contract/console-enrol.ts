import * as z from 'zod/mini';
import { secretRequest } from './pickup.ts';

/**
 * The "new secure contact" screen's contract (/console/contacts/new, docs/console.md "New secure contact"):
 * shared by the server (webmail/console-api/enrol.ts) and the app. Browser code: no Node module.
 */

/** POST /api/console/contacts: the client's e-mail address. */
export const enrolRequest = z.strictObject({
  address: z.email().check(z.maxLength(254)),
});
export type EnrolRequest = z.infer<typeof enrolRequest>;

/**
 * The printable card: the practice, the pickup address (SEALPOST_PUBLIC_URL) with its QR code (a PNG data
 * URL), and the code as OpenPGP to her console key (base64) — her browser decrypts it; it is stored nowhere.
 */
export const enrolAnswer = z.strictObject({
  contact: z.string(),
  practice: z.string(),
  pickupUrl: z.string(),
  qr: z.string().check(z.startsWith('data:image/png;base64,')),
  ciphertext: z.base64(),
});
export type EnrolAnswer = z.input<typeof enrolAnswer>;

/**
 * POST /api/console/contacts/passphrase: the client chose their own passphrase on her device (docs/console.md
 * "Own passphrase"). Her browser made the contact's key pair and id, derived authKey ‖ lockKey from the
 * passphrase with a person's passphrase cost (kdfSchema: at least three passes) and locked the private key
 * with lockKey (AAD `sealpost-pickup-key:<contactId>`), exactly as the pickup app's "change the code" does;
 * `secret` is that request's shape. The passphrase, lockKey and the private key never leave the browser.
 */
export const enrolPassphraseRequest = z.strictObject({
  address: z.email().check(z.maxLength(254)),
  contactId: z.uuid(),
  /** The contact's public key, armored (its User ID names `address`). */
  publicKey: z.string().check(z.minLength(1), z.maxLength(16 * 1024)),
  secret: secretRequest,
});
export type EnrolPassphraseRequest = z.infer<typeof enrolPassphraseRequest>;

/** The card without a code: the practice, the pickup address and its QR code. */
export const enrolPassphraseAnswer = z.strictObject({
  contact: z.string(),
  practice: z.string(),
  pickupUrl: z.string(),
  qr: z.string().check(z.startsWith('data:image/png;base64,')),
});
export type EnrolPassphraseAnswer = z.input<typeof enrolPassphraseAnswer>;
