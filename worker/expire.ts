import { errName } from '../core/log.ts';
import type { CoreDeps } from '../core/deps.ts';

/**
 * Expiry (DESIGN.md invariant 5): pickups older than their retention are deleted with their ciphertext;
 * each leaves a tombstone with its id only, so that an old link shows "expired" and not "not found".
 * Ended sessions and tombstones past a year go too, and spool chunks that belong to no queued row and are
 * older than an hour (core/store/outbound-chunk-rows.ts `sweep`). Runs as a repeatable maintenance job.
 */
export interface ExpireResult {
  pickups: number;
  sessions: number;
  /** Spool chunks of no queued row (a message that died between its chunks and its commit). */
  chunks: number;
}

/** A chunk this old with no queued row is an orphan: a message is written within one DATA phase. */
export const ORPHAN_CHUNK_MS = 60 * 60_000;

const PAGE = 500;

export async function expirePickups(deps: CoreDeps): Promise<ExpireResult> {
  const { db, clock, log, config } = deps;
  const { pickups: store } = db.stores;
  const now = clock.now();
  // First and on its own: a failure of the pickup expiry below must not keep orphans, nor this fail it.
  const chunks = await db.stores.outbound.chunks
    .sweep(now.getTime() - ORPHAN_CHUNK_MS)
    .catch((err: unknown) => {
      log.warn('DLV_CHUNKS_SWEEP_FAILED', { errName: errName(err) });
      return 0;
    });
  if (chunks) log.info('DLV_CHUNKS_SWEPT', { count: chunks });
  let pickups = 0;
  for (let n = await store.expirePage(now, PAGE); n > 0; n = await store.expirePage(now, PAGE)) pickups += n;
  const sessions = await store.expireSessions(config.pickup.sessionIdleMinutes * 60_000, now.getTime());
  await store.purgeTombstones(now.getTime());
  const result = { pickups, sessions, chunks };
  if (result.pickups || result.sessions) log.info('PU_EXPIRED', { count: result.pickups });
  return result;
}
