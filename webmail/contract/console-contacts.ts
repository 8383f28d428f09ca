import * as z from 'zod/mini';

/**
 * The admin console's pickup contacts screen (`/console/contacts`, docs/admin-console.md): schemas shared by
 * the server (webmail/console-api/admin-contacts.ts) and the app (webmail/console/src/lib/api-contacts.ts).
 */
const address = z.string().check(z.minLength(3), z.maxLength(254), z.regex(/^[^\s@]+@[^\s@]+$/));

/** GET /api/console/contacts?page= */
export const contactsQuery = z.strictObject({
  page: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(10_000)), 0),
});

export const contactLine = z.strictObject({
  address: z.string(),
  created: z.string(),
  locked: z.boolean(),
  failedAttempts: z.number(),
  /** Pickups waiting for her (not yet expired or withdrawn). */
  waiting: z.number(),
  /** The last time she opened her messages with the right code, or null. */
  lastOpened: z.nullable(z.string()),
});
export const contactsAnswer = z.strictObject({
  page: z.number(),
  more: z.boolean(),
  lines: z.array(contactLine),
});
export type ContactsAnswer = z.input<typeof contactsAnswer>;

/** POST /contacts/unlock, /contacts/new-code, /contacts/delete; GET /contacts/erasure?address= (the counts). */
export const contactRequest = z.strictObject({ address });

/** What the erasure deletes (or would delete), by kind (keys/contact-actions.ts ErasureCounts). */
export const erasureCounts = z.strictObject({
  contact: z.number(),
  pickups: z.number(),
  tombstones: z.number(),
  sessions: z.number(),
  replies: z.number(),
  consoleReplies: z.number(),
  consoleCodes: z.number(),
  sentRecipients: z.number(),
  outbound: z.number(),
  keys: z.number(),
  auditEntries: z.number(),
});
export const erasureAnswer = z.strictObject({ counts: erasureCounts });

/**
 * A new code: routed to the console of each sender who wrote to her and has a console key (`routed`); the
 * code itself is in the answer, shown to the admin once, only when no sender has it in her console.
 */
export const newCodeAnswer = z.strictObject({
  code: z.nullable(z.string()),
  routed: z.array(z.string()),
  notRouted: z.array(z.string()),
  stale: z.number(),
});
export type NewCodeAnswer = z.input<typeof newCodeAnswer>;
