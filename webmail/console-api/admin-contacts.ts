import {
  ContactStore,
  eraseContact,
  inThreadCrypto,
  issueNewCode,
  unlockContact,
  type ContactActionDeps,
} from '../../keys/index.ts';
import {
  contactRequest,
  contactsQuery,
  type ContactsAnswer,
  type NewCodeAnswer,
  contactsAnswer,
  erasureAnswer,
  newCodeAnswer,
} from '../contract/console-contacts.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * The pickup contacts screen (docs/admin-console.md): the list, unlock, a new code and the GDPR erasure —
 * the same functions as `sealpost contact unlock|code|delete` (keys/contact-actions.ts). Each action writes
 * its one audit entry there, with the admin's login and IP.
 */
const PAGE = 50;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

function actionDeps({ deps }: RouteContext): ContactActionDeps {
  const crypto = deps.crypto ?? inThreadCrypto();
  const contacts = new ContactStore({ db: deps.db.kysely, clock: deps.clock, crypto });
  return { config: deps.config, sealer: deps.sealer, clock: deps.clock, stores: deps.db.stores, contacts };
}

async function list({ deps, req, res }: RouteContext): Promise<void> {
  const q = contactsQuery.safeParse(req.query);
  if (!q.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const stores = deps.db.stores;
  const [rows, counts] = await Promise.all([
    stores.contacts.adminPage(q.data.page * PAGE, PAGE),
    stores.pickups.countPerContact(),
  ]);
  const answer: ContactsAnswer = {
    page: q.data.page,
    more: rows.length > PAGE,
    lines: rows.slice(0, PAGE).map((r) => ({
      address: r.address,
      created: iso(r.createdAt)!,
      locked: r.locked,
      failedAttempts: r.failedAttempts,
      waiting: counts.get(r.id) ?? 0,
      lastOpened: iso(r.lastUnlockAt),
    })),
  };
  res.json(answer);
}

async function unlock(ctx: RouteContext): Promise<void> {
  const body = contactRequest.safeParse(ctx.req.body);
  if (!body.success) return sendConsole(ctx.res, 'CON_BAD_REQUEST');
  const ok = await unlockContact(actionDeps(ctx), body.data.address, ctx.user.login, ctx.req.ip);
  if (!ok) return sendConsole(ctx.res, 'CON_NOT_FOUND');
  ctx.res.json({ ok: true });
}

async function newCode(ctx: RouteContext): Promise<void> {
  const body = contactRequest.safeParse(ctx.req.body);
  if (!body.success) return sendConsole(ctx.res, 'CON_BAD_REQUEST');
  const result = await issueNewCode(actionDeps(ctx), body.data.address, ctx.user.login, ctx.req.ip);
  if (!result) return sendConsole(ctx.res, 'CON_NOT_FOUND');
  await ctx.deps.enqueue(result.outboundIds);
  const routed = result.senders.filter((s) => s.console).map((s) => s.address);
  const answer: NewCodeAnswer = {
    // Routed to a practitioner's console, the code is hers to hand over; otherwise the admin sees it once.
    code: routed.length > 0 ? null : result.code,
    routed,
    notRouted: result.senders.filter((s) => !s.console).map((s) => s.address),
    stale: result.stale.length,
  };
  ctx.res.json(answer);
}

async function erasure({ deps, req, res, user }: RouteContext, dryRun: boolean): Promise<void> {
  const body = contactRequest.safeParse(dryRun ? req.query : req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const options = { dryRun, ...(req.ip ? { ip: req.ip } : {}) };
  const counts = await eraseContact(
    { db: deps.db.kysely, clock: deps.clock },
    body.data.address,
    user.login,
    options,
  );
  if (!counts) return sendConsole(res, 'CON_NOT_FOUND');
  res.json({ counts });
}

export const adminContactRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/contacts',
    role: 'admin',
    handle: list,
    summary: 'Pickup contacts: address, created, locked, messages waiting, last opened; one page.',
    query: contactsQuery,
    answer: contactsAnswer,
  },
  {
    method: 'GET',
    path: '/contacts/erasure',
    role: 'admin',
    handle: (ctx) => erasure(ctx, true),
    summary: 'What deleting a contact would delete (counts), nothing deleted.',
    query: contactRequest,
    answer: erasureAnswer,
  },
  {
    method: 'POST',
    path: '/contacts/unlock',
    role: 'admin',
    handle: unlock,
    summary: "Clear a contact's failed-code lock (the code stays the same).",
    body: contactRequest,
  },
  {
    method: 'POST',
    path: '/contacts/new-code',
    role: 'admin',
    handle: newCode,
    summary: "Issue a new access code (and key pair) for a contact; kept for the practitioners' consoles.",
    body: contactRequest,
    answer: newCodeAnswer,
  },
  {
    method: 'POST',
    path: '/contacts/delete',
    role: 'admin',
    handle: (ctx) => erasure(ctx, false),
    summary: 'GDPR erasure of a contact and everything of theirs, with the counts deleted.',
    body: contactRequest,
    answer: erasureAnswer,
  },
];
