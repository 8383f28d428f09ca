import {
  REPLIES_PAGE_SIZE,
  replyIdSchema,
  repliesPageSchema,
  type RepliesAnswer,
  type ReplyTextAnswer,
  type ReplyVerdict,
  repliesAnswer,
  replyTextAnswer,
} from '../contract/console-replies.ts';
import { openConsoleReply } from '../../keys/index.ts';
import { sendConsole } from './http.ts';
import type { ConsoleRoute, RouteContext } from './routes.ts';

/**
 * The replies screen (docs/console.md "Replies"): pickup replies kept for her where no inbound relay is set
 * (webmail/api/reply-console.ts). The list holds contact, time and signature verdict; the text is decrypted
 * with her sender key only when she opens one, answered over her session and never stored. Every query is
 * bound to her user id.
 */
async function listReplies({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const page = repliesPageSchema.safeParse(req.query.page);
  if (!page.success) return sendConsole(res, 'CON_BAD_REQUEST');
  const n = Number(page.data ?? 0);
  const { rows, total } = await deps.db.stores.consoleReplies.listOf(user.id, {
    offset: n * REPLIES_PAGE_SIZE,
    limit: REPLIES_PAGE_SIZE,
  });
  const answer: RepliesAnswer = {
    replies: rows.map((r) => ({
      id: r.id,
      contact: r.contact_address,
      received: new Date(r.created_at).toISOString(),
      signature: r.signature as ReplyVerdict,
    })),
    page: n,
    pages: Math.max(1, Math.ceil(total / REPLIES_PAGE_SIZE)),
  };
  await audit('console.replies');
  res.json(answer);
}

async function readReply({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const id = replyIdSchema.safeParse(req.params.id);
  if (!id.success) return sendConsole(res, 'CON_NOT_FOUND');
  const row = await deps.db.stores.consoleReplies.byId(user.id, id.data);
  if (!row) return sendConsole(res, 'CON_NOT_FOUND');
  // Every key the address has had (a reply written before a rotation is to the earlier key), newest first.
  const [senderKeys, contact] = await Promise.all([
    deps.keys.decryptionKeys(row.sender_address),
    deps.db.stores.contacts.byId(row.contact_id),
  ]);
  const armored = deps.sealer.open('console', row.ciphertext, `reply:${row.id}`).toString('utf8');
  const opened =
    senderKeys.length > 0 && contact?.public_key
      ? await openConsoleReply({
          armored,
          senderKey: senderKeys,
          contactPublicKey: contact.public_key,
          contactAddress: row.contact_address,
          now: deps.clock.now(),
          maxDecompressedBytes: deps.config.inbound.decompressLimitBytes,
        })
      : ({ ok: false, signature: 'unreadable' } as const);
  await audit('console.reply.read', row.contact_address);
  deps.log.info('CON_REPLY_READ', { user: user.login, id: row.id, verdict: opened.signature });
  const answer: ReplyTextAnswer = {
    id: row.id,
    contact: row.contact_address,
    received: new Date(row.created_at).toISOString(),
    signature: opened.signature,
    text: opened.ok ? opened.text : '',
    attachments: opened.ok ? opened.attachments : 0,
  };
  res.set('Cache-Control', 'no-store').json(answer);
}

async function deleteReply({ deps, req, res, user, audit }: RouteContext): Promise<void> {
  const id = replyIdSchema.safeParse(req.params.id);
  if (!id.success) return sendConsole(res, 'CON_NOT_FOUND');
  const row = await deps.db.stores.consoleReplies.byId(user.id, id.data);
  if (!row || !(await deps.db.stores.consoleReplies.delete(user.id, id.data)))
    return sendConsole(res, 'CON_NOT_FOUND');
  await audit('console.reply.deleted', row.contact_address);
  deps.log.info('CON_REPLY_DELETED', { user: user.login, id: row.id });
  res.json({ ok: true });
}

export const consoleRepliesRoutes: readonly ConsoleRoute[] = [
  {
    method: 'GET',
    path: '/replies',
    role: 'user',
    handle: listReplies,
    summary: 'Her pickup replies kept for the console (no inbound relay), one page.',
    answer: repliesAnswer,
  },
  {
    method: 'GET',
    path: '/replies/:id',
    role: 'user',
    handle: readReply,
    summary: 'One reply as OpenPGP to her sender key, with the signature verdict.',
    answer: replyTextAnswer,
  },
  {
    method: 'POST',
    path: '/replies/:id/delete',
    role: 'user',
    handle: deleteReply,
    summary: 'Delete one of her replies.',
  },
];
