import type { CoreDeps } from '../core/deps.ts';
import { errName } from '../core/log.ts';
import { deliverJobId } from '../core/queue.ts';
import { enqueueDeliveries, type DeliverQueue } from '../core/queue-client.ts';

/**
 * Reconcile: the database is the spool, Redis only schedules (DESIGN.md invariant 3). Every queued row
 * must have a live job: one that is waiting, delayed or running. A row whose job is missing (Redis
 * flushed or lost, enqueue after commit failed) gets one, delayed until its next_attempt_at; a row whose
 * job ended (failed after its attempts, or completed while the row stayed queued) has that job removed
 * and a new one added under the same id, so the deterministic id keeps duplicates out.
 */
export interface ReconcileResult {
  checked: number;
  added: number;
  promoted: number;
}

// Rows are read in pages; a page bounds memory and the time between reading a row and checking its job.
const PAGE = 500;
const LIVE = new Set(['waiting', 'active', 'prioritized', 'waiting-children', 'delayed']);

export async function reconcile(deps: CoreDeps, queue: DeliverQueue): Promise<ReconcileResult> {
  const result: ReconcileResult = { checked: 0, added: 0, promoted: 0 };
  let after = '';
  for (;;) {
    const rows = await deps.db.stores.outbound.queuedPage(after, PAGE);
    for (const row of rows) await reconcileRow(deps, queue, row, result);
    result.checked += rows.length;
    if (rows.length < PAGE) break;
    after = rows[rows.length - 1]?.id ?? after;
  }
  if (result.added || result.promoted)
    deps.log.info('DLV_RECONCILED', { count: result.added + result.promoted });
  return result;
}

async function reconcileRow(
  deps: CoreDeps,
  queue: DeliverQueue,
  row: { id: string; next_attempt_at: number },
  result: ReconcileResult,
): Promise<void> {
  const now = deps.clock.now().getTime();
  const due = row.next_attempt_at <= now;
  const job = await queue.getJob(deliverJobId(row.id));
  const state = job ? await job.getState() : 'unknown';
  if (job && state === 'delayed' && due) {
    // The database says it is due now (an admin retry, or a shorter schedule): run it now.
    await job
      .promote()
      .catch((err: unknown) => deps.log.debug('DLV_PROMOTE_SKIPPED', { id: row.id, errName: errName(err) }));
    result.promoted++;
    return;
  }
  if (job && LIVE.has(state)) return;
  if (job) {
    try {
      await job.remove();
    } catch (err) {
      // Locked by a worker that is still running it: that run decides; look again next time.
      deps.log.debug('DLV_RECONCILE_BUSY', { id: row.id, errName: errName(err) });
      return;
    }
  }
  await enqueueDeliveries(queue, [row.id], { delayMs: due ? 0 : row.next_attempt_at - now });
  result.added++;
}
