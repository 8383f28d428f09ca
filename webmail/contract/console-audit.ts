import * as z from 'zod/mini';

/** The admin's audit screen (docs/admin-console.md): who, what, on what, when, from where; never content. */
const day = z.optional(z.string().check(z.regex(/^\d{4}-\d{2}-\d{2}$/)));
export const auditQuery = z.strictObject({
  from: day,
  to: day,
  actor: z.optional(z.string().check(z.maxLength(254))),
  action: z.optional(z.string().check(z.maxLength(64))),
  page: z._default(z.coerce.number().check(z.int(), z.minimum(0), z.maximum(100_000)), 0),
});
export type AuditQueryInput = z.input<typeof auditQuery>;

export const auditLine = z.strictObject({
  id: z.number(),
  at: z.string(),
  actor: z.string(),
  action: z.string(),
  subject: z.nullable(z.string()),
  detail: z.nullable(z.string()),
  ip: z.nullable(z.string()),
});
export const auditAnswer = z.strictObject({
  page: z.number(),
  more: z.boolean(),
  lines: z.array(auditLine),
  /** Every action recorded so far (the filter's choices). */
  actions: z.array(z.string()),
});
export type AuditAnswer = z.input<typeof auditAnswer>;
