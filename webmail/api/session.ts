import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { audit } from '../../core/audit.ts';
import { errName } from '../../core/log.ts';
import { checkKey, kdfSchema } from '../../keys/index.ts';
import type { PickupApiDeps } from './deps.ts';
import { HttpError, route, send } from './http.ts';
import { idleMs, requestSessionHash, SESSION_MAX_MS, setSessionCookie, sha256 } from './common.ts';
import { acceptReply, replySchema } from './replies.ts';

/**
 * Everything behind unlock: the contact's messages (ciphertext only), the senders' public keys, replies,
 * a new secret, an own key, logout. A session is a random token in an HttpOnly, SameSite=Strict cookie
 * plus a random key the app sends in the `Sealpost-Session` header (common.ts); the database keeps the
 * SHA-256 of both, ended after `pickup.sessionIdleMinutes` idle or 12 hours.
 */
interface Session {
  tokenHash: string;
  contactId: string;
  address: string;
}

const secretSchema = z
  .object({
    secretKind: z.literal('passphrase'),
    kdf: kdfSchema,
    authKey: z.base64(),
    lockedPrivateKey: z.base64().max(64 * 1024),
  })
  .strict();
const ownKeySchema = z
  .object({
    publicKey: z
      .string()
      .min(1)
      .max(1024 * 1024),
  })
  .strict();

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
      await deps.db.kysely
        .deleteFrom('pickup_sessions')
        .where('token_hash', '=', need(req).tokenHash)
        .execute();
      setSessionCookie(deps, res, null);
      res.json({ ok: true });
    }),
  );
  return router;
}

async function load(deps: PickupApiDeps, req: Request): Promise<Session | undefined> {
  const tokenHash = requestSessionHash(req);
  if (!tokenHash) return undefined;
  const row = await deps.db.kysely
    .selectFrom('pickup_sessions')
    .innerJoin('contacts', 'contacts.id', 'pickup_sessions.contact_id')
    .select([
      'pickup_sessions.contact_id',
      'pickup_sessions.created_at',
      'pickup_sessions.last_seen_at',
      'contacts.address',
    ])
    .where('token_hash', '=', tokenHash)
    .executeTakeFirst();
  if (!row) return undefined;
  const now = deps.clock.now().getTime();
  if (Number(row.last_seen_at) + idleMs(deps) < now || Number(row.created_at) + SESSION_MAX_MS < now) {
    await deps.db.kysely.deleteFrom('pickup_sessions').where('token_hash', '=', tokenHash).execute();
    return undefined;
  }
  // Session bookkeeping only (the idle clock): no resource changes on a GET.
  await deps.db.kysely
    .updateTable('pickup_sessions')
    .set({ last_seen_at: now })
    .where('token_hash', '=', tokenHash)
    .execute();
  return { tokenHash, contactId: row.contact_id, address: row.address };
}

async function contactInfo(deps: PickupApiDeps, s: Session, res: Response): Promise<void> {
  const c = await deps.db.kysely
    .selectFrom('contacts')
    .select(['id', 'address', 'fingerprint', 'secret_kind'])
    .where('id', '=', s.contactId)
    .executeTakeFirstOrThrow();
  res.json({
    contact: { id: c.id, address: c.address, fingerprint: c.fingerprint, secretKind: c.secret_kind },
    expiresAt: new Date(deps.clock.now().getTime() + idleMs(deps)).toISOString(),
  });
}

async function list(deps: PickupApiDeps, s: Session, res: Response): Promise<void> {
  const now = deps.clock.now().getTime();
  const rows = await deps.db.kysely
    .selectFrom('pickups')
    .innerJoin('contacts', 'contacts.id', 'pickups.contact_id')
    .select([
      'pickups.id',
      'pickups.sender_address',
      'pickups.sender_name',
      'pickups.sender_fingerprint',
      'pickups.created_at',
      'pickups.expires_at',
      'pickups.size',
      'pickups.key_fingerprint',
      'contacts.fingerprint',
    ])
    .where('pickups.contact_id', '=', s.contactId)
    .where('pickups.expires_at', '>', now)
    .orderBy('pickups.created_at', 'desc')
    .execute();
  res.json({
    messages: rows.map((r) => ({
      id: r.id,
      sender: { address: r.sender_address, displayName: r.sender_name, fingerprint: r.sender_fingerprint },
      createdAt: new Date(Number(r.created_at)).toISOString(),
      expiresAt: new Date(Number(r.expires_at)).toISOString(),
      size: Number(r.size),
      readable: r.key_fingerprint === r.fingerprint,
    })),
  });
}

async function fetchOne(deps: PickupApiDeps, s: Session, req: Request, res: Response): Promise<void> {
  const row = await deps.db.kysely
    .selectFrom('pickups')
    .select(['id', 'ciphertext'])
    .where('id', '=', String(req.params.id))
    .where('contact_id', '=', s.contactId)
    .where('expires_at', '>', deps.clock.now().getTime())
    .executeTakeFirst();
  if (!row) throw new HttpError('PU_NOT_FOUND');
  let bytes: Buffer;
  try {
    bytes = deps.sealer.open('pickup', row.ciphertext, row.id);
  } catch (err) {
    deps.log.error('PU_UNSEAL_FAILED', { id: row.id, errName: errName(err) });
    throw new HttpError('PU_INTERNAL');
  }
  // Ciphertext, and a download should anyone open this URL as a page (invariant 9).
  res.type('application/octet-stream').setHeader('Content-Disposition', 'attachment');
  res.send(bytes);
}

/** Every signing key used for this contact's messages, and each sender's current key (to reply to). */
async function senders(deps: PickupApiDeps, s: Session, res: Response): Promise<void> {
  const used = await deps.db.kysely
    .selectFrom('pickups')
    .select(['sender_address', 'sender_name', 'sender_fingerprint'])
    .distinct()
    .where('contact_id', '=', s.contactId)
    .execute();
  const addresses = [...new Set(used.map((u) => u.sender_address))];
  const fingerprints = [...new Set(used.map((u) => u.sender_fingerprint))];
  if (addresses.length === 0) return void res.json({ senders: [] });
  const keys = await deps.db.kysely
    .selectFrom('sender_keys')
    .select(['address', 'fingerprint', 'public_key', 'active'])
    .where((eb) =>
      eb.or([
        eb('fingerprint', 'in', fingerprints),
        eb.and([eb('address', 'in', addresses), eb('active', '=', 1)]),
      ]),
    )
    .execute();
  const names = new Map(used.map((u) => [u.sender_address, u.sender_name]));
  res.json({
    senders: keys.map((k) => ({
      address: k.address,
      displayName: names.get(k.address) ?? k.address,
      fingerprint: k.fingerprint,
      publicKey: k.public_key,
      active: Number(k.active) === 1,
    })),
  });
}

async function reply(deps: PickupApiDeps, s: Session, req: Request, res: Response): Promise<void> {
  const body = replySchema.safeParse(req.body);
  if (!body.success) return send(res, 'PU_BAD_REQUEST');
  const id = await acceptReply(deps, { contactId: s.contactId, contactAddress: s.address, ...body.data });
  res.status(202).json({ id });
}

/** The contact's own replies still readable with their current key, oldest first: ids and threads only. */
async function ownReplies(deps: PickupApiDeps, s: Session, res: Response): Promise<void> {
  const rows = await deps.db.kysely
    .selectFrom('pickup_replies')
    .innerJoin('contacts', 'contacts.id', 'pickup_replies.contact_id')
    .select(['pickup_replies.id', 'pickup_replies.pickup_id', 'pickup_replies.created_at'])
    .where('pickup_replies.contact_id', '=', s.contactId)
    .whereRef('pickup_replies.key_fingerprint', '=', 'contacts.fingerprint')
    .orderBy('pickup_replies.created_at', 'asc')
    .execute();
  res.json({
    replies: rows.map((r) => ({
      id: r.id,
      inReplyTo: r.pickup_id,
      createdAt: new Date(Number(r.created_at)).toISOString(),
    })),
  });
}

/** One own reply: the armored OpenPGP message, only the contact's key (and the sender's) opens it. */
async function ownReply(deps: PickupApiDeps, s: Session, req: Request, res: Response): Promise<void> {
  const id = String(req.params.id);
  const row = await deps.db.kysely
    .selectFrom('pickup_replies')
    .select(['id', 'ciphertext'])
    .where('id', '=', id)
    .where('contact_id', '=', s.contactId)
    .executeTakeFirst();
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
  const body = secretSchema.safeParse(req.body);
  if (!body.success) return send(res, 'PU_SECRET_INVALID');
  const authKey = Buffer.from(body.data.authKey, 'base64');
  const locked = Buffer.from(body.data.lockedPrivateKey, 'base64');
  // iv (12) + tag (16) + a curve25519 private key (a few hundred bytes)
  if (authKey.length !== 32 || locked.length < 12 + 16 + 64) return send(res, 'PU_SECRET_INVALID');
  const now = deps.clock.now();
  await deps.db.kysely.transaction().execute(async (trx) => {
    await trx
      .updateTable('contacts')
      .set({
        kdf: JSON.stringify(body.data.kdf),
        auth_hash: sha256(authKey).toString('hex'),
        locked_private_key: locked,
        secret_kind: 'passphrase',
        secret_set_at: now.getTime(),
        failed_attempts: 0,
      })
      .where('id', '=', s.contactId)
      .execute();
    // Other sessions were opened with the old secret: they end.
    await trx
      .deleteFrom('pickup_sessions')
      .where('contact_id', '=', s.contactId)
      .where('token_hash', '!=', s.tokenHash)
      .execute();
    await audit(trx, { actor: 'webmail', action: 'contact.passphrase', subject: s.address }, now);
  });
  deps.log.info('PU_SECRET_CHANGED', { contact: s.contactId });
  res.json({ ok: true });
}

async function ownKey(deps: PickupApiDeps, s: Session, req: Request, res: Response): Promise<void> {
  const body = ownKeySchema.safeParse(req.body);
  if (!body.success) return send(res, 'PU_KEY_INVALID', { problem: 'unreadable' });
  const check = await checkKey(body.data.publicKey, deps.clock.now());
  if (!check.usable) return send(res, 'PU_KEY_INVALID', { problem: check.problem });
  if (!check.facts.emails.includes(s.address)) return send(res, 'PU_KEY_INVALID', { problem: 'address' });
  const fingerprint = await deps.keys.registerPickupKey(s.address, body.data.publicKey);
  deps.log.info('PU_KEY_REGISTERED', { contact: s.contactId, fingerprint });
  res.json({ fingerprint });
}
