import { DelayedError, Queue, UnrecoverableError, Worker, type Job } from 'bullmq';
import type { CoreDeps } from '../core/deps.ts';
import { errName } from '../core/log.ts';
import { QUEUES, type DeliverJob, type MaintenanceJob } from '../core/queue.ts';
import {
  bullConnection,
  createDeliverQueue,
  enqueueDeliveries,
  type DeliverQueue,
} from '../core/queue-client.ts';
import type { Discoverer, KeyStore } from '../keys/index.ts';
import { deliverOne, type DeliverContext } from './deliver.ts';
import { acceptedMarks } from './accepted.ts';
import { expirePickups, type ExpireResult } from './expire.ts';
import { reconcile, type ReconcileResult } from './reconcile.ts';
import { refreshKeys } from './refresh-keys.ts';
import type { RefreshResult } from '../keys/index.ts';
import { mtaRetryDelay, type RetryDelay } from './schedule.ts';
import { createPracticeTransport, createTransport, type Transport } from './transport.ts';

/**
 * The worker service: BullMQ workers for 'deliver' and 'maintenance' (reconcile, pickup expiry, key refresh). Built here, started by
 * `start()`; only main/the CLI handles signals and calls `close()`, which waits for running jobs.
 */
export interface WorkerDeps extends CoreDeps {
  /** The process's key store (the composition root's, cli/sealpost.ts): reply decryption, key refresh. */
  readonly keys: KeyStore;
  /** The process's key discovery (WKD, VKS) for the key refresh; undefined: none (as with discovery off). */
  readonly discovery?: Discoverer;
  /** The process's delivery queue client (DSNs, reconcile); default: one of the worker's own. */
  readonly queue?: DeliverQueue;
  /** Default: the relay from config, or the outbox folder. */
  readonly transport?: Transport;
  /** Default: SEALPOST_INBOUND_RELAY when set (decrypted pickup replies), else none. */
  readonly practiceTransport?: Transport;
  /** Default: the MTA schedule (5 min … 4 h). Tests pass a short one instead of sleeping. */
  readonly retryDelay?: RetryDelay;
}

export interface Workers {
  /** Start processing, reconcile once, and schedule reconcile every `delivery.reconcileEverySeconds`. */
  start(): Promise<void>;
  /** Stop taking jobs, wait for the running ones (at most `graceMs`), close every connection. */
  close(options?: { graceMs?: number }): Promise<void>;
  /** Add delivery jobs for outbound row ids (idempotent per id). */
  enqueue(ids: readonly string[]): Promise<void>;
  /** Run reconcile now (also what the scheduled job does). */
  reconcile(): Promise<ReconcileResult>;
  /** Delete expired pickups now (also what the scheduled job does). */
  expire(): Promise<ExpireResult>;
  /** Re-check every discovered key now (also what the scheduled job does). */
  refreshKeys(): Promise<RefreshResult>;
}

export const RECONCILE_SCHEDULER_ID = 'reconcile';
export const EXPIRE_SCHEDULER_ID = 'expire-pickups';
export const REFRESH_KEYS_SCHEDULER_ID = 'refresh-keys';
/**
 * The refresh job runs this often and refreshes the keys that are due (`discovery.refreshEveryHours`). A
 * BullMQ scheduler a whole day apart slowed deliveries by a fifth in the bench (BENCH_ONLY=discovery); a
 * short tick with due-ness kept in the database does not.
 */
const REFRESH_TICK_MS = 15 * 60_000;
/** Pickups are deleted within this long after their expiry (the API refuses them from the minute itself). */
const EXPIRE_EVERY_MS = 15 * 60_000;

export function createWorkers(deps: WorkerDeps): Workers {
  const { config, log } = deps;
  const connection = bullConnection(deps.redis);
  const transport = deps.transport ?? createTransport(config);
  const practice = deps.practiceTransport ?? createPracticeTransport(config);
  const ownQueue = deps.queue ? undefined : createDeliverQueue(deps);
  const deliverQueue = deps.queue ?? ownQueue!;
  const maintenanceQueue = new Queue<MaintenanceJob, void, string>(QUEUES.maintenance, {
    connection,
    prefix: config.queuePrefix,
  });
  maintenanceQueue.on('error', (err) => log.error('DLV_QUEUE_ERROR', { errName: errName(err) }));
  // Key refresh is scheduled whenever a discoverer exists; whether it looks up is the setting in force.
  const discovery = deps.discovery;
  const ctx: DeliverContext = {
    deps,
    keys: deps.keys,
    transport,
    ...(practice ? { practice } : {}),
    queue: deliverQueue,
    retryDelay: deps.retryDelay ?? mtaRetryDelay,
    accepted: acceptedMarks({ redis: deps.redis, prefix: config.queuePrefix, log }),
  };
  const workers: Worker[] = [];
  deps.metrics?.spoolGauges(
    () => deps.db.stores.outbound.waiting(),
    () => deps.clock.now().getTime(),
  );
  const processMaintenance = async (job: Job<MaintenanceJob>): Promise<void> => {
    deps.metrics?.maintenance(job.data.task);
    if (job.data.task === 'reconcile') await reconcile(deps, deliverQueue);
    if (job.data.task === 'expire-pickups') await expirePickups(deps);
    if (job.data.task === 'refresh-keys') await refreshKeys(deps, deps.keys, discovery);
  };
  return {
    async start() {
      if (workers.length > 0) throw new Error('workers already started');
      workers.push(newWorker(deps, QUEUES.deliver, deliverProcessor(ctx), config.delivery.concurrency));
      workers.push(newWorker(deps, QUEUES.maintenance, processMaintenance, 1));
      await Promise.all(workers.map((w) => w.waitUntilReady()));
      await reconcile(deps, deliverQueue);
      await scheduleMaintenance(maintenanceQueue, config, !!discovery);
      log.info('DLV_STARTED', { count: config.delivery.concurrency });
    },
    async close(options = {}) {
      await closeWorkers(deps, workers.splice(0), options.graceMs);
      await Promise.all([ownQueue?.close(), maintenanceQueue.close()]);
      transport.close();
      practice?.close();
      ctx.accepted?.close();
    },
    enqueue: (ids) => enqueueDeliveries(deliverQueue, ids),
    reconcile: () => reconcile(deps, deliverQueue),
    expire: () => expirePickups(deps),
    refreshKeys: () => refreshKeys(deps, deps.keys, discovery),
  };
}

/** The 'deliver' processor: one attempt per job; the database holds the schedule. */
function deliverProcessor(ctx: DeliverContext) {
  return async (job: Job<DeliverJob>, token?: string): Promise<void> => {
    const id = job.data.outboundId;
    let outcome;
    try {
      outcome = await deliverOne(ctx, id);
    } catch (err) {
      // Our own failure (database, sealed blob): BullMQ retries with backoff; reconcile after that.
      ctx.deps.log.error('DLV_DEFER_INTERNAL', { id, jobId: job.id, errName: errName(err) });
      throw err;
    }
    if (outcome.kind !== 'skipped') ctx.deps.metrics?.delivery(outcome.kind);
    if (outcome.kind === 'deferred') {
      // The database holds the schedule; the job sleeps until then without using up BullMQ attempts.
      await job.moveToDelayed(outcome.at, token);
      throw new DelayedError();
    }
    if (outcome.kind === 'bounced') throw new UnrecoverableError(outcome.code);
  };
}

function newWorker<T>(
  deps: WorkerDeps,
  name: string,
  processor: (job: Job<T>, token?: string) => Promise<void>,
  n: number,
): Worker {
  const { config, log } = deps;
  const worker = new Worker<T, void, string>(name, processor, {
    connection: bullConnection(deps.redis),
    prefix: config.queuePrefix,
    concurrency: n,
    autorun: true,
    // A crashed worker's job becomes "stalled" and is taken over after the lock runs out.
    lockDuration: config.delivery.lockSeconds * 1000,
    stalledInterval: config.delivery.lockSeconds * 1000,
  });
  worker.on('error', (err) => log.error('DLV_WORKER_ERROR', { service: name, errName: errName(err) }));
  return worker;
}

/** Reconcile, pickup expiry and (with discovery) key refresh, as repeatable maintenance jobs. */
async function scheduleMaintenance(
  queue: Queue<MaintenanceJob, void, string>,
  config: WorkerDeps['config'],
  refresh: boolean,
): Promise<void> {
  const opts = { removeOnComplete: true, removeOnFail: 100 };
  await queue.upsertJobScheduler(
    RECONCILE_SCHEDULER_ID,
    { every: config.delivery.reconcileEverySeconds * 1000 },
    { name: 'reconcile', data: { task: 'reconcile' }, opts },
  );
  await queue.upsertJobScheduler(
    EXPIRE_SCHEDULER_ID,
    { every: EXPIRE_EVERY_MS },
    { name: 'expire-pickups', data: { task: 'expire-pickups' }, opts },
  );
  if (!refresh) return void (await queue.removeJobScheduler(REFRESH_KEYS_SCHEDULER_ID));
  await queue.upsertJobScheduler(
    REFRESH_KEYS_SCHEDULER_ID,
    { every: REFRESH_TICK_MS },
    { name: 'refresh-keys', data: { task: 'refresh-keys' }, opts },
  );
}

/**
 * Running jobs may finish within graceMs; after that they are left (their lock runs out and another worker
 * retries them: at least once). A Redis that is gone must not hold the process either.
 */
async function closeWorkers(deps: WorkerDeps, workers: Worker[], graceMs: number | undefined): Promise<void> {
  const graceful = Promise.all(workers.map((w) => w.close()));
  if (graceMs !== undefined && !(await settlesWithin(graceful, graceMs))) {
    deps.log.warn('DLV_CLOSE_FORCED', { count: workers.length });
    await Promise.all(workers.map((w) => w.close(true)));
  } else {
    await graceful;
  }
}

/** Whether `work` settles within `ms` (it keeps running either way). */
async function settlesWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  work.catch(() => undefined);
  try {
    return await Promise.race([work.then(() => true), late]);
  } finally {
    clearTimeout(timer);
  }
}
