import * as z from 'zod/mini';

/** The admin's queue screen (docs/admin-console.md): metadata only, never a body or a subject. */
export const queueView = z.enum(['waiting', 'deferred', 'bounced', 'delivered']);
export const queueQuery = z.strictObject({
  view: z._default(queueView, 'deferred'),
  page: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(10_000)), 0),
});

export const queueLine = z.strictObject({
  id: z.string(),
  kind: z.string(),
  from: z.string(),
  to: z.string(),
  size: z.number(),
  attempts: z.number(),
  created: z.string(),
  /** queued rows: the next attempt; done rows: null */
  nextAttempt: z.nullable(z.string()),
  expires: z.string(),
  done: z.nullable(z.string()),
  /** Our code of the last attempt and the remote server's reply code (never its text). */
  lastCode: z.nullable(z.string()),
  lastSmtpCode: z.nullable(z.number()),
});
export const queueAnswer = z.strictObject({
  view: queueView,
  page: z.number(),
  more: z.boolean(),
  lines: z.array(queueLine),
  /** Rows per status (the queue depth). */
  counts: z.record(z.string(), z.number()),
});
export type QueueAnswer = z.input<typeof queueAnswer>;

/** POST /api/console/queue/:id/retry and /cancel (cancel sends a DSN to the sender). */
export const queueIdSchema = z.string().check(z.regex(/^[A-Za-z0-9-]{1,64}$/));
