import { dsnOutboundRow, wantsDsn } from '../../core/dsn.ts';
import { errName } from '../../core/log.ts';
import type { QueueLine } from '../../core/store/outbound.ts';
import { queueIdSchema, queueQuery, type QueueAnswer, queueAnswer } from '../contract/console-queue.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * The queue screen (docs/admin-console.md): the spool's rows by state, metadata only (never a body, never
 * remote text: our code and the remote reply code); "retry now" and "cancel" (a DSN to the sender, built
 * by core/dsn.ts as the worker builds a bounce's).
 */
const PAGE = 50;
const DONE_DAYS = 7;
const iso = (ms: number | null) => (ms === null ? null : new Date(Number(ms)).toISOString());

function toLine(r: QueueLine): QueueAnswer['lines'][number] {
  return {
    id: r.id,
    kind: r.kind,
    from: r.envelope_from,
    to: r.recipient,
    size: Number(r.size),
    attempts: Number(r.attempts),
    created: iso(r.created_at)!,
    nextAttempt: r.status === 'queued' ? iso(r.next_attempt_at) : null,
    expires: iso(r.expires_at)!,
    done: iso(r.done_at),
    lastCode: r.last_code,
    lastSmtpCode: r.last_smtp_code === null ? null : Number(r.last_smtp_code),
  };
}

async function list({ deps, req, res }: RouteContext): Promise<void> {
  const q = queueQuery.safeParse(req.query);
  if (!q.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const now = deps.clock.now().getTime();
  const outbound = deps.db.stores.outbound;
  const [rows, counts] = await Promise.all([
    outbound.adminPage({
      view: q.data.view,
      since: now - DONE_DAYS * 86_400_000,
      offset: q.data.page * PAGE,
      limit: PAGE,
    }),
    outbound.statusCounts(),
  ]);
  const byStatus: Record<string, number> = {};
  for (const c of counts) byStatus[c.status] = (byStatus[c.status] ?? 0) + c.n;
  const answer: QueueAnswer = {
    view: q.data.view,
    page: q.data.page,
    more: rows.length > PAGE,
    lines: rows.slice(0, PAGE).map(toLine),
    counts: byStatus,
  };
  res.json(answer);
}

async function retry({ deps, req, res, audit }: RouteContext): Promise<void> {
  const id = queueIdSchema.safeParse(req.params.id);
  if (!id.success) return sendConsole(res, 'CON_NOT_FOUND');
  const ok = await deps.db.stores.outbound.retryNow(id.data, deps.clock.now().getTime());
  if (!ok) return sendConsole(res, 'CON_NOT_FOUND');
  await audit('queue.retry', id.data);
  await (deps.retryNow ?? deps.enqueue)([id.data]).catch((err: unknown) =>
    // The row is due now in the database: reconcile enqueues it should Redis be away.
    deps.log.warn('CON_QUEUE_RETRY_FAILED', { id: id.data, errName: errName(err) }),
  );
  res.json({ ok: true });
}

async function cancel({ deps, req, res, user }: RouteContext): Promise<void> {
  const id = queueIdSchema.safeParse(req.params.id);
  if (!id.success) return sendConsole(res, 'CON_NOT_FOUND');
  const row = await deps.db.stores.outbound.find(id.data);
  if (!row || row.status !== 'queued') return sendConsole(res, 'CON_NOT_FOUND');
  const now = deps.clock.now();
  const failure = { code: 'DLV_CANCELLED' as const, smtpCode: null, enhanced: null };
  // The DSN names the recipient and our code only; no header of the original is copied (raw: null).
  const dsn = wantsDsn(row) ? dsnOutboundRow(deps, row, null, failure, now) : null;
  const by = { actor: user.login, action: 'queue.cancel', ...(req.ip ? { ip: req.ip } : {}) };
  const done = await deps.db.stores.outbound.bounce(row, failure, dsn, now, by);
  if (!done) return sendConsole(res, 'CON_NOT_FOUND');
  if (dsn) await deps.enqueue([dsn.id]).catch(() => deps.log.warn('CON_QUEUE_RETRY_FAILED', { id: dsn.id }));
  res.json({ ok: true, dsn: dsn !== null });
}

export const adminQueueRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/queue',
    role: 'admin',
    handle: list,
    summary: 'The spool by view (waiting, deferred, bounced, delivered): metadata only, one page.',
    query: queueQuery,
    answer: queueAnswer,
  },
  {
    method: 'POST',
    path: '/queue/:id/retry',
    role: 'admin',
    handle: retry,
    summary: 'Try a waiting or deferred copy again now.',
  },
  {
    method: 'POST',
    path: '/queue/:id/cancel',
    role: 'admin',
    handle: cancel,
    summary: 'Cancel a copy; the sender gets a DSN.',
  },
];
