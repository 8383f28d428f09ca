import type { LookupFunction } from 'node:net';
import type { Clock } from '../../core/clock.ts';
import type { Config } from '../../core/config.ts';
import type { Log } from '../../core/log.ts';
import type { Metrics } from '../../core/metrics.ts';
import { narrowKeyToAddress, type KeyProblem } from '../openpgp/index.ts';
import { TtlCache } from './cache.ts';
import { fetchKey, type FetchOutcome } from './fetch.ts';
import { VksGate } from './vks-gate.ts';
import { wkdAddress, wkdUrls } from './wkd.ts';

export { wkdHash, wkdUrls, wkdPaths, wkdAdvancedHost } from './wkd.ts';

/**
 * Key discovery on the network (DESIGN.md "Keys"; docs/discovery.md "Lookup"): WKD advanced, WKD direct,
 * then the VKS `by-email` API, each bounded in time and size, results cached per process. Every key found
 * is narrowed to the User IDs of the address and must be usable at clock.now(); anything else is ignored.
 */
export type DiscoverySource = 'wkd' | 'vks';
export type DiscoveredVia = 'wkd-advanced' | 'wkd-direct' | 'vks';

export interface DiscoverySettings {
  sources: readonly DiscoverySource[];
  sourceTimeoutMs: number;
  budgetMs: number;
  vksUrl: string;
  positiveTtlSeconds: number;
  negativeTtlSeconds: number;
  maxKeyBytes: number;
}

/** Network injection for tests: a resolver (names → 127.0.0.1), a test CA, the WKD servers' port. */
export interface DiscoveryNet {
  lookup?: LookupFunction;
  ca?: string | Buffer | (string | Buffer)[];
  /** Connect to this port instead of 443 for both WKD methods (the test server's random port). */
  wkdPort?: number;
}

export type DiscoveryResult =
  | {
      state: 'found';
      via: DiscoveredVia;
      url: string;
      binary: Uint8Array;
      fingerprint: string;
      expires: Date | null;
    }
  | { state: 'not-found'; rejected?: RefusedKey[] }
  | { state: 'unavailable'; reason: 'timeout' | 'error'; rejected?: RefusedKey[] };

/**
 * A key a source served for the address (narrowed to its User IDs) that is not usable: revoked, expired,
 * weak, without an encryption key. Never to encrypt to; the refresh merges it into the copy it holds so
 * that a published revocation or expiry takes effect.
 */
export interface RefusedKey {
  via: DiscoveredVia;
  url: string;
  binary: Uint8Array;
  fingerprint: string;
  problem: KeyProblem | 'no-user-id';
}

export interface LookupOptions {
  /** Bypass the caches (the worker's refresh); the result is cached again. */
  fresh?: boolean;
  /** Overrides settings.budgetMs for this lookup. */
  budgetMs?: number;
  /** The SMTP session id, for the log lines. */
  session?: string;
}

const LOOKUP_OPTIONS = new Set(['fresh', 'budgetMs', 'session']);
/** Per process; about 1 KiB per cached key, so the caches stay around 10 MB at most. */
const MAX_CACHE_ENTRIES = 10_000;
/** keys.openpgp.org limits request rates per client; a gateway never needs more in flight than this. */
const MAX_VKS_CONCURRENT = 4;

export function discoverySettings(config: Config['discovery']): DiscoverySettings {
  return {
    sources: [...config.sources],
    sourceTimeoutMs: config.sourceTimeoutMs,
    budgetMs: config.budgetMs,
    vksUrl: config.vksUrl,
    positiveTtlSeconds: config.positiveTtlSeconds,
    negativeTtlSeconds: config.negativeTtlSeconds,
    maxKeyBytes: config.maxKeyBytes,
  };
}

interface Step {
  via: DiscoveredVia;
  url: URL;
}

/** What one step contributed when it found no usable key. */
type StepOutcome = 'absent' | 'timeout' | 'error';

type Found = Extract<DiscoveryResult, { state: 'found' }>;
type NotFound = Extract<DiscoveryResult, { state: 'not-found' }>;

export class KeyDiscovery {
  private readonly settings: DiscoverySettings;
  private readonly clock: Clock;
  private readonly log: Log;
  private readonly net: DiscoveryNet;
  private readonly cache = new TtlCache<Found | NotFound>(MAX_CACHE_ENTRIES);
  private readonly inflight = new Map<string, Promise<DiscoveryResult>>();
  private readonly vks: VksGate;

  private readonly metrics: Pick<Metrics, 'discovery'> | undefined;

  constructor(deps: {
    settings: DiscoverySettings;
    clock: Clock;
    log: Log;
    net?: DiscoveryNet;
    metrics?: Pick<Metrics, 'discovery'> | undefined;
  }) {
    this.settings = deps.settings;
    this.metrics = deps.metrics;
    this.clock = deps.clock;
    this.log = deps.log;
    this.net = deps.net ?? {};
    this.vks = new VksGate(deps.clock, MAX_VKS_CONCURRENT);
  }

  /** Never rejects for network reasons: every failure is a result. Concurrent lookups share one run. */
  lookup(address: string, options: LookupOptions = {}): Promise<DiscoveryResult> {
    for (const name of Object.keys(options)) {
      if (!LOOKUP_OPTIONS.has(name)) throw new TypeError(`unknown lookup option: ${name}`);
    }
    const key = address.toLowerCase();
    if (!options.fresh) {
      const cached = this.cache.get(key, this.clock.now().getTime());
      if (cached) return Promise.resolve(cached);
    }
    const running = this.inflight.get(key);
    if (running) return running;
    const log = options.session ? this.log.child({ session: options.session }) : this.log;
    const run = this.run(address, options.budgetMs ?? this.settings.budgetMs, log).finally(() => {
      this.inflight.delete(key);
    });
    this.inflight.set(key, run);
    return run;
  }

  private steps(address: string): Step[] {
    const steps: Step[] = [];
    for (const source of this.settings.sources) {
      if (source === 'wkd') {
        const urls = wkdUrls(address);
        steps.push({ via: 'wkd-advanced', url: new URL(urls.advanced) });
        steps.push({ via: 'wkd-direct', url: new URL(urls.direct) });
      } else {
        const base = this.settings.vksUrl.replace(/\/+$/, '');
        steps.push({ via: 'vks', url: new URL(`${base}/vks/v1/by-email/${encodeURIComponent(address)}`) });
      }
    }
    return steps;
  }

  private async run(address: string, budgetMs: number, log: Log): Promise<DiscoveryResult> {
    const started = performance.now();
    const key = address.toLowerCase();
    try {
      wkdAddress(address);
    } catch {
      log.info('KD_NOT_FOUND', { rcpt: address, problem: 'bad-address' });
      this.metrics?.discovery('not_found');
      return { state: 'not-found' };
    }
    const outcomes: StepOutcome[] = [];
    const rejected: RefusedKey[] = [];
    for (const step of this.steps(address)) {
      const remaining = budgetMs - (performance.now() - started);
      if (remaining <= 0) {
        log.warn('KD_SOURCE_ERROR', { rcpt: address, source: step.via, problem: 'budget' });
        outcomes.push('timeout');
        continue;
      }
      const result = await this.tryStep(
        step,
        address,
        Math.min(this.settings.sourceTimeoutMs, remaining),
        log,
        rejected,
      );
      if (typeof result !== 'string') {
        const ms = Math.round(performance.now() - started);
        log.info('KD_FOUND', {
          rcpt: address,
          source: step.via,
          url: result.url,
          fingerprint: result.fingerprint,
          ms,
        });
        const now = this.clock.now().getTime();
        const until = Math.min(
          now + this.settings.positiveTtlSeconds * 1000,
          result.expires?.getTime() ?? Infinity,
        );
        this.cache.set(key, result, until);
        this.metrics?.discovery('found');
        return result;
      }
      outcomes.push(result);
    }
    return this.nothingFound(address, outcomes, rejected, Math.round(performance.now() - started), log);
  }

  private nothingFound(
    address: string,
    outcomes: StepOutcome[],
    rejected: RefusedKey[],
    ms: number,
    log: Log,
  ): DiscoveryResult {
    const extra = rejected.length > 0 ? { rejected } : {};
    if (outcomes.includes('timeout') || outcomes.includes('error')) {
      const reason = outcomes.includes('timeout') ? 'timeout' : 'error';
      log.warn('KD_UNAVAILABLE', { rcpt: address, problem: reason, ms });
      this.metrics?.discovery('unavailable');
      return { state: 'unavailable', reason, ...extra };
    }
    log.info('KD_NOT_FOUND', { rcpt: address, ms });
    this.metrics?.discovery('not_found');
    const notFound: NotFound = { state: 'not-found', ...extra };
    const until = this.clock.now().getTime() + this.settings.negativeTtlSeconds * 1000;
    this.cache.set(address.toLowerCase(), notFound, until);
    return notFound;
  }

  private async tryStep(
    step: Step,
    address: string,
    timeoutMs: number,
    log: Log,
    rejected: RefusedKey[],
  ): Promise<Found | StepOutcome> {
    const fields = { rcpt: address, source: step.via };
    if (step.via === 'vks' && this.vks.isBlocked()) {
      // Backing off after a 429: the keyserver is not asked, and cannot say "no key" either.
      log.debug('KD_SOURCE_ERROR', { ...fields, problem: 'rate-limited' });
      return 'error';
    }
    const outcome = await this.fetchStep(step, timeoutMs);
    switch (outcome.kind) {
      case 'ok':
        break;
      case 'absent': {
        // 404/410 and a missing host are the normal "no key here"; other answers are worth a look.
        const unexpected = outcome.status !== undefined && outcome.status !== 404 && outcome.status !== 410;
        if (unexpected) log.info('KD_SOURCE_ERROR', { ...fields, problem: 'absent', status: outcome.status });
        return 'absent';
      }
      case 'unavailable': {
        log.warn('KD_SOURCE_ERROR', {
          ...fields,
          problem: outcome.reason,
          ...(outcome.status !== undefined ? { status: outcome.status } : {}),
          ...(outcome.errName ? { errName: outcome.errName } : {}),
        });
        return outcome.reason;
      }
      case 'too-large':
        log.warn('KD_KEY_TOO_LARGE', { ...fields, bytes: outcome.bytes });
        return 'absent';
      case 'rate-limited': {
        const { started, ms } = this.vks.block(outcome.retryAfter);
        if (started) log.warn('KD_RATE_LIMITED', { ...fields, ms });
        return 'error';
      }
    }
    const narrowed = await narrowKeyToAddress({ data: outcome.body, address, now: this.clock.now() });
    if (!narrowed.ok) {
      log.info('KD_KEY_REJECTED', { ...fields, problem: narrowed.problem });
      if (narrowed.refused) {
        rejected.push({ via: step.via, url: step.url.href, ...narrowed.refused, problem: narrowed.problem });
      }
      return 'absent';
    }
    return {
      state: 'found',
      via: step.via,
      url: step.url.href,
      binary: narrowed.binary,
      fingerprint: narrowed.fingerprint,
      expires: narrowed.expires,
    };
  }

  private async fetchStep(step: Step, timeoutMs: number): Promise<FetchOutcome> {
    const options = {
      timeoutMs,
      maxBytes: this.settings.maxKeyBytes,
      lookup: this.net.lookup,
      ca: this.net.ca,
    };
    if (step.via !== 'vks') {
      return fetchKey(step.url, { ...options, accept: 'application/octet-stream', port: this.net.wkdPort });
    }
    const result = await this.vks.run(timeoutMs, (remaining) =>
      fetchKey(step.url, { ...options, timeoutMs: Math.max(1, remaining), accept: 'application/pgp-keys' }),
    );
    return result === 'timeout' ? { kind: 'unavailable', reason: 'timeout' } : result;
  }
}
