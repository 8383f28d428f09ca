import * as z from 'zod/mini';

/** The admin's keys screen (docs/admin-console.md): recipient keys, held key changes, key import. */
export const KEYS_PAGE_SIZE = 20;

/** GET /api/console/keys?q=&page=: one page of recipient keys, searched by address or fingerprint. */
export const keysQuery = z.strictObject({
  q: z.optional(z.string().check(z.maxLength(254))),
  page: z.optional(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(100_000))),
});
export const recipientKey = z.strictObject({
  address: z.string(),
  fingerprint: z.string(),
  source: z.string(),
  sourceUrl: z.nullable(z.string()),
  firstSeenAt: z.string(),
  lastCheckedAt: z.string(),
  status: z.string(),
  problem: z.nullable(z.string()),
});
export const keyChange = z.strictObject({
  id: z.string(),
  address: z.string(),
  oldFingerprint: z.string(),
  newFingerprint: z.string(),
  source: z.string(),
  sourceUrl: z.nullable(z.string()),
  createdAt: z.string(),
});
export const keysAnswer = z.strictObject({
  keys: z.array(recipientKey),
  total: z.number(),
  page: z.number(),
  pageSize: z.number(),
  /** The key changes waiting for a decision, newest first. */
  held: z.array(keyChange),
});
export type KeysAnswer = z.input<typeof keysAnswer>;

/** POST /api/console/keys/changes/:id/approve|reject */
export const decideAnswer = z.strictObject({ id: z.string(), status: z.string() });

/** POST /api/console/keys/import: an armored key block (as `sealpost key import`). */
export const importRequest = z.strictObject({
  armored: z.string().check(z.minLength(1), z.maxLength(1_000_000)),
});
export const importAnswer = z.strictObject({
  imported: z.array(
    z.strictObject({
      kind: z.enum(['sender', 'recipient']),
      fingerprint: z.string(),
      addresses: z.array(z.string()),
    }),
  ),
});
