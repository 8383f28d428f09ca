import type { Config } from '../../core/config.ts';
import { normaliseAddress } from '../../core/ids.ts';
import { errName, type Log } from '../../core/log.ts';
import { matchRule, evaluate, type KeyFact, type Verdict } from './evaluate.ts';
import type { PolicyRule } from '../../core/policy-rules.ts';
import { readAnyKey, toEncryptionKey, checkParsedKey } from '../openpgp/index.ts';
import type { KeyStore } from '../store/index.ts';

/** What a network lookup answers (keys/discovery/ implements it; tests and explain may pass another). */
export type LookupResult =
  | {
      state: 'found';
      via: 'wkd-advanced' | 'wkd-direct' | 'vks';
      url: string;
      binary: Uint8Array;
      fingerprint: string;
      expires: Date | null;
    }
  | {
      state: 'not-found';
      /** Keys a source served but that were refused (revoked, expired, …); the refresh merges these. */
      rejected?: { via: string; url: string; binary: Uint8Array; fingerprint: string; problem: string }[];
    }
  | {
      state: 'unavailable';
      reason: 'timeout' | 'error';
      rejected?: { via: string; url: string; binary: Uint8Array; fingerprint: string; problem: string }[];
    };

export interface Discoverer {
  lookup(address: string, options?: { fresh?: boolean; session?: string }): Promise<LookupResult>;
}

export interface RefreshResult {
  addresses: number;
  confirmed: number; // the same key again (material refreshed)
  changed: number; // a different key: held or accepted per policy
  dropped: number; // no longer usable (expired, revoked, …)
  unanswered: number; // not found or source unavailable: the stored key serves until it expires
}

/** What the network lookup did for one recipient, for logs and `sealpost explain`. */
export type DiscoveryNote =
  | 'not-needed' // a stored key decided it
  | 'not-asked-rule' // a policy rule covers the recipient: no lookup (never for a `plain` rule)
  | 'off' // discovery is switched off
  | 'found'
  | 'not-found'
  | 'unavailable';

export interface Resolution {
  fact: KeyFact;
  discovery: DiscoveryNote;
}

export interface RecipientKeysDeps {
  keys: KeyStore;
  /** Undefined: no network lookup (discovery switched off, or a test without a key directory). */
  discovery?: Discoverer | undefined;
  /**
   * Whether discovery is on now (the admin's setting over `discovery.enabled`, core/settings.ts), asked at
   * every lookup so that switching it off in the console takes effect without a restart. Default: on
   * whenever a discoverer is given.
   */
  enabled?: () => Promise<boolean>;
  log: Log;
  clock: { now(): Date };
  /**
   * A stored discovered key older than this (since its source last confirmed it) is looked up again at
   * RCPT, so that a key replaced at its source is noticed with the next message, not only by the daily
   * refresh (config `discovery.positiveTtlSeconds`). Default: never at RCPT.
   */
  recheckAfterMs?: number;
}

const RECHECKED_SOURCES = new Set(['wkd-advanced', 'wkd-direct', 'vks']);

/**
 * The recipient half of DESIGN.md's lookup order: a local address's sender key, else stored keys
 * (admin-pinned, pickup-registered, discovered, Autocrypt) through the key store, then WKD and VKS through the discoverer, recording what it finds under
 * the key-change policy. `record: false` (for explain) answers what would happen without writing anything.
 */
export class RecipientKeys {
  readonly #deps: RecipientKeysDeps;

  constructor(deps: RecipientKeysDeps) {
    this.#deps = deps;
  }

  /** The discoverer when discovery is on now, else undefined. */
  async #discoverer(): Promise<Discoverer | undefined> {
    const { discovery, enabled } = this.#deps;
    if (!discovery) return undefined;
    return !enabled || (await enabled()) ? discovery : undefined;
  }

  async resolve(
    address: string,
    options: { discover: boolean; record?: boolean; session?: string } = { discover: true },
  ): Promise<Resolution> {
    const addr = normaliseAddress(address);
    const { keys, log } = this.#deps;
    const discovery = await this.#discoverer();
    const stored = await keys.recipientKey(addr);
    // A local address's key is its sender key, nothing else: usable or not, the network is never asked.
    if ((stored.state === 'usable' || stored.state === 'unusable') && stored.source === 'sender')
      return { fact: stored, discovery: 'not-needed' };
    // A usable key outranks the network, except one only seen in an Autocrypt header (last in the order)
    // and a discovered one its source has not confirmed for a while.
    if (stored.state === 'usable' && stored.source !== 'autocrypt' && !this.#due(stored, !!discovery))
      return { fact: stored, discovery: 'not-needed' };
    if (stored.state === 'held') return { fact: stored, discovery: 'not-needed' };
    if (!options.discover) return { fact: stored, discovery: 'not-asked-rule' };
    if (!discovery) return { fact: stored, discovery: 'off' };

    const found = await discovery.lookup(addr, options.session ? { session: options.session } : {});
    if (found.state === 'not-found') return { fact: stored, discovery: 'not-found' };
    if (found.state === 'unavailable') {
      // A usable Autocrypt key still serves; otherwise we do not know whether a key exists.
      if (stored.state === 'usable') return { fact: stored, discovery: 'unavailable' };
      return { fact: { state: 'unavailable', reason: found.reason }, discovery: 'unavailable' };
    }
    if (options.record === false)
      return { fact: await this.#wouldRecord(addr, found, stored), discovery: 'found' };
    try {
      await keys.recordFetched({ address: addr, key: found.binary, source: found.via, sourceUrl: found.url });
    } catch (err) {
      log.warn('KD_RECORD_FAILED', { rcpt: addr, errName: errName(err) });
      return { fact: { state: 'error' }, discovery: 'found' };
    }
    return { fact: await keys.recipientKey(addr), discovery: 'found' };
  }

  #due(stored: Extract<KeyFact, { state: 'usable' }>, discovers: boolean): boolean {
    const after = this.#deps.recheckAfterMs;
    if (after === undefined || !discovers || !RECHECKED_SOURCES.has(stored.source)) return false;
    const checked = stored.lastCheckedAt?.getTime() ?? 0;
    return this.#deps.clock.now().getTime() - checked >= after;
  }

  /**
   * The refresh (worker job): every address with a discovered or Autocrypt key that was not refreshed in
   * the last `olderThanMs` (default: every address) is looked up again, bypassing the caches. The same key refreshes its stored copy (new subkeys, later expiry, a revocation
   * its source now serves); a different key goes through the key-change policy; then every stored
   * discovered key is checked at the clock's now and dropped when unusable. A source that does not answer
   * changes nothing: the stored key serves until it expires.
   */
  async refreshAll(options: { olderThanMs?: number } = {}): Promise<RefreshResult> {
    const { keys, log, clock } = this.#deps;
    const discovery = await this.#discoverer();
    const addresses = await keys.discoveredAddresses(
      options.olderThanMs === undefined ? undefined : clock.now().getTime() - options.olderThanMs,
    );
    const result: RefreshResult = {
      addresses: addresses.length,
      confirmed: 0,
      changed: 0,
      dropped: 0,
      unanswered: 0,
    };
    for (const address of addresses) {
      try {
        const found = discovery ? await discovery.lookup(address, { fresh: true }) : undefined;
        if (found?.state === 'found') {
          const { outcome } = await keys.recordFetched({
            address,
            key: found.binary,
            source: found.via,
            sourceUrl: found.url,
          });
          if (outcome === 'known') result.confirmed++;
          else if (outcome !== 'stored') result.changed++;
        } else {
          result.unanswered++;
          // A revoked (or expired) copy of a key we hold: take its signatures, so the check below drops it.
          for (const r of found?.rejected ?? []) {
            await keys.mergeRefused(address, r.fingerprint, r.binary);
          }
        }
        result.dropped += await keys.dropUnusable(address);
        await keys.markRefreshed(address);
      } catch (err) {
        log.warn('KD_REFRESH_FAILED', { rcpt: address, errName: errName(err) });
      }
    }
    log.info('KD_REFRESHED', { count: result.addresses, outcome: JSON.stringify(result) });
    return result;
  }

  /** The fact `recordFetched` would lead to, read-only (explain). */
  async #wouldRecord(
    addr: string,
    found: Extract<LookupResult, { state: 'found' }>,
    stored: KeyFact,
  ): Promise<KeyFact> {
    const change = await this.#deps.keys.classifyFetched(addr, found.fingerprint);
    if (change === 'change' && (await this.#deps.keys.keyChangePolicy()) === 'hold') {
      const previous = 'fingerprint' in stored ? stored.fingerprint : '';
      return { state: 'held', fingerprint: found.fingerprint, previous, source: found.via, changeId: '' };
    }
    if (change === 'rejected') return stored;
    const key = await readAnyKey(found.binary);
    const check = await checkParsedKey(key, this.#deps.clock.now());
    if (!check.usable)
      return { state: 'unusable', problem: check.problem, fingerprint: found.fingerprint, source: found.via };
    return {
      state: 'usable',
      key: toEncryptionKey(key),
      fingerprint: found.fingerprint,
      source: found.via,
      expires: check.facts.expires,
      sourceUrl: found.url,
      lastCheckedAt: this.#deps.clock.now(),
    };
  }
}

/** One recipient's decision: the rule that covers it, the key fact, the verdict, what discovery did. */
export interface RecipientDecision {
  recipient: string;
  rule: PolicyRule | undefined;
  resolution: Resolution;
  verdict: Verdict;
}

/**
 * RCPT's decision for one recipient, shared by the gateway and explain so that both answer alike. A
 * `reject` rule is decided without any lookup; under a `plain` rule the stored keys are consulted (a
 * known key still wins) but the network never is. A lookup that throws is the fact 'error' (451).
 */
export async function decideRecipient(input: {
  recipients: RecipientKeys;
  rules: readonly PolicyRule[];
  config: Pick<Config, 'pickup' | 'discovery'>;
  recipient: string;
  record?: boolean;
  session?: string;
  log: Log;
}): Promise<RecipientDecision> {
  const recipient = normaliseAddress(input.recipient);
  const rule = matchRule(recipient, input.rules);
  let resolution: Resolution;
  if (rule?.action === 'reject') {
    resolution = { fact: { state: 'none' }, discovery: 'not-asked-rule' };
  } else {
    try {
      resolution = await input.recipients.resolve(recipient, {
        // Whether discovery is on is RecipientKeys' `enabled` (the setting in force) and the discoverer's
        // presence: resolve then says 'off'.
        discover: !rule,
        ...(input.record === false ? { record: false } : {}),
        ...(input.session ? { session: input.session } : {}),
      });
    } catch (err) {
      input.log.warn('GW_KEY_LOOKUP_FAILED', {
        ...(input.session ? { session: input.session } : {}),
        rcpt: recipient,
        errName: errName(err),
      });
      resolution = { fact: { state: 'error' }, discovery: 'not-needed' };
    }
  }
  const verdict = evaluate(
    {
      recipient,
      key: resolution.fact,
      pickup: input.config.pickup.enabled,
      onTimeout: input.config.discovery.onTimeout,
    },
    input.rules,
  );
  return { recipient, rule, resolution, verdict };
}
