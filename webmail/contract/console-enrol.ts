import * as z from 'zod/mini';

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
