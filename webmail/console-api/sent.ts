import {
  ContactStore,
  inThreadCrypto,
  issueNewCode,
  unlockContact,
  type ContactActionDeps,
} from '../../keys/index.ts';
import {
  SENT_PAGE_SIZE,
  sentIdSchema,
  sentPageQuery,
  type EvidenceAnswer,
  type SentAnswer,
  evidenceAnswer,
  newCodeAnswer,
  okAnswer,
  sentAnswer,
} from '../contract/console-sent.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';
import { recipientViews } from './sent-view.ts';

/**
 * The sent-messages screen (docs/console.md): her messages, newest first, paged; one message's evidence
 * record; and the actions on a recipient — withdraw a pickup, a new code, unlock. Every query is bound to
 * the signed-in user: another practitioner's message or recipient is "not found".
 */
async function listSent({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const q = sentPageQuery.safeParse(req.query);
  if (!q.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const page = Math.max(1, q.data.page ?? 1);
  const stores = deps.db.stores;
  const { batches, total } = await stores.sent.page(user.id, (page - 1) * SENT_PAGE_SIZE, SENT_PAGE_SIZE);
  const [rows, subjects, key] = await Promise.all([
    stores.sent.recipients(user.id, batches),
    stores.sent.subjects(user.id, batches),
    stores.console.keyOf(user.id),
  ]);
  const views = await recipientViews(stores, rows);
  const answer: SentAnswer = {
    page,
    pages: Math.max(1, Math.ceil(total / SENT_PAGE_SIZE)),
    total,
    messages: batches.map((id) => {
      const mine = rows.filter((r) => r.batch_id === id);
      const subject = subjects.find((s) => s.batch_id === id);
      return {
        id,
        date: new Date(Number(mine[0]?.created_at ?? 0)).toISOString(),
        subject: subject
          ? {
              ciphertext: deps.sealer.open('console', subject.ciphertext, `subject:${id}`).toString('base64'),
              readable: subject.key_fingerprint === key?.fingerprint,
            }
          : null,
        recipients: views.filter((v) => mine.some((r) => r.id === v.id)),
      };
    }),
  };
  await audit('console.sent');
  res.json(answer);
}

async function evidence({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const id = sentIdSchema.safeParse(req.params.id);
  if (!id.success) return sendConsole(res, 'CON_NOT_FOUND');
  const rows = await deps.db.stores.sent.recipients(user.id, [id.data]);
  if (rows.length === 0) return sendConsole(res, 'CON_NOT_FOUND');
  const answer: EvidenceAnswer = {
    kind: 'sealpost-evidence-record',
    version: 1,
    generatedAt: deps.clock.now().toISOString(),
    message: {
      id: id.data,
      acceptedAt: new Date(Number(rows[0]!.created_at)).toISOString(),
      sender: user.login,
    },
    recipients: await recipientViews(deps.db.stores, rows),
  };
  await audit('console.sent.evidence', id.data);
  res.json(answer);
}

/** Her recipient row behind `:id`, or a 404 answered. */
async function herRecipient({ deps, req, res, user }: RouteContext) {
  const id = sentIdSchema.safeParse(req.params.id);
  const row = id.success ? await deps.db.stores.sent.recipient(user.id, id.data) : undefined;
  if (!row) sendConsole(res, 'CON_NOT_FOUND');
  return row;
}

async function withdraw(ctx: RouteContext): Promise<void> {
  const row = await herRecipient(ctx);
  if (!row) return;
  const { deps, res, user, audit } = ctx;
  if (!row.pickup_id) return sendConsole(res, 'CON_NOT_FOUND');
  const now = deps.clock.now().getTime();
  await deps.db.stores.transaction(async (stores) => {
    await stores.pickups.withdraw(row.pickup_id!, now);
    if (row.withdrawn_at == null) await stores.sent.markWithdrawn(user.id, row.id, now);
  });
  await audit('console.pickup.withdrawn', row.pickup_id);
  deps.log.info('CON_PICKUP_WITHDRAWN', { user: user.login, id: row.pickup_id });
  res.json({ ok: true });
}

function actionDeps(ctx: RouteContext): ContactActionDeps {
  const { deps } = ctx;
  const crypto = deps.crypto ?? inThreadCrypto();
  const contacts = new ContactStore({ db: deps.db.kysely, clock: deps.clock, crypto });
  return { config: deps.config, sealer: deps.sealer, clock: deps.clock, stores: deps.db.stores, contacts };
}

async function newCode(ctx: RouteContext): Promise<void> {
  const row = await herRecipient(ctx);
  if (!row) return;
  if (row.path !== 'pickup') return sendConsole(ctx.res, 'CON_NOT_FOUND');
  const result = await issueNewCode(actionDeps(ctx), row.recipient, ctx.user.login);
  if (!result) return sendConsole(ctx.res, 'CON_NOT_FOUND');
  await ctx.deps.enqueue(result.outboundIds).catch(() => undefined); // reconcile sends them otherwise
  await ctx.audit('console.contact.new-code', row.recipient);
  ctx.res.json({ ok: true, stale: result.stale.length });
}

async function unlock(ctx: RouteContext): Promise<void> {
  const row = await herRecipient(ctx);
  if (!row) return;
  if (row.path !== 'pickup') return sendConsole(ctx.res, 'CON_NOT_FOUND');
  if (!(await unlockContact(actionDeps(ctx), row.recipient, ctx.user.login))) {
    return sendConsole(ctx.res, 'CON_NOT_FOUND');
  }
  await ctx.audit('console.contact.unlock', row.recipient);
  ctx.res.json({ ok: true });
}

export const sentRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/sent',
    role: 'user',
    handle: listSent,
    summary: 'Her sent messages with per-recipient path, delivery state and first opened, one page.',
    query: sentPageQuery,
    answer: sentAnswer,
  },
  {
    method: 'GET',
    path: '/sent/:id/evidence',
    role: 'user',
    handle: evidence,
    summary: 'The evidence record of one message.',
    answer: evidenceAnswer,
  },
  {
    method: 'POST',
    path: '/sent/recipients/:id/withdraw',
    role: 'user',
    handle: withdraw,
    summary: 'Withdraw a pickup (a tombstone stays).',
    answer: okAnswer,
  },
  {
    method: 'POST',
    path: '/sent/recipients/:id/new-code',
    role: 'user',
    handle: newCode,
    summary: "A new access code for that recipient's contact.",
    answer: newCodeAnswer,
  },
  {
    method: 'POST',
    path: '/sent/recipients/:id/unlock',
    role: 'user',
    handle: unlock,
    summary: "Clear that recipient contact's failed-code lock.",
    answer: okAnswer,
  },
];
