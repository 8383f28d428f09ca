import { z } from 'zod';
import { KeyChangeError, KeyImportError, RecipientKeyActionError, type KeyChange } from '../../keys/index.ts';
import {
  decideAnswer,
  importAnswer,
  importRequest,
  KEYS_PAGE_SIZE,
  keysAnswer,
  keysQuery,
  type KeysAnswer,
} from '../contract/console-keys.ts';
import { okAnswer, recipientKeyRequest } from '../contract/console-sender-keys.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * The keys screen (docs/admin-console.md): the key store's own functions, the same as the CLI's
 * (`sealpost key list`, `key import`, `key approve|reject`) and the admin API's (webmail/admin.ts).
 */

function changeLine(c: KeyChange): KeysAnswer['held'][number] {
  return {
    id: c.id,
    address: c.address,
    oldFingerprint: c.oldFingerprint,
    newFingerprint: c.newFingerprint,
    source: c.source,
    sourceUrl: c.sourceUrl,
    createdAt: c.createdAt.toISOString(),
  };
}

async function list({ deps, req, res }: RouteContext): Promise<void> {
  const q = keysQuery.safeParse(req.query);
  if (!q.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const page = q.data.page ?? 0;
  const found = await deps.keys.recipientKeyPage({
    ...(q.data.q ? { q: q.data.q } : {}),
    offset: page * KEYS_PAGE_SIZE,
    limit: KEYS_PAGE_SIZE,
  });
  const held = await deps.keys.listKeyChanges({ status: 'held' });
  const answer: KeysAnswer = {
    keys: found.keys.map((k) => ({
      ...k,
      firstSeenAt: k.firstSeenAt.toISOString(),
      lastCheckedAt: k.lastCheckedAt.toISOString(),
    })),
    total: found.total,
    page,
    pageSize: KEYS_PAGE_SIZE,
    held: held.map(changeLine),
  };
  res.json(answer);
}

/** The audit entry's who: the signed-in admin and the request's IP (as the policy and users actions). */
function actorOf({ req, user }: RouteContext): { actor: string; ip?: string } {
  return { actor: user.login, ...(req.ip ? { ip: req.ip } : {}) };
}

function decide(decision: 'approve' | 'reject') {
  return async (ctx: RouteContext): Promise<void> => {
    const { deps, req, res } = ctx;
    const id = z.uuid().safeParse(req.params.id);
    if (!id.success) return sendConsole(res, 'CON_NOT_FOUND');
    try {
      // decideKeyChange writes the audit entry (recipient-key.change-approved|rejected) with the actor.
      const who = actorOf(ctx);
      const change = await deps.keys.decideKeyChange(id.data, decision, who.actor, who.ip);
      res.json({ id: change.id, status: change.status });
    } catch (err) {
      if (!(err instanceof KeyChangeError)) throw err;
      sendConsole(res, err.reason === 'not-found' ? 'CON_NOT_FOUND' : 'CON_NOT_HELD');
    }
  };
}

async function importKey(ctx: RouteContext): Promise<void> {
  const { deps, req, res } = ctx;
  const body = importRequest.safeParse(req.body);
  if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
  try {
    // importKeys audits each key it stores (recipient-key.import, sender-key.imported) with the actor.
    const imported = await deps.keys.importKeys(body.data.armored, actorOf(ctx));
    res.json({ imported });
  } catch (err) {
    if (!(err instanceof KeyImportError)) throw err;
    sendConsole(res, 'CON_KEY_INVALID');
  }
}

/** Pin or drop one recipient key (`sealpost key pin|drop`); the key store writes the audit entry. */
function keyAction(action: 'pin' | 'drop') {
  return async (ctx: RouteContext): Promise<void> => {
    const { deps, req, res } = ctx;
    const body = recipientKeyRequest.safeParse(req.body);
    if (!body.success) return sendConsole(res, 'CON_BAD_REQUEST');
    const input = { address: body.data.address, fingerprint: body.data.fingerprint.replace(/\s+/g, '') };
    try {
      if (action === 'pin') await deps.keys.pinRecipientKey(input, actorOf(ctx));
      else await deps.keys.dropRecipientKey(input, actorOf(ctx));
      res.json({ ok: true });
    } catch (err) {
      if (!(err instanceof RecipientKeyActionError)) throw err;
      sendConsole(res, err.reason === 'not-found' ? 'CON_NOT_FOUND' : 'CON_KEY_STATE');
    }
  };
}

export const adminKeyRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/keys',
    role: 'admin',
    handle: list,
    summary:
      'Recipient keys (search by address or fingerprint, paged) and the held key changes side by side.',
    query: keysQuery,
    answer: keysAnswer,
  },
  {
    method: 'POST',
    path: '/keys/changes/:id/approve',
    role: 'admin',
    handle: decide('approve'),
    summary: 'Approve a held key change: the new key is used from the next message.',
    answer: decideAnswer,
  },
  {
    method: 'POST',
    path: '/keys/changes/:id/reject',
    role: 'admin',
    handle: decide('reject'),
    summary: 'Reject a held key change: the known key stays.',
    answer: decideAnswer,
  },
  {
    method: 'POST',
    path: '/keys/import',
    role: 'admin',
    handle: importKey,
    summary: 'Upload a recipient key file (armored): pinned for the addresses it names.',
    body: importRequest,
    answer: importAnswer,
  },
  {
    method: 'POST',
    path: '/keys/pin',
    role: 'admin',
    handle: keyAction('pin'),
    summary: 'Pin a discovered or registered recipient key (source admin).',
    body: recipientKeyRequest,
    answer: okAnswer,
  },
  {
    method: 'POST',
    path: '/keys/drop',
    role: 'admin',
    handle: keyAction('drop'),
    summary: 'Drop a recipient key: no longer used, not brought back by discovery.',
    body: recipientKeyRequest,
    answer: okAnswer,
  },
];
