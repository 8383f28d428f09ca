import type { OutboundState, SentRecipientRow, Stores } from '../../core/store/index.ts';
import type { SentRecipient } from '../contract/console-sent.ts';

/**
 * Her sent list's rows as the contract has them (docs/console.md "Sent messages"): the recorded path and
 * reason, the delivery state of the outbound row (a pickup's: its notification), the pickup's first opening,
 * withdrawal or expiry. Built from what the spool and the worker recorded; nothing is stored for this.
 */
const iso = (ms: number | null | undefined) => (ms == null ? null : new Date(Number(ms)).toISOString());

export async function recipientViews(
  stores: Stores,
  rows: readonly SentRecipientRow[],
): Promise<SentRecipient[]> {
  const outboundIds = rows.flatMap((r) => (r.outbound_id ? [r.outbound_id] : []));
  const pickupIds = rows.flatMap((r) => (r.pickup_id ? [r.pickup_id] : []));
  const [states, replies, tombs] = await Promise.all([
    stores.outbound.states(outboundIds),
    stores.pickups.replyCounts(pickupIds),
    Promise.all(pickupIds.map(async (id) => [id, await stores.pickups.tombstone(id)] as const)),
  ]);
  const stateOf = new Map(states.map((s) => [s.id, s]));
  const tombOf = new Map(tombs);
  return rows.map((r) => {
    const tomb = r.pickup_id ? tombOf.get(r.pickup_id) : undefined;
    return {
      id: r.id,
      address: r.recipient,
      path: r.path as SentRecipient['path'],
      reason: r.reason,
      rule: r.reason.startsWith('rule:') ? r.reason.slice(5) : null,
      key:
        r.key_fingerprint && r.key_source ? { fingerprint: r.key_fingerprint, source: r.key_source } : null,
      delivery: delivery(r.outbound_id ? stateOf.get(r.outbound_id) : undefined),
      pickup: r.pickup_id
        ? {
            firstOpenedAt: iso(r.first_opened_at),
            withdrawnAt: iso(r.withdrawn_at),
            expiredAt: tomb?.reason === 'expired' ? iso(tomb.at) : null,
            replies: replies.get(r.pickup_id) ?? 0,
          }
        : null,
    };
  });
}

function delivery(s: OutboundState | undefined): SentRecipient['delivery'] {
  if (!s)
    return { state: 'unknown', at: null, nextTry: null, attempts: 0, code: null, reply: null, tls: null };
  const base = {
    attempts: Number(s.attempts),
    code: s.last_code,
    reply: s.remote_reply,
    tls: s.status === 'delivered' ? s.remote_tls : null,
  };
  if (s.status === 'queued') {
    const deferred = Number(s.attempts) > 0;
    return {
      ...base,
      state: deferred ? 'deferred' : 'queued',
      at: null,
      nextTry: deferred ? iso(s.next_attempt_at) : null,
    };
  }
  const state = s.status === 'delivered' ? 'delivered' : s.status === 'bounced' ? 'bounced' : 'unknown';
  return { ...base, state, at: iso(s.done_at), nextTry: null };
}
