import type { Code } from '../../core/errors.ts';
import { domainOf, normaliseAddress } from '../../core/ids.ts';
import type { PolicyRule } from '../../core/policy-rules.ts';
import type { KeyProblem } from '../openpgp/index.ts';
import type { RecipientKeyStatus } from '../store/index.ts';

/**
 * The policy engine (DESIGN.md "The gateway pipeline", step 3): a pure function from the facts known about
 * one recipient and the admin's rules to a verdict with a reason. It returns, it never throws (Haraka
 * style), so that every recipient gets a recorded reason and no error path can fall through to sending.
 * It lives in keys/ (not gateway/) because three services ask it: the gateway at RCPT, `sealpost explain`
 * and the admin API's explain — one engine, never a copy.
 */
export type KeyFact =
  | RecipientKeyStatus
  | { state: 'error' }
  /** Key discovery could not answer (a source timed out or failed, none had a key). */
  | { state: 'unavailable'; reason: 'timeout' | 'error' };

export interface PolicyFacts {
  recipient: string;
  key: KeyFact;
  /** Whether secure pickup is switched on (config `pickup.enabled`). */
  pickup: boolean;
  /** What an unanswered key lookup leads to (config `discovery.onTimeout`); default 'defer'. */
  onTimeout?: 'defer' | 'pickup';
}

export type VerdictKind = 'pgp' | 'pickup' | 'plain' | 'reject' | 'defer';

export interface Verdict {
  verdict: VerdictKind;
  /** The code of the SMTP reply for this recipient (GW_ACCEPTED for pgp, pickup and plain). */
  code: Code;
  /**
   * Why: 'key:<fpr>', 'rule:<id>', 'no-key', 'key-<problem>:<fpr>', 'lookup-error', 'key-held:<fpr>',
   * 'lookup-timeout' / 'lookup-unavailable', and for pickup 'no-key' or 'key-<problem>:<fpr>'. Never message
   * text.
   */
  reason: string;
}

const PROBLEM_CODES: Record<KeyProblem, Code> = {
  expired: 'GW_KEY_EXPIRED',
  revoked: 'GW_KEY_REVOKED',
  weak: 'GW_KEY_WEAK',
  'no-encryption-key': 'GW_KEY_NO_ENCRYPTION',
  // A stored key that cannot be read, or a private key where a public one belongs: no usable key.
  unreadable: 'GW_NO_KEY',
  'private-key': 'GW_NO_KEY',
};

/**
 * How specific a rule is for an address; higher wins, undefined when it does not match.
 * address (3e6) > exact domain (2e6) > '.domain' parent, longer suffix first (1e6 + length) > '*' (0).
 */
export function ruleSpecificity(match: string, address: string): number | undefined {
  const m = match.toLowerCase();
  const addr = normaliseAddress(address);
  const domain = domainOf(addr);
  if (m === '*') return 0;
  if (m.includes('@')) return m === addr ? 3_000_000 : undefined;
  if (m.startsWith('.')) {
    const parent = m.slice(1);
    return domain === parent || domain.endsWith(m) ? 1_000_000 + parent.length : undefined;
  }
  return m === domain ? 2_000_000 : undefined;
}

/** The most specific rule matching `address`, or undefined. Ties (duplicate matches) go to the first. */
export function matchRule(address: string, rules: readonly PolicyRule[]): PolicyRule | undefined {
  let best: { rule: PolicyRule; score: number } | undefined;
  for (const rule of rules) {
    const score = ruleSpecificity(rule.match, address);
    if (score !== undefined && (!best || score > best.score)) best = { rule, score };
  }
  return best?.rule;
}

/**
 * Order (first that applies):
 *  1. a `reject` rule                → reject  GW_POLICY_REJECT
 *  2. the key lookup failed          → defer   GW_DEFER (4xx; a `plain` rule is no excuse: a key may exist,
 *                                      and sending in clear to a recipient we could not check is a downgrade)
 *  3. a usable key                   → pgp
 *  4. a `plain` rule                 → plain
 *  5. a changed key held for the admin → pickup (pickup on) or defer GW_KEY_HELD — never the old key
 *  6. discovery did not answer       → pickup when `discovery.onTimeout` is 'pickup' and pickup is on,
 *                                      else defer GW_KEY_LOOKUP_TIMEOUT
 *  7. no usable key, pickup on       → pickup  (the content waits, encrypted, for the recipient's browser)
 *  8. an unusable key, pickup off    → reject  GW_KEY_EXPIRED / _REVOKED / _WEAK / _NO_ENCRYPTION
 *  9. no key, pickup off             → reject  GW_NO_KEY
 */
export function evaluate(facts: PolicyFacts, rules: readonly PolicyRule[]): Verdict {
  const rule = matchRule(facts.recipient, rules);
  if (rule?.action === 'reject')
    return { verdict: 'reject', code: 'GW_POLICY_REJECT', reason: `rule:${rule.id}` };
  const key = facts.key;
  if (key.state === 'error') return { verdict: 'defer', code: 'GW_DEFER', reason: 'lookup-error' };
  if (key.state === 'usable')
    return { verdict: 'pgp', code: 'GW_ACCEPTED', reason: `key:${key.fingerprint}` };
  if (rule?.action === 'plain') return { verdict: 'plain', code: 'GW_ACCEPTED', reason: `rule:${rule.id}` };
  if (key.state === 'held') {
    const reason = `key-held:${key.fingerprint}`;
    return facts.pickup
      ? { verdict: 'pickup', code: 'GW_ACCEPTED', reason }
      : { verdict: 'defer', code: 'GW_KEY_HELD', reason };
  }
  if (key.state === 'unavailable') {
    const reason = key.reason === 'timeout' ? 'lookup-timeout' : 'lookup-unavailable';
    return facts.pickup && facts.onTimeout === 'pickup'
      ? { verdict: 'pickup', code: 'GW_ACCEPTED', reason }
      : { verdict: 'defer', code: 'GW_KEY_LOOKUP_TIMEOUT', reason };
  }
  if (facts.pickup) {
    const reason = key.state === 'unusable' ? `key-${key.problem}:${key.fingerprint}` : 'no-key';
    return { verdict: 'pickup', code: 'GW_ACCEPTED', reason };
  }
  if (key.state === 'unusable') {
    return {
      verdict: 'reject',
      code: PROBLEM_CODES[key.problem] ?? 'GW_NO_KEY',
      reason: `key-${key.problem}:${key.fingerprint}`,
    };
  }
  return { verdict: 'reject', code: 'GW_NO_KEY', reason: 'no-key' };
}
