import * as z from 'zod/mini';

/**
 * The admin's sender keys screen and the recipient key actions (docs/admin-console.md "Sender keys",
 * "Recipient keys"): shared by the console API (webmail/console-api/admin-sender-keys.ts, admin-keys.ts)
 * and the console app.
 */
export const SENDER_KEYS_PAGE_SIZE = 20;

const address = z.string().check(z.minLength(3), z.maxLength(254), z.regex(/^[^\s@]+@[^\s@]+$/));
/** A v4 (40 hex digits) or v6 (64) fingerprint, spaces allowed as OpenPGP programs group it. */
const fingerprint = z
  .string()
  .check(z.maxLength(100), z.regex(/^(?:[0-9A-Fa-f]\s*){40}$|^(?:[0-9A-Fa-f]\s*){64}$/));

/** GET /api/console/sender-keys?q=&page= */
export const senderKeysQuery = z.strictObject({
  q: z.optional(z.string().check(z.maxLength(254))),
  page: z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(100_000))),
});
export const senderKeyRow = z.strictObject({
  address: z.string(),
  fingerprint: z.string(),
  /** The primary key's algorithm with its size or curve, e.g. `eddsaLegacy ed25519Legacy`. */
  algorithm: z.string(),
  origin: z.string(),
  state: z.enum(['active', 'retired', 'revoked']),
  created: z.string(),
  expires: z.nullable(z.string()),
  revokedAt: z.nullable(z.string()),
});
export const senderKeysAnswer = z.strictObject({
  keys: z.array(senderKeyRow),
  total: z.number(),
  page: z.number(),
  pageSize: z.number(),
  /** The addresses users may send as: those a key can be generated for. */
  addresses: z.array(z.string()),
});
export type SenderKeysAnswer = z.input<typeof senderKeysAnswer>;
export type SenderKeyLine = z.input<typeof senderKeyRow>;

/** POST /api/console/sender-keys/generate and /rotate: a user's sender address. */
export const senderAddressRequest = z.strictObject({ address });
export const generatedAnswer = z.strictObject({
  fingerprint: z.string(),
  previous: z.nullable(z.string()),
});

/** POST /api/console/sender-keys/import: an armored private key, with its passphrase if it is locked. */
export const senderImportRequest = z.strictObject({
  armored: z.string().check(z.minLength(1), z.maxLength(1_000_000)),
  passphrase: z.optional(z.string().check(z.maxLength(1024))),
});

/** GET /api/console/sender-keys/:fingerprint/public: the armored public key (a download, `.asc`). */
export const publicKeyAnswer = z.strictObject({ fingerprint: z.string(), armored: z.string() });

/** POST /api/console/sender-keys/revoke */
export const revokeRequest = z.strictObject({ fingerprint });
export const revokeAnswer = z.strictObject({ fingerprint: z.string(), addresses: z.array(z.string()) });

/** POST /api/console/keys/pin and /keys/drop: one recipient key of an address. */
export const recipientKeyRequest = z.strictObject({ address, fingerprint });
export const okAnswer = z.strictObject({ ok: z.literal(true) });
