import * as z from 'zod/mini';

/**
 * The sent-messages screen's contract (docs/console.md "Sent messages", "Evidence record"): shared by the
 * server (webmail/console-api/sent.ts) and the console app. Content never appears here: the subject only as
 * OpenPGP to her console key, and not at all in the evidence record.
 */
export const sentIdSchema = z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/));
export const sentPageQuery = z.object({
  page: z.optional(z.pipe(z.string().check(z.regex(/^[0-9]{1,6}$/)), z.transform(Number))),
});
export const SENT_PAGE_SIZE = 20;

const delivery = z.strictObject({
  state: z.enum(['queued', 'deferred', 'delivered', 'bounced', 'unknown']),
  /** delivered or bounced: when; deferred: the next try. */
  at: z.nullable(z.string()),
  nextTry: z.nullable(z.string()),
  attempts: z.number(),
  /** Our code of the last attempt (docs/codes.md) and the receiving server's reply line, if any. */
  code: z.nullable(z.string()),
  reply: z.nullable(z.string()),
  /** The TLS protocol of the connection that carried the delivered copy (`TLSv1.3`; `none`: in clear). */
  tls: z.nullable(z.string()),
});

const pickup = z.strictObject({
  firstOpenedAt: z.nullable(z.string()),
  withdrawnAt: z.nullable(z.string()),
  expiredAt: z.nullable(z.string()),
  replies: z.number(),
});

export const sentRecipient = z.strictObject({
  id: sentIdSchema,
  address: z.string(),
  path: z.enum(['pgp', 'pickup', 'plain']),
  /** The policy's reason: 'key:<fpr>', 'rule:<id>', 'no-key', … (never message text). */
  reason: z.string(),
  /** The rule that decided, when one did ('rule:<id>'). */
  rule: z.nullable(z.string()),
  key: z.nullable(z.strictObject({ fingerprint: z.string(), source: z.string() })),
  delivery,
  pickup: z.nullable(pickup),
});

export const sentMessage = z.strictObject({
  id: sentIdSchema,
  date: z.string(),
  /** OpenPGP to her console key (base64); null when the message had none or came before the console key. */
  subject: z.nullable(z.strictObject({ ciphertext: z.base64(), readable: z.boolean() })),
  recipients: z.array(sentRecipient),
});

export const sentAnswer = z.strictObject({
  page: z.number(),
  pages: z.number(),
  total: z.number(),
  messages: z.array(sentMessage),
});
export type SentAnswer = z.input<typeof sentAnswer>;
export type SentRecipient = z.infer<typeof sentRecipient>;

/** GET /api/console/sent/:id/evidence: what became of one message, for her files. No content, no subject. */
export const evidenceAnswer = z.strictObject({
  kind: z.literal('sealpost-evidence-record'),
  version: z.literal(1),
  generatedAt: z.string(),
  message: z.strictObject({ id: sentIdSchema, acceptedAt: z.string(), sender: z.string() }),
  recipients: z.array(sentRecipient),
});
export type EvidenceAnswer = z.input<typeof evidenceAnswer>;

/** POST /sent/recipients/:id/new-code: the code waits (encrypted) on her access-codes screen. */
/** The answer of withdraw and unlock. */
export const okAnswer = z.strictObject({ ok: z.literal(true) });

export const newCodeAnswer = z.strictObject({ ok: z.literal(true), stale: z.number() });
