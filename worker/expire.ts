import { audit } from '../core/audit.ts';
import type { CoreDeps } from '../core/deps.ts';

/**
 * Expiry (DESIGN.md invariant 5): pickups older than their retention are deleted with their ciphertext;
 * each leaves a tombstone with its id only, so that an old link shows "expired" and not "not found".
 * Ended sessions and tombstones past a year go too. Runs as a repeatable maintenance job.
 */
export interface ExpireResult {
  pickups: number;
  sessions: number;
}

const TOMBSTONE_DAYS = 365;
const SESSION_MAX_MS = 12 * 3600 * 1000;
const PAGE = 500;

export async function expirePickups(deps: CoreDeps): Promise<ExpireResult> {
  const { db, clock, log, config } = deps;
  const now = clock.now();
  const ts = now.getTime();
  let pickups = 0;
  for (;;) {
    const ids = (
      await db.kysely.selectFrom('pickups').select('id').where('expires_at', '<=', ts).limit(PAGE).execute()
    ).map((r) => r.id);
    if (ids.length === 0) break;
    await db.kysely.transaction().execute(async (trx) => {
      await trx.deleteFrom('pickup_replies').where('pickup_id', 'in', ids).execute(); // the contact's own copies
      await trx.deleteFrom('pickups').where('id', 'in', ids).execute();
      await trx
        .insertInto('pickup_tombstones')
        .values(ids.map((id) => ({ id, expired_at: ts })))
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
      await audit(trx, { actor: 'worker', action: 'pickup.expired', detail: String(ids.length) }, now);
    });
    pickups += ids.length;
  }
  const idle = config.pickup.sessionIdleMinutes * 60_000;
  const sessions = await db.kysely
    .deleteFrom('pickup_sessions')
    .where((eb) => eb.or([eb('last_seen_at', '<', ts - idle), eb('created_at', '<', ts - SESSION_MAX_MS)]))
    .executeTakeFirst();
  await db.kysely
    .deleteFrom('pickup_tombstones')
    .where('expired_at', '<', ts - TOMBSTONE_DAYS * 86_400_000)
    .execute();
  const result = { pickups, sessions: Number(sessions.numDeletedRows) };
  if (result.pickups || result.sessions) log.info('PU_EXPIRED', { count: result.pickups });
  return result;
}
