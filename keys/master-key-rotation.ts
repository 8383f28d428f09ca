import type { Clock } from '../core/clock.ts';
import type { Db } from '../core/db/index.ts';
import { resealColumns, type ResealProgress, type ResealResult } from '../core/reseal.ts';
import type { Sealer } from '../core/seal.ts';
import { SEALED_COLUMNS } from '../core/store/index.ts';
import { SEALED_SENDER_KEYS } from './store/sender-keys.ts';

/** Every column sealed with the master key: the stores' and the key store's (sender private keys). */
export const ALL_SEALED_COLUMNS = [...SEALED_COLUMNS, ...SEALED_SENDER_KEYS];

/**
 * `sealpost master-key rotate` (docs/backup.md "Rotating the master key"): every sealed row re-sealed with
 * the current master key while the services run (core/reseal.ts), then one audit entry with the counts and
 * the new key's id — never content. Rows no configured key opens are in `failed` (table.column and key).
 */
export async function rotateMasterKey(
  deps: { db: Db; sealer: Sealer; clock: Clock },
  options: { actor: string; onProgress?: (p: ResealProgress) => void; batch?: number },
): Promise<ResealResult> {
  const result = await resealColumns({
    db: deps.db.kysely,
    sealer: deps.sealer,
    columns: ALL_SEALED_COLUMNS,
    ...(options.onProgress ? { onProgress: options.onProgress } : {}),
    ...(options.batch ? { batch: options.batch } : {}),
  });
  await deps.db.stores.audit.record(
    {
      actor: options.actor,
      action: 'master-key.rotate',
      subject: deps.sealer.keyId,
      detail: `resealed=${result.resealed} skipped=${result.skipped} failed=${result.failed.length}`,
    },
    deps.clock.now(),
  );
  return result;
}
