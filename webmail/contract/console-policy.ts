import * as z from 'zod/mini';

/** The admin's policy screen (docs/admin-console.md): rules and the live explain box. */
const ruleText = z.optional(z.string().check(z.maxLength(200)));

export const policyRule = z.strictObject({
  id: z.string(),
  match: z.string(),
  action: z.enum(['plain', 'reject']),
  note: z.nullable(z.string()),
  reason: z.nullable(z.string()),
});
/** GET /api/console/policy: the rules, most specific first (the order the engine applies them). */
export const policyAnswer = z.strictObject({ rules: z.array(policyRule) });
export type PolicyAnswer = z.input<typeof policyAnswer>;

/** POST /api/console/policy: add or change the rule for `match`. */
export const policySetRequest = z.strictObject({
  match: z.string().check(z.minLength(1), z.maxLength(254)),
  action: z.enum(['plain', 'reject']),
  note: ruleText,
  reason: ruleText,
});
/** POST /api/console/policy/remove */
export const policyRemoveRequest = z.strictObject({
  match: z.string().check(z.minLength(1), z.maxLength(254)),
});

/** POST /api/console/policy/explain: from + to → the gateway's verdict. */
export const explainRequest = z.strictObject({
  from: z.string().check(z.minLength(3), z.maxLength(254)),
  to: z.string().check(z.minLength(3), z.maxLength(254)),
});
export const explainAnswer = z.strictObject({
  recipient: z.string(),
  verdict: z.enum(['pgp', 'pickup', 'plain', 'reject', 'defer']),
  code: z.string(),
  reply: z.string(),
  reason: z.string(),
  rule: z.nullable(z.strictObject({ match: z.string(), action: z.string(), note: z.nullable(z.string()) })),
  key: z.strictObject({ state: z.string(), fingerprint: z.optional(z.string()) }),
  /** Set when the whole message would be refused (no signing key for the sender). */
  blocked: z.optional(z.strictObject({ code: z.string(), reply: z.string() })),
});
export type ExplainAnswer = z.input<typeof explainAnswer>;
