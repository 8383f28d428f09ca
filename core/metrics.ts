import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { MaintenanceJob } from './queue.ts';

/**
 * Prometheus metrics of one process (docs/deploy.md "Metrics"). Gateway, worker and webmail may run as
 * separate processes, so each process has its own registry with what happens in it, served at `/metrics` on
 * its HTTP port: a scraper sums the counters over the processes. The spool gauges (queue depth, the oldest
 * waiting message) are read from the database when scraped, by the worker processes only; every worker
 * reports the same value (take `max`, not `sum`).
 *
 * Label values come from closed lists (the unions below): never an address, a subject, a name, an id or any
 * other text from a message or a request.
 */
export type AcceptedVerdict = 'pgp' | 'pickup' | 'plain';
export type DeliveryOutcome = 'delivered' | 'deferred' | 'bounced';
export type UnlockResult = 'unlocked' | 'wrong_code' | 'locked' | 'rate_limited' | 'unavailable';
export type DiscoveryResultLabel = 'found' | 'not_found' | 'unavailable';
export type MaintenanceTask = MaintenanceJob['task'];

const VERDICTS: readonly AcceptedVerdict[] = ['pgp', 'pickup', 'plain'];
const OUTCOMES: readonly DeliveryOutcome[] = ['delivered', 'deferred', 'bounced'];
const UNLOCKS: readonly UnlockResult[] = ['unlocked', 'wrong_code', 'locked', 'rate_limited', 'unavailable'];
const DISCOVERY: readonly DiscoveryResultLabel[] = ['found', 'not_found', 'unavailable'];
const TASKS: readonly MaintenanceTask[] = ['reconcile', 'expire-pickups', 'refresh-keys'];

/** What the spool gauges read: the queued rows and the creation time (ms) of the oldest, null when none. */
export interface SpoolWaiting {
  count: number;
  oldestCreatedAt: number | null;
}

export class Metrics {
  readonly registry = new Registry();
  readonly #messages: Counter;
  readonly #recipients: Counter<'verdict'>;
  readonly #dataToReply: Histogram;
  readonly #deliveries: Counter<'outcome'>;
  readonly #unlocks: Counter<'result'>;
  readonly #discovery: Counter<'result'>;
  readonly #maintenance: Counter<'task'>;

  /** `process`: also Node's own metrics (CPU, memory, event loop lag), for a real process, not a test stack. */
  constructor(options: { process?: boolean } = {}) {
    const registers = [this.registry];
    this.#messages = new Counter({
      name: 'sealpost_messages_accepted_total',
      help: 'Messages answered 250 at the end of DATA (submission)',
      registers,
    });
    this.#recipients = new Counter({
      name: 'sealpost_recipients_accepted_total',
      help: 'Recipients of messages answered 250, by the way their copy goes',
      labelNames: ['verdict'],
      registers,
    });
    this.#dataToReply = new Histogram({
      name: 'sealpost_smtp_data_to_reply_seconds',
      help: 'From the end of DATA to the 250 (encrypting, storing, enqueueing)',
      buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers,
    });
    this.#deliveries = new Counter({
      name: 'sealpost_deliveries_total',
      help: 'Delivery attempts of spooled copies by outcome (deferred: a temporary failure, retried later)',
      labelNames: ['outcome'],
      registers,
    });
    this.#unlocks = new Counter({
      name: 'sealpost_pickup_unlocks_total',
      help: 'Pickup unlock attempts by result',
      labelNames: ['result'],
      registers,
    });
    this.#discovery = new Counter({
      name: 'sealpost_discovery_lookups_total',
      help: 'Key discovery lookups that went to the network (WKD, VKS), by result; cache hits are not counted',
      labelNames: ['result'],
      registers,
    });
    this.#maintenance = new Counter({
      name: 'sealpost_maintenance_runs_total',
      help: 'Scheduled maintenance jobs run by this process (one per tick across all workers)',
      labelNames: ['task'],
      registers,
    });
    // Every series exists from the start (a rate over a series that appears late misses its first count).
    for (const verdict of VERDICTS) this.#recipients.inc({ verdict }, 0);
    for (const outcome of OUTCOMES) this.#deliveries.inc({ outcome }, 0);
    for (const result of UNLOCKS) this.#unlocks.inc({ result }, 0);
    for (const result of DISCOVERY) this.#discovery.inc({ result }, 0);
    for (const task of TASKS) this.#maintenance.inc({ task }, 0);
    if (options.process) collectDefaultMetrics({ register: this.registry, prefix: 'sealpost_' });
  }

  /** A message answered 250: its recipients by verdict and the time from the end of DATA. */
  accepted(verdicts: Readonly<Record<AcceptedVerdict, number>>, seconds: number): void {
    this.#messages.inc();
    for (const verdict of VERDICTS)
      if (verdicts[verdict] > 0) this.#recipients.inc({ verdict }, verdicts[verdict]);
    this.#dataToReply.observe(seconds);
  }

  delivery(outcome: DeliveryOutcome): void {
    this.#deliveries.inc({ outcome });
  }

  unlock(result: UnlockResult): void {
    this.#unlocks.inc({ result });
  }

  discovery(result: DiscoveryResultLabel): void {
    this.#discovery.inc({ result });
  }

  maintenance(task: MaintenanceTask): void {
    this.#maintenance.inc({ task });
  }

  /**
   * The spool gauges, read when scraped (the worker's registry). A read that fails makes them NaN in that
   * scrape rather than failing it: the other metrics still answer while the database is away.
   */
  spoolGauges(read: () => Promise<SpoolWaiting>, now: () => number): void {
    // Once per registry: workers built again on the same parts (a restart in one process) keep the first.
    if (this.registry.getSingleMetric('sealpost_queue_depth')) return;
    // Both gauges are collected at once in one scrape: one query, in flight, serves the two.
    let inFlight: Promise<SpoolWaiting | undefined> | undefined;
    const current = () =>
      (inFlight ??= read()
        .catch(() => undefined)
        .finally(() => (inFlight = undefined)));
    new Gauge({
      name: 'sealpost_queue_depth',
      help: 'Spooled copies waiting for delivery (queued, including deferred ones)',
      registers: [this.registry],
      async collect() {
        const waiting = await current();
        this.set(waiting ? waiting.count : NaN);
      },
    });
    new Gauge({
      name: 'sealpost_queue_oldest_waiting_seconds',
      help: 'Age of the oldest copy waiting for delivery (0 when none waits)',
      registers: [this.registry],
      async collect() {
        const waiting = await current();
        if (!waiting) return void this.set(NaN);
        const oldest = waiting.oldestCreatedAt;
        this.set(oldest === null ? 0 : Math.max(0, (now() - oldest) / 1000));
      },
    });
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}
