import { Queue, type JobsOptions, type RedisOptions as BullRedisOptions } from 'bullmq';
import type { Config } from './config.ts';
import type { Log } from './log.ts';
import { QUEUES, deliverJobId, type DeliverJob } from './queue.ts';
import { redisOptions, type RedisTarget } from './redis.ts';

/**
 * Adding delivery jobs, shared by the gateway (after its commit) and the worker (DSNs, reconcile).
 * The job id is derived from the outbound row id, so adding the same row twice while a job for it
 * exists is a no-op. Jobs carry the row id only.
 */
export type DeliverQueue = Queue<DeliverJob, void, string>;

export const DELIVER_JOB_NAME = 'deliver';

/**
 * Retries of temporary delivery failures are scheduled by the worker itself from the database's schedule
 * (moveToDelayed), so BullMQ's own attempts only cover crashes inside the worker (database down and the
 * like): a few, with backoff. A job that still fails is left for reconcile, which re-adds it.
 */
export const DELIVER_JOB_OPTIONS: JobsOptions = {
  attempts: 8,
  backoff: { type: 'exponential', delay: 5_000 },
  removeOnComplete: true,
  removeOnFail: { age: 7 * 24 * 3600 },
};

/**
 * BullMQ connection options for a Redis target. ioredis 6 types `retryStrategy` differently from what
 * BullMQ declares; we never set it (ioredis' default reconnects), so it is left out.
 */
export function bullConnection(target: RedisTarget): BullRedisOptions {
  const { retryStrategy: _unused, ...options } = redisOptions(target);
  return options;
}

export function createDeliverQueue(deps: { config: Config; redis: RedisTarget; log: Log }): DeliverQueue {
  const queue: DeliverQueue = new Queue(QUEUES.deliver, {
    connection: bullConnection(deps.redis),
    prefix: deps.config.queuePrefix,
  });
  queue.on('error', (err) => deps.log.error('DLV_QUEUE_ERROR', { errName: err.name }));
  return queue;
}

/** Add one delivery job per outbound row id; `delayMs` postpones them (reconcile of future retries). */
export async function enqueueDeliveries(
  queue: DeliverQueue,
  ids: readonly string[],
  options: { delayMs?: number } = {},
): Promise<void> {
  if (ids.length === 0) return;
  const delay = Math.max(0, Math.floor(options.delayMs ?? 0));
  await queue.addBulk(
    ids.map((outboundId) => ({
      name: DELIVER_JOB_NAME,
      data: { outboundId },
      opts: { ...DELIVER_JOB_OPTIONS, jobId: deliverJobId(outboundId), ...(delay ? { delay } : {}) },
    })),
  );
}

/**
 * "Retry now" (the console's queue screen): a delivery job the worker put to sleep until its next attempt
 * (moveToDelayed) is promoted to run now; a row without a job gets one. The caller sets the row's
 * next_attempt_at first, so that the database and the job agree.
 */
export async function retryDeliveries(queue: DeliverQueue, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    const job = await queue.getJob(deliverJobId(id));
    if (!job) await enqueueDeliveries(queue, [id]);
    else if (await job.isDelayed()) await job.promote();
  }
}
