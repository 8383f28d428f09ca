import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { errName } from '../../core/log.ts';
import { checkKey, KeyImportError, plausibleBrowserSecret } from '../../keys/index.ts';
import {
  ownKeyRequest,
  secretKind,
  secretRequest,
  type MessagesAnswer,
  type OkAnswer,
  type OwnRepliesAnswer,
  type OwnKeyAnswer,
  type ReplyAnswer,
  type SendersAnswer,
  type SessionAnswer,
} from '../contract/pickup.ts';
import type { PickupApiDeps } from './deps.ts';
import { HttpError, route, send } from './http.ts';
import { idleMs, requestSessionHash, setSessionCookie, sha256 } from './pickup-session.ts';
import { acceptReply } from './replies.ts';
import { replyRequest } from '../contract/pickup.ts';

/**
 * Everything behind unlock: the contact's messages (ciphertext only), the senders' public keys, replies,
 * a new secret, an own key, logout. A session is a random token in an HttpOnly, SameSite=Strict cookie
 * plus a random key the app sends in the `Sealpost-Session` header (pickup-session.ts); the database keeps the
 * SHA-256 of both, ended after `pickup.sessionIdleMinutes` idle or 12 hours.
 */
interface Session {
  tokenHash: string;
  contactId: string;
  address: string;
}

export function sessionRoutes(deps: PickupApiDeps): Router {
  const router = express.Router();
  const sessions = new WeakMap<Request, Session>();
  const need = (req: Request): Session => {
    const s = sessions.get(req);
    if (!s) throw new HttpError('PU_NO_SESSION');
    return s;
  };
  router.use((req: Request, res: Response, next: NextFunction) => {
    load(deps, req).then((session) => {
      if (!session) return send(res, 'PU_NO_SESSION');
      sessions.set(req, session);
      next();
    }, next);
  });
  router.get(
    '/',
    route(async (req, res) => contactInfo(deps, need(req), res)),
  );
  router.get(
    '/messages',
    route(async (req, res) => list(deps, need(req), res)),
  );
  router.get(
    '/messages/:id',
    route(async (req, res) => fetchOne(deps, need(req), req, res)),
  );
  router.get(
    '/senders',
    route(async (req, res) => senders(deps, need(req), res)),
  );
  router.get(
    '/replies',
    route(async (req, res) => ownReplies(deps, need(req), res)),
  );
  router.get(
    '/replies/:id',
    route(async (req, res) => ownReply(deps, need(req), req, res)),
  );
  router.post(
    '/replies',
    route(async (req, res) => reply(deps, need(req), req, res)),
  );
  router.post(
    '/secret',
    route(async (req, res) => newSecret(deps, need(req), req, res)),
  );
  router.post(
    '/key',
    route(async (req, res) => ownKey(deps, need(req), req, res)),
  );
  router.post(
    '/logout',
    route(async (req, res) => {
      await deps.db.stores.pickups.endSession(need(req).tokenHash);
      setSessionCookie(deps, res, null);
      res.json({ ok: true } satisfies OkAnswer);
    }),
  );
  return router;
}

async function load(deps: PickupApiDeps, req: Request): Promise<Session | undefined> {
  const tokenHash = requestSessionHash(req);
  if (!tokenHash) return undefined;
  const { pickups, contacts } = deps.db.stores;
  const session = await pickups.session(tokenHash, idleMs(deps), deps.clock.now().getTime());
  // A contact's sessions go with the contact (ON DELETE CASCADE): one that is gone has no session.
  const contact = session && (await contacts.byId(session.contactId));
  return contact ? { tokenHash, contactId: contact.id, address: contact.address } : undefined;
}

async function contactInfo(deps: PickupApiDeps, s: Session, res: Response): Promise<void> {
  const c = await deps.db.stores.contacts.byId(s.contactId);
  if (!c) throw new Error("the session's contact is gone");
  const answer: SessionAnswer = {
    contact: {
      id: c.id,
      address: c.address,
      fingerprint: c.fingerprint,
      secretKind: secretKind.parse(c.secret_kind),
    },
    expiresAt: new Date(deps.clock.now().getTime() + idleMs(deps)).toISOString(),
  };
  res.json(answer);
}

async function list(deps: PickupApiDeps, s: Session, res: Response): Promise<void> {
  const now = deps.clock.now().getTime();
  const rows = await deps.db.stores.pickups.listFor(s.contactId, now);
  const contact = await deps.db.stores.contacts.byId(s.contactId);
  const answer: MessagesAnswer = {
    messages: rows.map((r) => ({
      id: r.id,
      sender: { address: r.sender_address, displayName: r.sender_name, fingerprint: r.sender_fingerprint },
      createdAt: new Date(Number(r.created_at)).toISOString(),
      expiresAt: new Date(Number(r.expires_at)).toISOString(),
      size: Number(r.size),
      readable: r.key_fingerprint === contact?.fingerprint,
    })),
  };
  res.json(answer);
}

async function fetchOne(deps: PickupApiDeps, s: Session, req: Request, res: Response): Promise<void> {
  const row = await deps.db.stores.pickups.sealedCiphertext(
    String(req.params.id),
    s.contactId,
    deps.clock.now().getTime(),
  );
  if (!row) throw new HttpError('PU_NOT_FOUND');
  let bytes: Buffer;
  try {
    bytes = deps.sealer.open('pickup', row.ciphertext, row.id);
  } catch (err) {
    deps.log.error('PU_UNSEAL_FAILED', { id: row.id, errName: errName(err) });
    throw new HttpError('PU_INTERNAL');
  }
  await deps.db.stores.sent.markOpened(row.id, deps.clock.now().getTime()); // her sent list: "first opened"
  // Ciphertext, and a download should anyone open this URL as a page (invariant 9).
  res.type('application/octet-stream').setHeader('Content-Disposition', 'attachment');
  res.send(bytes);
}

/** Every signing key used for this contact's messages, and each sender's current key (to reply to). */
async function senders(deps: PickupApiDeps, s: Session, res: Response): Promise<void> {
  const used = await deps.db.stores.pickups.sendersOf(s.contactId);
  const addresses = [...new Set(used.map((u) => u.sender_address))];
  const fingerprints = [...new Set(used.map((u) => u.sender_fingerprint))];
  if (addresses.length === 0) return void res.json({ senders: [] } satisfies SendersAnswer);
  const keys = await deps.keys.senderKeysFor({ fingerprints, addresses });
  const names = new Map(used.map((u) => [u.sender_address, u.sender_name]));
  const answer: SendersAnswer = {
    senders: keys.map((k) => ({
      address: k.address,
      displayName: names.get(k.address) ?? k.address,
      fingerprint: k.fingerprint,
      publicKey: k.publicKey,
      active: k.active,
    })),
  };
  res.json(answer);
}

async function reply(deps: PickupApiDeps, s: Session, req: Request, res: Response): Promise<void> {
  const body = replyRequest.safeParse(req.body);
  if (!body.success) return send(res, 'PU_BAD_REQUEST');
  const id = await acceptReply(deps, { contactId: s.contactId, contactAddress: s.address, ...body.data });
  res.status(202).json({ id } satisfies ReplyAnswer);
}

/** The contact's own replies still readable with their current key, oldest first: ids and threads only. */
async function ownReplies(deps: PickupApiDeps, s: Session, res: Response): Promise<void> {
  const contact = await deps.db.stores.contacts.byId(s.contactId);
  const rows = contact?.fingerprint
    ? await deps.db.stores.pickups.ownReplies(s.contactId, contact.fingerprint)
    : [];
  res.json({
    replies: rows.map((r) => ({
      id: r.id,
      inReplyTo: r.pickup_id,
      createdAt: new Date(Number(r.created_at)).toISOString(),
    })),
  } satisfies OwnRepliesAnswer);
}

/** One own reply: the armored OpenPGP message, only the contact's key (and the sender's) opens it. */
async function ownReply(deps: PickupApiDeps, s: Session, req: Request, res: Response): Promise<void> {
  const id = String(req.params.id);
  const row = await deps.db.stores.pickups.ownReply(id, s.contactId);
  if (!row) throw new HttpError('PU_NOT_FOUND');
  let bytes: Buffer;
  try {
    bytes = deps.sealer.open('pickup', row.ciphertext, `reply:${row.id}`);
  } catch (err) {
    deps.log.error('PU_UNSEAL_FAILED', { id: row.id, errName: errName(err) });
    throw new HttpError('PU_INTERNAL');
  }
  res.type('application/octet-stream').setHeader('Content-Disposition', 'attachment');
  res.send(bytes);
}

async function newSecret(deps: PickupApiDeps, s: Session, req: Request, res: Response): Promise<void> {
  const body = secretRequest.safeParse(req.body);
  if (!body.success) return send(res, 'PU_SECRET_INVALID');
  const authKey = Buffer.from(body.data.authKey, 'base64');
  const locked = Buffer.from(body.data.lockedPrivateKey, 'base64');
  if (!plausibleBrowserSecret(authKey, locked)) return send(res, 'PU_SECRET_INVALID');
  const now = deps.clock.now();
  await deps.db.stores.transaction(async (stores) => {
    await stores.contacts.setSecret(
      s.contactId,
      {
        kdf: JSON.stringify(body.data.kdf),
        authHash: sha256(authKey).toString('hex'),
        lockedPrivateKey: locked,
        secretKind: 'passphrase',
      },
      now.getTime(),
    );
    // Other sessions were opened with the old secret: they end.
    await stores.pickups.endSessionsOf(s.contactId, s.tokenHash);
    await stores.audit.record({ actor: 'webmail', action: 'contact.passphrase', subject: s.address }, now);
  });
  deps.log.info('PU_SECRET_CHANGED', { contact: s.contactId });
  res.json({ ok: true } satisfies OkAnswer);
}

async function ownKey(deps: PickupApiDeps, s: Session, req: Request, res: Response): Promise<void> {
  const body = ownKeyRequest.safeParse(req.body);
  if (!body.success) return send(res, 'PU_KEY_INVALID', { problem: 'unreadable' });
  const check = await checkKey(body.data.publicKey, deps.clock.now());
  if (!check.usable) return send(res, 'PU_KEY_INVALID', { problem: check.problem });
  if (!check.facts.emails.includes(s.address)) return send(res, 'PU_KEY_INVALID', { problem: 'address' });
  let fingerprint: string;
  try {
    fingerprint = await deps.keys.registerPickupKey(s.address, body.data.publicKey);
  } catch (err) {
    // A key the practice's admin dropped: the contact's upload does not bring it back.
    if (err instanceof KeyImportError) return send(res, 'PU_KEY_INVALID', { problem: 'dropped' });
    throw err;
  }
  deps.log.info('PU_KEY_REGISTERED', { contact: s.contactId, fingerprint });
  res.json({ fingerprint } satisfies OwnKeyAnswer);
}
