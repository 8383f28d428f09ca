import { timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { z } from 'zod';
import { audit } from '../../core/audit.ts';
import { errName } from '../../core/log.ts';
import type { Selectable } from 'kysely';
import type { ContactsTable } from '../../core/db/schema.ts';
import { idleMs, MAX_FAILURES, newSession, pickupIdSchema, setSessionCookie, sha256 } from './common.ts';
import { HttpError, postGuard, route, send } from './http.ts';
import { UnlockLimiter } from './limit.ts';
import { sessionRoutes } from './session.ts';
import type { PickupApiDeps } from './deps.ts';

/**
 * The pickup API (docs/pickup.md): metadata and unlock without a session, everything else with one.
 * The server compares SHA-256(authKey) in constant time and hands out the locked private key only after
 * that; it never sees the code or lockKey (DESIGN.md invariant 4).
 */
const unlockSchema = z.object({ authKey: z.base64() }).strict();

export function pickupApi(deps: PickupApiDeps): Router {
  const router = express.Router();
  const { config } = deps;
  const limiter = new UnlockLimiter(deps.limitStore, config.pickup.unlockAttemptsPerIp);
  router.use(postGuard(new URL(config.publicUrl).origin));
  // Replies carry attachments: the JSON limit follows the reply limit (base64 armor is ~4/3 of binary).
  router.use(express.json({ limit: Math.ceil(config.pickup.maxReplyBytes * 1.4) + 65_536 }));
  router.use('/session', sessionRoutes(deps));
  // The operator block every pickup page shows, before any code (SEALPOST_PRACTICE_*, docs/pickup-app.md).
  router.get('/practice', (_req, res) => {
    res.json({
      name: config.practiceName,
      ...(config.practiceAddress ? { address: config.practiceAddress } : {}),
      ...(config.practicePhone ? { phone: config.practicePhone } : {}),
      ...(config.imprintUrl ? { imprintUrl: config.imprintUrl } : {}),
      ...(config.privacyUrl ? { privacyUrl: config.privacyUrl } : {}),
      ...(config.securityWord ? { securityWord: config.securityWord } : {}),
    });
  });
  router.get(
    '/:id',
    route((req, res) => metadata(deps, req, res)),
  );
  router.post(
    '/:id/unlock',
    route((req, res) => unlock(deps, limiter, req, res)),
  );
  return router;
}

/** The pickup row, or an HttpError: 410 for an expired one (or its tombstone), 404 otherwise. */
async function findPickup(deps: PickupApiDeps, rawId: unknown) {
  const id = pickupIdSchema.safeParse(rawId);
  if (!id.success) throw new HttpError('PU_NOT_FOUND');
  const now = deps.clock.now().getTime();
  const row = await deps.db.kysely
    .selectFrom('pickups')
    .innerJoin('contacts', 'contacts.id', 'pickups.contact_id')
    .select([
      'pickups.id',
      'pickups.contact_id',
      'pickups.key_fingerprint',
      'pickups.sender_name',
      'pickups.created_at',
      'pickups.expires_at',
    ])
    .where('pickups.id', '=', id.data)
    .executeTakeFirst();
  if (row && Number(row.expires_at) > now) return row;
  if (row) throw new HttpError('PU_EXPIRED', { state: 'expired' });
  const tomb = await deps.db.kysely
    .selectFrom('pickup_tombstones')
    .select('id')
    .where('id', '=', id.data)
    .executeTakeFirst();
  throw new HttpError(tomb ? 'PU_EXPIRED' : 'PU_NOT_FOUND', tomb ? { state: 'expired' } : {});
}

async function contactRow(deps: PickupApiDeps, id: string): Promise<Selectable<ContactsTable>> {
  const contact = await deps.db.kysely
    .selectFrom('contacts')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!contact) throw new HttpError('PU_NOT_FOUND');
  return contact;
}

async function metadata(deps: PickupApiDeps, req: Request, res: Response): Promise<void> {
  const pickup = await findPickup(deps, req.params.id);
  const contact = await contactRow(deps, pickup.contact_id);
  const kdf = JSON.parse(contact.kdf) as Record<string, unknown>;
  res.json({
    id: pickup.id,
    state: 'available',
    sender: { displayName: pickup.sender_name },
    createdAt: new Date(Number(pickup.created_at)).toISOString(),
    expiresAt: new Date(Number(pickup.expires_at)).toISOString(),
    contact: { secretKind: contact.secret_kind, locked: Number(contact.locked) === 1, kdf },
    readable: pickup.key_fingerprint === contact.fingerprint,
  });
}

async function unlock(
  deps: PickupApiDeps,
  limiter: UnlockLimiter,
  req: Request,
  res: Response,
): Promise<void> {
  const { log } = deps;
  const pickup = await findPickup(deps, req.params.id);
  const body = unlockSchema.safeParse(req.body);
  const authKey = body.success ? Buffer.from(body.data.authKey, 'base64') : undefined;
  if (!authKey || authKey.length !== 32) return send(res, 'PU_BAD_REQUEST');
  const ticket = await limiter.begin(req.ip).catch((err: unknown) => {
    // Fail closed: without the count of wrong codes nobody may try one (503, the app says "try again").
    log.error('PU_LIMIT_UNAVAILABLE', { contact: pickup.contact_id, errName: errName(err) });
    throw new HttpError('PU_UNAVAILABLE');
  });
  if (!ticket.allowed) {
    log.warn('PU_TOO_MANY_WRONG_CODES', { contact: pickup.contact_id, ms: ticket.retryAfterSeconds * 1000 });
    res.setHeader('Retry-After', String(ticket.retryAfterSeconds));
    return send(res, 'PU_TOO_MANY_WRONG_CODES', { retryAfterSeconds: ticket.retryAfterSeconds });
  }
  const contact = await contactRow(deps, pickup.contact_id);
  const locked = Number(contact.locked) === 1;
  // Constant time over the hash: an attacker learns nothing from how long a wrong key takes.
  const right = !locked && timingSafeEqual(sha256(authKey), Buffer.from(contact.auth_hash, 'hex'));
  // Only a wrong code counts against the address; a locked contact's code is not even compared.
  if (right || locked) {
    await limiter.release(ticket).catch((err: unknown) => {
      log.error('PU_LIMIT_UNAVAILABLE', { contact: contact.id, errName: errName(err) });
    });
  }
  if (locked) return send(res, 'PU_LOCKED');
  if (!right) return failed(deps, contact, deps.clock.now(), res);
  await opened(deps, contact, res);
}

/** The right code: reset the contact's failures, open a session, hand out the locked private key. */
async function opened(deps: PickupApiDeps, contact: Selectable<ContactsTable>, res: Response): Promise<void> {
  const now = deps.clock.now();
  const session = newSession();
  await deps.db.kysely.transaction().execute(async (trx) => {
    await trx
      .updateTable('contacts')
      .set({ failed_attempts: 0, last_unlock_at: now.getTime() })
      .where('id', '=', contact.id)
      .execute();
    await trx
      .insertInto('pickup_sessions')
      .values({
        token_hash: session.hash,
        contact_id: contact.id,
        created_at: now.getTime(),
        last_seen_at: now.getTime(),
      })
      .execute();
  });
  deps.log.info('PU_UNLOCKED', { contact: contact.id });
  setSessionCookie(deps, res, session.token);
  res.json({
    contact: {
      id: contact.id,
      address: contact.address,
      fingerprint: contact.fingerprint,
      lockedPrivateKey: Buffer.from(contact.locked_private_key).toString('base64'),
    },
    session: { expiresAt: new Date(now.getTime() + idleMs(deps)).toISOString(), key: session.key },
  });
}

/** Count a failure atomically; the fifth locks the contact until the sender or admin acts. */
async function failed(
  deps: PickupApiDeps,
  contact: Selectable<ContactsTable>,
  now: Date,
  res: Response,
): Promise<void> {
  const failures = await deps.db.kysely.transaction().execute(async (trx) => {
    await trx
      .updateTable('contacts')
      .set((eb) => ({ failed_attempts: eb('failed_attempts', '+', 1) }))
      .where('id', '=', contact.id)
      .execute();
    const row = await trx
      .selectFrom('contacts')
      .select('failed_attempts')
      .where('id', '=', contact.id)
      .executeTakeFirstOrThrow();
    const n = Number(row.failed_attempts);
    if (n >= MAX_FAILURES) {
      await trx.updateTable('contacts').set({ locked: 1 }).where('id', '=', contact.id).execute();
      await audit(trx, { actor: 'webmail', action: 'contact.locked', subject: contact.address }, now);
    }
    return n;
  });
  deps.log.warn('PU_BAD_CODE', { contact: contact.id, count: failures });
  if (failures >= MAX_FAILURES) {
    deps.log.warn('PU_LOCKED', { contact: contact.id });
    return send(res, 'PU_LOCKED');
  }
  send(res, 'PU_BAD_CODE', { attemptsLeft: MAX_FAILURES - failures });
}
