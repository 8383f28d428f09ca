import type { AuditQuery, AuditRow } from '../../core/audit.ts';
import { auditQuery, type AuditAnswer, auditAnswer } from '../contract/console-audit.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * The audit screen (docs/admin-console.md): the audit trail (AuditStore), filtered by day, actor and action, paged;
 * the same filter as CSV. Rows hold addresses, ids, codes, fingerprints and IPs, never content.
 */
const PAGE = 50;
const CSV_MAX = 10_000;
const DAY = 86_400_000;

function filterOf(req: RouteContext['req']): Omit<AuditQuery, 'offset' | 'limit'> & { page: number } {
  const q = auditQuery.parse(req.query);
  return {
    page: q.page,
    ...(q.from ? { from: Date.parse(`${q.from}T00:00:00Z`) } : {}),
    ...(q.to ? { to: Date.parse(`${q.to}T00:00:00Z`) + DAY - 1 } : {}),
    ...(q.actor ? { actor: q.actor.trim().toLowerCase() } : {}),
    ...(q.action ? { action: q.action } : {}),
  };
}

function toLine(r: AuditRow): AuditAnswer['lines'][number] {
  return { ...r, at: new Date(r.at).toISOString() };
}

async function list({ deps, req, res }: RouteContext): Promise<void> {
  if (!auditQuery.safeParse(req.query).success) return sendConsole(res, 'CON_BAD_REQUEST');
  const { page, ...filter } = filterOf(req);
  const store = deps.db.stores.audit;
  const [rows, actions] = await Promise.all([
    store.page({ ...filter, offset: page * PAGE, limit: PAGE }),
    store.actions(),
  ]);
  const answer: AuditAnswer = {
    page,
    more: rows.length > PAGE,
    lines: rows.slice(0, PAGE).map(toLine),
    actions,
  };
  res.json(answer);
}

/** A CSV field: quoted, quotes doubled; a leading = + - @ is prefixed with ' (no formula in a spreadsheet). */
export function csvField(value: string | number | null): string {
  const text = value === null ? '' : String(value);
  const safe = /^[=+\-@\t\r]/.test(text) ? `'${text}` : text;
  return `"${safe.replace(/"/g, '""')}"`;
}

async function csv({ deps, req, res, audit }: RouteContext): Promise<void> {
  if (!auditQuery.safeParse(req.query).success) return sendConsole(res, 'CON_BAD_REQUEST');
  const { page: _page, ...filter } = filterOf(req);
  const rows = await deps.db.stores.audit.page({ ...filter, offset: 0, limit: CSV_MAX - 1 });
  await audit('console.audit-export');
  const lines = ['at,actor,action,subject,detail,ip'];
  for (const r of rows.slice(0, CSV_MAX - 1)) {
    const at = new Date(r.at).toISOString();
    lines.push([at, r.actor, r.action, r.subject, r.detail, r.ip].map(csvField).join(','));
  }
  res.setHeader('content-type', 'text/csv; charset=utf-8');
  res.setHeader('content-disposition', 'attachment; filename="sealpost-audit.csv"');
  res.setHeader('cache-control', 'no-store');
  res.send(`${lines.join('\r\n')}\r\n`);
}

export const adminAuditRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/audit',
    role: 'admin',
    handle: list,
    summary: 'The audit trail, filtered by time, user and action, one page (content-free).',
    query: auditQuery,
    answer: auditAnswer,
  },
  {
    method: 'GET',
    path: '/audit.csv',
    role: 'admin',
    handle: csv,
    summary: 'The same filter as a CSV download.',
    query: auditQuery,
  },
];
