import { timingSafeEqual } from 'node:crypto';
import express, { type Request, type Response, type Router } from 'express';
import { errName } from '../../core/log.ts';
import { effectiveSettings } from '../../core/settings.ts';
import { MAX_FAILURES, type ContactRow } from '../../core/store/index.ts';
import { idleMs, newSession, pickupIdSchema, setSessionCookie, sha256 } from './pickup-session.ts';
import { HttpError, postGuard, route, send } from './http.ts';
import { UnlockLimiter } from './limit.ts';
import {
  storedKdfSchema,
  secretKind,
  unlockRequest,
  type MetaAnswer,
  type PracticeAnswer,
  type UnlockAnswer,
} from '../contract/pickup.ts';
import { sessionRoutes } from './session.ts';
import type { PickupApiDeps } from './deps.ts';

/**
 * The pickup API (docs/pickup.md): metadata and unlock without a session, everything else with one.
 * The server compares SHA-256(authKey) in constant time and hands out the locked private key only after
 * that; it never sees the code or lockKey (DESIGN.md invariant 4).
 */

export function pickupApi(deps: PickupApiDeps): Router {
  const router = express.Router();
  const { config } = deps;
  const limiter = new UnlockLimiter(deps.limitStore, config.pickup.unlockAttemptsPerIp);
  router.use(postGuard(new URL(config.publicUrl).origin));
  // Replies carry attachments: the JSON limit follows the reply limit (base64 armor is ~4/3 of binary).
  router.use(express.json({ limit: Math.ceil(config.pickup.maxReplyBytes * 1.4) + 65_536 }));
  router.use('/session', sessionRoutes(deps));
  // The operator block every pickup page shows, before any code (SEALPOST_PRACTICE_*, docs/pickup-app.md).
  router.get('/practice', async (_req, res) => {
    res.json({
      // The practice name in force (the admin's setting over SEALPOST_PRACTICE_NAME, core/settings.ts).
      name: (await effectiveSettings(deps)).practiceName,
      ...(config.practiceAddress ? { address: config.practiceAddress } : {}),
      ...(config.practicePhone ? { phone: config.practicePhone } : {}),
      ...(config.imprintUrl ? { imprintUrl: config.imprintUrl } : {}),
      ...(config.privacyUrl ? { privacyUrl: config.privacyUrl } : {}),
      ...(config.securityWord ? { securityWord: config.securityWord } : {}),
    } satisfies PracticeAnswer);
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
  const row = await deps.db.stores.pickups.lookup(id.data);
  if (row.found && Number(row.expires_at) > now) return row;
  if (!row.found && row.reason === 'withdrawn') throw new HttpError('PU_WITHDRAWN', { state: 'withdrawn' });
  if (row.found || row.tombstone) throw new HttpError('PU_EXPIRED', { state: 'expired' });
  throw new HttpError('PU_NOT_FOUND');
}

async function contactRow(deps: PickupApiDeps, id: string): Promise<ContactRow> {
  const contact = await deps.db.stores.contacts.byId(id);
  if (!contact) throw new HttpError('PU_NOT_FOUND');
  return contact;
}

async function metadata(deps: PickupApiDeps, req: Request, res: Response): Promise<void> {
  const pickup = await findPickup(deps, req.params.id);
  const contact = await contactRow(deps, pickup.contact_id);
  const answer: MetaAnswer = {
    id: pickup.id,
    state: 'available',
    sender: { displayName: pickup.sender_name },
    createdAt: new Date(Number(pickup.created_at)).toISOString(),
    expiresAt: new Date(Number(pickup.expires_at)).toISOString(),
    contact: {
      secretKind: secretKind.parse(contact.secret_kind),
      locked: Number(contact.locked) === 1,
      kdf: storedKdfSchema.parse(JSON.parse(contact.kdf)),
    },
    readable: pickup.key_fingerprint === contact.fingerprint,
  };
  res.json(answer);
}

async function unlock(
  deps: PickupApiDeps,
  limiter: UnlockLimiter,
  req: Request,
  res: Response,
): Promise<void> {
  const { log } = deps;
  const pickup = await findPickup(deps, req.params.id);
  const body = unlockRequest.safeParse(req.body);
  const authKey = body.success ? Buffer.from(body.data.authKey, 'base64') : undefined;
  if (!authKey || authKey.length !== 32) return send(res, 'PU_BAD_REQUEST');
  const ticket = await limiter.begin(req.ip).catch((err: unknown) => {
    // Fail closed: without the count of wrong codes nobody may try one (503, the app says "try again").
    log.error('PU_LIMIT_UNAVAILABLE', { contact: pickup.contact_id, errName: errName(err) });
    deps.metrics?.unlock('unavailable');
    throw new HttpError('PU_UNAVAILABLE');
  });
  if (!ticket.allowed) {
    deps.metrics?.unlock('rate_limited');
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
  deps.metrics?.unlock(locked ? 'locked' : right ? 'unlocked' : 'wrong_code');
  if (locked) return send(res, 'PU_LOCKED');
  if (!right) return failed(deps, contact, deps.clock.now(), res);
  await opened(deps, contact, res);
}

/** The right code: reset the contact's failures, open a session, hand out the locked private key. */
async function opened(deps: PickupApiDeps, contact: ContactRow, res: Response): Promise<void> {
  const now = deps.clock.now();
  const session = newSession();
  await deps.db.stores.transaction(async (stores) => {
    await stores.contacts.recordUnlock(contact.id, now.getTime());
    await stores.pickups.openSession(session.hash, contact.id, now.getTime());
  });
  deps.log.info('PU_UNLOCKED', { contact: contact.id });
  setSessionCookie(deps, res, session.token);
  const answer: UnlockAnswer = {
    contact: {
      id: contact.id,
      address: contact.address,
      fingerprint: contact.fingerprint,
      lockedPrivateKey: Buffer.from(contact.locked_private_key).toString('base64'),
    },
    session: { expiresAt: new Date(now.getTime() + idleMs(deps)).toISOString(), key: session.key },
  };
  res.json(answer);
}

/** Count a failure atomically; the fifth locks the contact until the sender or admin acts. */
async function failed(deps: PickupApiDeps, contact: ContactRow, now: Date, res: Response): Promise<void> {
  const failures = await deps.db.stores.contacts.recordFailure(contact, now);
  deps.log.warn('PU_BAD_CODE', { contact: contact.id, count: failures });
  if (failures >= MAX_FAILURES) {
    deps.log.warn('PU_LOCKED', { contact: contact.id });
    return send(res, 'PU_LOCKED');
  }
  send(res, 'PU_BAD_CODE', { attemptsLeft: MAX_FAILURES - failures });
}
