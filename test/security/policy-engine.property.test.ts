import assert from 'node:assert/strict';
import fc from 'fast-check';
import { CODES, isTemporary } from '../../core/errors.ts';
import type { PolicyRule } from '../../core/policy-rules.ts';
import type { EncryptionKey } from '../../keys/index.ts';
import {
  evaluate,
  matchRule,
  ruleSpecificity,
  type KeyFact,
  type PolicyFacts,
} from '../../keys/policy/evaluate.ts';

/**
 * The policy engine's invariants (keys/policy/evaluate.ts, docs/gateway.md "Policy"; DESIGN.md invariant 1, fail
 * closed), checked by fast-check over random recipients, rule sets, key facts and switches:
 *  - never `plain` unless the most specific rule for the recipient is a `plain` rule, and never while a
 *    usable key exists or the lookup failed (no silent downgrade);
 *  - a `reject` rule always wins; a failed lookup always defers (but for a reject rule);
 *  - `pgp` exactly when a usable key exists and no reject rule applies;
 *  - `pickup` only when pickup is on;
 *  - codes match the verdict: 250-class for pgp/pickup/plain, 5xx for reject, 4xx for defer;
 *  - the verdict depends on the set of rules, not their order (match strings are unique, as the store
 *    keeps them), and evaluate never throws.
 */
const RUNS = Number(process.env.FUZZ_RUNS ?? 2000);
const FPR = 'B'.repeat(40);

const RECIPIENT = fc.constantFrom(
  'a@x.example',
  'b@x.example',
  'c@sub.x.example',
  'd@deep.sub.x.example',
  'e@y.example',
  'f@example',
  'g@xx.example',
);
const MATCH = fc.constantFrom(
  '*',
  'x.example',
  '.x.example',
  'sub.x.example',
  '.sub.x.example',
  'a@x.example',
  'c@sub.x.example',
  'y.example',
  '.example',
  'example',
  'xx.example',
);
const RULES = fc
  .uniqueArray(fc.tuple(MATCH, fc.constantFrom('plain' as const, 'reject' as const)), {
    selector: ([match]) => match,
    maxLength: 6,
  })
  .map((rows) => rows.map(([match, action], i): PolicyRule => ({ id: `r${i}`, match, action, note: null })));
const KEY: fc.Arbitrary<KeyFact> = fc.oneof(
  fc.constant<KeyFact>({
    state: 'usable',
    key: {} as EncryptionKey,
    fingerprint: FPR,
    source: 'admin',
    expires: null,
  }),
  fc
    .constantFrom(
      'expired' as const,
      'revoked' as const,
      'weak' as const,
      'no-encryption-key' as const,
      'unreadable' as const,
    )
    .map((problem): KeyFact => ({ state: 'unusable', problem, fingerprint: FPR, source: 'wkd-direct' })),
  fc.constant<KeyFact>({ state: 'none' }),
  fc.constant<KeyFact>({ state: 'error' }),
  fc.constant<KeyFact>({
    state: 'held',
    fingerprint: FPR,
    previous: 'C'.repeat(40),
    source: 'vks',
    changeId: 'k1',
  }),
  fc
    .constantFrom('timeout' as const, 'error' as const)
    .map((reason): KeyFact => ({ state: 'unavailable', reason })),
);
const FACTS: fc.Arbitrary<PolicyFacts> = fc.record({
  recipient: RECIPIENT,
  key: KEY,
  pickup: fc.boolean(),
  onTimeout: fc.constantFrom('defer' as const, 'pickup' as const),
});

describe('security: the policy engine never sends in clear without a rule (property-based)', () => {
  it('holds its invariants for any recipient, rules, key fact and switches', () => {
    fc.assert(
      fc.property(FACTS, RULES, (facts, rules) => {
        const v = evaluate(facts, rules);
        const rule = matchRule(facts.recipient, rules);
        if (v.verdict === 'plain') {
          assert.equal(rule?.action, 'plain', 'plain needs the most specific rule to be plain');
          assert.equal(v.reason, `rule:${rule!.id}`);
          assert.notEqual(facts.key.state, 'usable', 'never plain while a usable key exists');
          assert.notEqual(facts.key.state, 'error', 'never plain when the lookup failed');
        }
        if (rule?.action === 'reject') {
          assert.equal(v.verdict, 'reject', 'a reject rule wins');
          assert.equal(v.code, 'GW_POLICY_REJECT');
        } else if (facts.key.state === 'error') {
          assert.equal(v.verdict, 'defer', 'a failed lookup defers');
        }
        assert.equal(v.verdict === 'pgp', facts.key.state === 'usable' && rule?.action !== 'reject');
        if (v.verdict === 'pickup') assert.equal(facts.pickup, true, 'pickup only when it is on');
        if (['pgp', 'pickup', 'plain'].includes(v.verdict)) assert.equal(CODES[v.code].smtp, 250);
        if (v.verdict === 'reject') assert.equal(CODES[v.code].smtp, 550);
        if (v.verdict === 'defer') assert.ok(isTemporary(v.code));
        assert.ok(v.reason.length > 0);
      }),
      { numRuns: RUNS },
    );
  });

  it('gives the same verdict whatever the order of the rules', () => {
    fc.assert(
      fc.property(
        FACTS,
        RULES.chain((rules) =>
          fc.tuple(fc.constant(rules), fc.shuffledSubarray(rules, { minLength: rules.length })),
        ),
        (facts, [rules, shuffled]) => {
          assert.deepEqual(evaluate(facts, shuffled), evaluate(facts, rules));
        },
      ),
      { numRuns: RUNS },
    );
  });

  it('a rule for the exact address is more specific than any domain rule, and "*" than none', () => {
    fc.assert(
      fc.property(RECIPIENT, MATCH, (rcpt, match) => {
        const score = ruleSpecificity(match, rcpt);
        if (score === undefined) return;
        if (match.includes('@')) assert.equal(score, 3_000_000);
        else if (match === '*') assert.equal(score, 0);
        else assert.ok(score > 0 && score < 3_000_000);
      }),
      { numRuns: RUNS },
    );
  });
});
