import * as z from 'zod/mini';

/**
 * The pickup API's contract (docs/pickup.md): one set of schemas imported by the server (webmail/api/) and
 * the pickup app (webmail/pickup/src/lib/api.ts), so that a renamed or retyped field breaks the type check
 * on both sides (`npx tsc` and `npm run check:web`), not a recipient's browser. zod/mini: the app's bundle
 * stays small, and the server parses with the same schemas. Browser code: no Node module here.
 *
 * Requests are what the server parses (strict: an unknown field is refused); answers are what the server
 * builds (typed with `z.input`) and what the app parses before it uses them.
 */
export const pickupIdSchema = z.string().check(z.regex(/^[A-Za-z0-9_-]{22}$/));

/**
 * The parameters a person's own secret (a chosen passphrase, a console password) is derived with
 * (DESIGN.md "Pickup crypto"); an upload may not choose weaker ones. keys/access-code.ts derives with the
 * same (test/unit/access-code.test.ts).
 */
export const KDF_MINIMUM = Object.freeze({
  alg: 'argon2id' as const,
  memoryKiB: 65536,
  iterations: 3,
  parallelism: 1,
});

/**
 * The parameters an access code Sealpost issued is derived with: 50 random bits need fewer passes than a
 * chosen passphrase to stay out of reach offline (docs/pickup.md "Key derivation cost"). The same memory,
 * one pass: about a third of the time at unlock.
 */
export const CODE_KDF = Object.freeze({
  alg: 'argon2id' as const,
  memoryKiB: 65536,
  iterations: 1,
  parallelism: 1,
});

const kdfFields = (minimumIterations: number) => ({
  alg: z.literal('argon2id'),
  salt: z.string().check(z.regex(/^[A-Za-z0-9+/]{22}==$/)),
  memoryKiB: z.int().check(z.minimum(KDF_MINIMUM.memoryKiB), z.maximum(1024 * 1024)),
  iterations: z.int().check(z.minimum(minimumIterations), z.maximum(20)),
  parallelism: z.int().check(z.minimum(1), z.maximum(8)),
});

/** Argon2id parameters of a person's own secret (an upload), with a salt of 16 bytes (base64, `==`). */
export const kdfSchema = z.strictObject(kdfFields(KDF_MINIMUM.iterations));
/**
 * Argon2id parameters as stored with a contact: those of an issued code (CODE_KDF) or of a passphrase
 * (KDF_MINIMUM). Contacts stored before codes had their own cost carry KDF_MINIMUM and keep working.
 */
export const storedKdfSchema = z.strictObject(kdfFields(CODE_KDF.iterations));
export type Kdf = z.infer<typeof kdfSchema>;

/** How a contact's secret came about: a code Sealpost issued, or the recipient's own passphrase. */
export const secretKind = z.enum(['code', 'passphrase']);

// ---- requests ---------------------------------------------------------------------------------------

/** POST /:id/unlock */
export const unlockRequest = z.strictObject({ authKey: z.base64() });
/** POST /session/replies: an armored OpenPGP message written in the browser. */
export const replyRequest = z.strictObject({
  inReplyTo: pickupIdSchema,
  message: z.string().check(z.minLength(1)),
});
/** POST /session/secret: the recipient's own passphrase (the same key pair, locked anew). */
export const secretRequest = z.strictObject({
  secretKind: z.literal('passphrase'),
  kdf: kdfSchema,
  authKey: z.base64(),
  lockedPrivateKey: z.base64().check(z.maxLength(64 * 1024)),
});
/** POST /session/key: the recipient's own OpenPGP public key. */
export const ownKeyRequest = z.strictObject({
  publicKey: z.string().check(z.minLength(1), z.maxLength(1024 * 1024)),
});

export type UnlockRequest = z.infer<typeof unlockRequest>;
export type ReplyRequest = z.infer<typeof replyRequest>;
export type SecretRequest = z.infer<typeof secretRequest>;
export type OwnKeyRequest = z.infer<typeof ownKeyRequest>;

// ---- answers ----------------------------------------------------------------------------------------

/** GET /:id — before unlock: the sender's display name and how to derive the keys, nothing else. */
export const metaAnswer = z.object({
  id: z.string(),
  state: z.literal('available'),
  sender: z.object({ displayName: z.string() }),
  createdAt: z.string(),
  expiresAt: z.string(),
  // A passphrase is never derived with a code's cost, whatever the server says.
  contact: z.object({ secretKind, locked: z.boolean(), kdf: storedKdfSchema }).check(
    z.refine((c) => c.secretKind === 'code' || c.kdf.iterations >= KDF_MINIMUM.iterations, {
      message: 'passphrase with a code cost',
    }),
  ),
  readable: z.boolean(),
});
/** POST /:id/unlock — the locked private key and the session's header key. */
export const unlockAnswer = z.object({
  contact: z.object({
    id: z.string(),
    address: z.string(),
    fingerprint: z.string(),
    lockedPrivateKey: z.string(),
  }),
  session: z.object({ expiresAt: z.string(), key: z.string() }),
});
/** GET /session */
export const sessionAnswer = z.object({
  contact: z.object({ id: z.string(), address: z.string(), fingerprint: z.string(), secretKind }),
  expiresAt: z.string(),
});
const sender = z.object({ address: z.string(), displayName: z.string(), fingerprint: z.string() });
/** GET /session/messages — metadata only; the ciphertext is GET /session/messages/:id. */
export const messagesAnswer = z.object({
  messages: z.array(
    z.object({
      id: z.string(),
      sender,
      createdAt: z.string(),
      expiresAt: z.string(),
      size: z.number(),
      readable: z.boolean(),
    }),
  ),
});
/** GET /session/senders — every key that signed a message here, and each sender's current key. */
export const sendersAnswer = z.object({
  senders: z.array(
    z.object({
      address: z.string(),
      displayName: z.string(),
      fingerprint: z.string(),
      publicKey: z.string(),
      active: z.optional(z.boolean()),
    }),
  ),
});
/** POST /session/replies (202) */
export const replyAnswer = z.object({ id: z.string() });
/** POST /session/key */
export const ownKeyAnswer = z.object({ fingerprint: z.string() });
/** POST /session/secret, POST /session/logout */
export const okAnswer = z.object({ ok: z.boolean() });
/** GET /session/replies: the contact's own earlier replies still readable with their key (ids only). */
export const ownRepliesAnswer = z.object({
  replies: z.array(z.object({ id: z.string(), inReplyTo: z.string(), createdAt: z.string() })),
});
/** GET /practice: the operator block — who runs this page (only what the configuration names). */
const webUrl = z.string().check(z.regex(/^https?:\/\/[^\s]+$/));
export const practiceAnswer = z.object({
  name: z.string(),
  address: z.optional(z.string()),
  phone: z.optional(z.string()),
  imprintUrl: z.optional(webUrl),
  privacyUrl: z.optional(webUrl),
  securityWord: z.optional(z.string()),
});
/** Every error: a stable code (docs/codes.md) and its extras. */
export const errorAnswer = z.object({
  code: z.string(),
  attemptsLeft: z.optional(z.number()),
  problem: z.optional(z.string()),
});

export type MetaAnswer = z.input<typeof metaAnswer>;
export type UnlockAnswer = z.input<typeof unlockAnswer>;
export type SessionAnswer = z.input<typeof sessionAnswer>;
export type MessagesAnswer = z.input<typeof messagesAnswer>;
export type SendersAnswer = z.input<typeof sendersAnswer>;
export type ReplyAnswer = z.input<typeof replyAnswer>;
export type OwnKeyAnswer = z.input<typeof ownKeyAnswer>;
export type OkAnswer = z.input<typeof okAnswer>;
export type OwnRepliesAnswer = z.input<typeof ownRepliesAnswer>;
export type PracticeAnswer = z.input<typeof practiceAnswer>;
