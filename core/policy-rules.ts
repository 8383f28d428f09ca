import type { Kysely } from 'kysely';
import { z } from 'zod';
import type { Database } from './db/schema.ts';
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

export interface PolicyRule {
  id: string;
  match: string;
  action: RuleAction;
  note: string | null;
}

export class PolicyRuleStore {
  constructor(private readonly db: Kysely<Database>) {}

  async set(input: { match: string; action: string; note?: string }, now: Date): Promise<PolicyRule> {
    const match = ruleMatchSchema.parse(input.match);
    const action = ruleActionSchema.parse(input.action);
    const existing = await this.db
      .selectFrom('policy_rules')
      .select('id')
      .where('match', '=', match)
      .executeTakeFirst();
    const id = existing?.id ?? newId();
    if (existing) {
      await this.db
        .updateTable('policy_rules')
        .set({ action, note: input.note ?? null })
        .where('id', '=', id)
        .execute();
    } else {
      await this.db
        .insertInto('policy_rules')
        .values({ id, match, action, note: input.note ?? null, created_at: now.getTime() })
        .execute();
    }
    return { id, match, action, note: input.note ?? null };
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
    }));
  }
}
