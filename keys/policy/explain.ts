import type { Config } from '../../core/config.ts';
import { CODES, type Code } from '../../core/errors.ts';
import { isAddress, normaliseAddress } from '../../core/ids.ts';
import type { Log } from '../../core/log.ts';
import type { PolicyRule } from '../../core/policy-rules.ts';
import type { VerdictKind } from './evaluate.ts';
import { decideRecipient, type DiscoveryNote, type RecipientKeys } from './recipient-keys.ts';
import type { KeyStore } from '../store/index.ts';

/**
 * "What would happen to this mail now, and why?" — per recipient, the verdict the gateway's RCPT stage
 * would take (the same decideRecipient and the same policy engine, not a copy), with the key it would use
 * and where that key came from. Nothing is sent and nothing is written: a key found on the network is
 * judged as the gateway would judge it, but not recorded.
 */
export interface RecipientExplanation {
  recipient: string;
  verdict: VerdictKind;
  code: Code;
  /** The SMTP reply the sender's client would get for this RCPT, e.g. "250 2.0.0". */
  reply: string;
  reason: string;
  rule: { id: string; match: string; action: string; note: string | null; reason: string | null } | null;
  key: {
    state: 'usable' | 'unusable' | 'held' | 'none' | 'unavailable' | 'error';
    fingerprint?: string;
    source?: string;
    sourceUrl?: string | null;
    expires?: string | null; // ISO date; null: never
    lastChecked?: string;
    problem?: string;
    /** For a held change: the fingerprint used before. */
    previous?: string;
  };
  discovery: DiscoveryNote;
}

export interface Explanation {
  from: string;
  /** The sender's signing key; pgp and pickup need it (else the gateway answers GW_NO_SENDER_KEY). */
  senderKey: { fingerprint: string } | null;
  /** Set when the whole message would be refused before any recipient (no sender key and one needs it). */
  blocked?: { code: Code; reply: string };
  recipients: RecipientExplanation[];
}

export interface ExplainDeps {
  keys: KeyStore;
  recipients: RecipientKeys;
  rules: { list(): Promise<PolicyRule[]> };
  config: Pick<Config, 'pickup' | 'discovery'>;
  log: Log;
}

export class ExplainInputError extends Error {
  override name = 'ExplainInputError';
}

export async function explain(
  deps: ExplainDeps,
  input: { from: string; to: readonly string[] },
): Promise<Explanation> {
  const from = normaliseAddress(input.from);
  if (!isAddress(from)) throw new ExplainInputError(`not an address: ${input.from}`);
  const to = [...new Set(input.to.map(normaliseAddress))];
  const bad = to.find((a) => !isAddress(a));
  if (bad !== undefined) throw new ExplainInputError(`not an address: ${bad}`);
  if (to.length === 0) throw new ExplainInputError('at least one recipient is needed');

  const rules = await deps.rules.list();
  const sender = await deps.keys.senderKey(from);
  const recipients: RecipientExplanation[] = [];
  for (const recipient of to) {
    const d = await decideRecipient({
      recipients: deps.recipients,
      rules,
      config: deps.config,
      recipient,
      record: false,
      log: deps.log,
    });
    const fact = d.resolution.fact;
    const key: RecipientExplanation['key'] = { state: fact.state };
    if (fact.state === 'usable') {
      key.fingerprint = fact.fingerprint;
      key.source = fact.source;
      key.sourceUrl = fact.sourceUrl ?? null;
      key.expires = fact.expires ? fact.expires.toISOString() : null;
      if (fact.lastCheckedAt) key.lastChecked = fact.lastCheckedAt.toISOString();
    } else if (fact.state === 'unusable') {
      key.fingerprint = fact.fingerprint;
      key.source = fact.source;
      key.problem = fact.problem;
    } else if (fact.state === 'held') {
      key.fingerprint = fact.fingerprint;
      key.source = fact.source;
      key.previous = fact.previous;
    } else if (fact.state === 'unavailable') {
      key.problem = fact.reason;
    }
    recipients.push({
      recipient,
      verdict: d.verdict.verdict,
      code: d.verdict.code,
      reply: replyOf(d.verdict.code),
      reason: d.verdict.reason,
      rule: d.rule
        ? {
            id: d.rule.id,
            match: d.rule.match,
            action: d.rule.action,
            note: d.rule.note,
            reason: d.rule.reason ?? null,
          }
        : null,
      key,
      discovery: d.resolution.discovery,
    });
  }
  const needsSender = recipients.some((r) => r.verdict === 'pgp' || r.verdict === 'pickup');
  return {
    from,
    senderKey: sender ? { fingerprint: sender.signer.fingerprint } : null,
    ...(needsSender && !sender
      ? { blocked: { code: 'GW_NO_SENDER_KEY' as const, reply: replyOf('GW_NO_SENDER_KEY') } }
      : {}),
    recipients,
  };
}

function replyOf(code: Code): string {
  return `${CODES[code].smtp} ${CODES[code].enhanced}`;
}

/** The explanation as `sealpost explain` prints it: one block per recipient, no message content. */
export function formatExplanation(e: Explanation): string {
  const lines: string[] = [];
  lines.push(`from ${e.from}: ${e.senderKey ? `signing key ${e.senderKey.fingerprint}` : 'no signing key'}`);
  if (e.blocked) lines.push(`  the message would be refused: ${e.blocked.reply} [${e.blocked.code}]`);
  for (const r of e.recipients) {
    lines.push('');
    lines.push(`${r.recipient}: ${r.verdict.toUpperCase()} — ${r.reply} [${r.code}]`);
    lines.push(`  reason:    ${r.reason}`);
    if (r.rule) lines.push(`  rule:      ${r.rule.match} → ${r.rule.action} (${r.rule.id})`);
    const k = r.key;
    if (k.fingerprint) {
      const where = k.sourceUrl ? `${k.source} ${k.sourceUrl}` : k.source;
      lines.push(`  key:       ${k.fingerprint} (${k.state}, from ${where})`);
      if (k.state === 'usable') lines.push(`  valid:     until ${k.expires ?? 'no expiry'}`);
      if (k.lastChecked) lines.push(`  checked:   ${k.lastChecked}`);
      if (k.problem) lines.push(`  problem:   ${k.problem}`);
      if (k.previous) lines.push(`  held:      changed from ${k.previous}, waiting for the admin`);
    } else {
      lines.push(`  key:       ${k.state === 'unavailable' ? `lookup ${k.problem ?? 'failed'}` : k.state}`);
    }
    lines.push(`  discovery: ${r.discovery}`);
  }
  return lines.join('\n');
}
