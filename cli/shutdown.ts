import { errName, type Log } from '../core/log.ts';

/**
 * Stopping on SIGTERM within a bounded time (docs/configuration.md "Stopping"): a process manager kills what
 * does not exit (Docker after 10 s), and a service waiting for a Redis that is gone must not hang.
 *
 * What runs is stopped in phases, each part with its own deadline, all parts of a phase at once:
 *   1. the listeners stop accepting and drain (SMTP sessions get SMTP_DRAIN_MS, then 421 and are closed;
 *      HTTP requests the same), and the delivery workers finish or give up their running jobs;
 *   2. the queue client (the gateway and webmail may enqueue while they drain);
 *   3. the crypto pool, the local redis-server, the database.
 * A part that does not close within its deadline is left behind (logged SYS_STOP_TIMEOUT); the process
 * exits anyway. Whatever was cut off is safe: a message is committed before its 250, a delivery whose
 * job was interrupted is retried by the next worker (at least once, docs/delivery.md).
 */
export interface Stoppable {
  name: string;
  phase: 1 | 2 | 3;
  /** Milliseconds this part may take to close. */
  deadlineMs: number;
  close(): Promise<void>;
  /** Called synchronously when the exit deadline passed and the process exits at once. */
  abort?(): void;
}

/** SMTP sessions and HTTP requests still running get this long after SIGTERM. */
export const DRAIN_MS = 5_000;
/** The process exits at the latest this long after the signal, whatever still hangs. */
export const EXIT_DEADLINE_MS = 9_500;

/** At the exit deadline: give every part its last word (e.g. SIGTERM to the local redis-server). */
export function abortAll(parts: readonly Stoppable[]): void {
  for (const p of parts) {
    try {
      p.abort?.();
    } catch {
      // exiting anyway
    }
  }
}

export async function stopAll(parts: readonly Stoppable[], log: Log): Promise<boolean> {
  let clean = true;
  for (const phase of [1, 2, 3] as const) {
    const results = await Promise.all(parts.filter((p) => p.phase === phase).map((p) => closeWithin(p, log)));
    if (results.includes(false)) clean = false;
  }
  return clean;
}

async function closeWithin(part: Stoppable, log: Log): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), part.deadlineMs);
  });
  try {
    const outcome = await Promise.race([part.close().then(() => 'closed' as const), late]);
    if (outcome === 'late') {
      log.warn('SYS_STOP_TIMEOUT', { service: part.name, ms: part.deadlineMs });
      return false;
    }
    return true;
  } catch (err) {
    log.error('SYS_STOP_FAILED', { service: part.name, errName: errName(err) });
    return false;
  } finally {
    clearTimeout(timer);
  }
}
