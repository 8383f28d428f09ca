import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from './db/schema.ts';
import type { AuditEntry } from './audit.ts';
import { newId } from './ids.ts';

/**
 * Stored policy rules (the admin's explicit exceptions). The engine that applies them is the pure
 * `evaluate` in gateway/policy.ts; this module only stores and validates them.
 *   match:  'user@domain' (one address), 'domain' (that domain), '.domain' (its subdomains too), '*'
 *   action: 'plain'  — clear text allowed (delivered only over TLS)
 *           'reject' — never send to this recipient
 */
export const ruleActionSchema = z.enum(['plain', 'reject']);
export type RuleAction = z.infer<typeof ruleActionSchema>;

export const ruleMatchSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(
    /^(\*|\.?[a-z0-9.-]+\.[a-z]{2,}|[^\s@]+@[a-z0-9.-]+\.[a-z]{2,})$/,
    'expected user@domain, domain, .domain or *',
  );

/**
 * A rule's note (shown to the sender in the SMTP refusal of a reject rule) and reason (why the exception
 * exists, e.g. a client's documented written consent to clear mail; audited with the rule): one line of
 * printable text each, never message content.
 */
export const ruleTextSchema = z
  .string()
  .trim()
  .max(200)
  .regex(/^[^\p{Cc}]*$/u, 'one line of text, no control characters');

export interface PolicyRule {
  id: string;
  match: string;
  action: RuleAction;
  note: string | null;
  reason?: string | null;
}

/** A note as it goes into an SMTP reply line: ASCII only (accents folded), no brackets of our code. */
export function smtpNote(note: string): string {
  return note
    .normalize('NFKD')
    .replace(/\p{M}/gu, '')
    .replace(/ß/g, 'ss')
    .replace(/[^\x20-\x7e]|[[\]]/g, '?')
    .slice(0, 200);
}

export class PolicyRuleStore {
  constructor(private readonly db: Kysely<Database>) {}

  async set(
    input: { match: string; action: string; note?: string; reason?: string },
    now: Date,
  ): Promise<PolicyRule> {
    const match = ruleMatchSchema.parse(input.match);
    const action = ruleActionSchema.parse(input.action);
    const note = input.note ? ruleTextSchema.parse(input.note) || null : null;
    const reason = input.reason ? ruleTextSchema.parse(input.reason) || null : null;
    const existing = await this.db
      .selectFrom('policy_rules')
      .select('id')
      .where('match', '=', match)
      .executeTakeFirst();
    const id = existing?.id ?? newId();
    if (existing) {
      await this.db.updateTable('policy_rules').set({ action, note, reason }).where('id', '=', id).execute();
    } else {
      await this.db
        .insertInto('policy_rules')
        .values({ id, match, action, note, reason, created_at: now.getTime() })
        .execute();
    }
    return { id, match, action, note, reason };
  }

  async remove(match: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('policy_rules')
      .where('match', '=', ruleMatchSchema.parse(match))
      .executeTakeFirst();
    return Number(result.numDeletedRows) > 0;
  }

  async list(): Promise<PolicyRule[]> {
    const rows = await this.db.selectFrom('policy_rules').selectAll().orderBy('match').execute();
    return rows.map((r) => ({
      id: r.id,
      match: r.match,
      action: ruleActionSchema.parse(r.action),
      note: r.note,
      reason: r.reason,
    }));
  }
}

/** Who acts on the rules: 'cli' or a console login, with the console's client IP. */
export interface RuleActor {
  actor: string;
  ip?: string;
}

interface RuleStores {
  rules: PolicyRuleStore;
  audit: { record(entry: AuditEntry, now: Date): Promise<void> };
}

/**
 * Set a rule and audit it: `sealpost policy set` and the console's policy screen call this one function.
 * The audit entry carries the match, the action and the reason (never a message's content).
 */
export async function setPolicyRule(
  stores: RuleStores,
  input: { match: string; action: string; note?: string; reason?: string },
  who: RuleActor,
  now: Date,
): Promise<PolicyRule> {
  const rule = await stores.rules.set(input, now);
  const detail = rule.reason ? `${rule.action}; ${rule.reason}` : rule.action;
  await stores.audit.record({ ...who, action: 'policy.set', subject: rule.match, detail }, now);
  return rule;
}

/** Remove a rule and audit it (CLI and console); false when there was none. */
export async function removePolicyRule(
  stores: RuleStores,
  match: string,
  who: RuleActor,
  now: Date,
): Promise<boolean> {
  const removed = await stores.rules.remove(match);
  if (removed) await stores.audit.record({ ...who, action: 'policy.remove', subject: match }, now);
  return removed;
}
