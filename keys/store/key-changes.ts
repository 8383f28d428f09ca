import type { Selectable, Transaction } from 'kysely';
import { audit } from '../../core/audit.ts';
import type { Database } from '../../core/db/schema.ts';
import { normaliseAddress } from '../../core/ids.ts';
import { DISCOVERED_SOURCES, KeyChangeError, type KeyChange, type KeyStoreContext } from './types.ts';

/**
 * Key changes (table `key_changes`): a known address presenting a different key, held for the admin or
 * taken and logged (config `discovery.keyChange`), and the admin's decisions on the held ones.
 */

/** File a change from `oldFingerprint` to the key row `newKeyId` inside the caller's transaction. */
export async function fileKeyChange(
  tx: Transaction<Database>,
  change: {
    id: string;
    address: string;
    oldFingerprint: string;
    newFingerprint: string;
    newKeyId: string;
    source: string;
    sourceUrl: string | null;
    hold: boolean;
    ts: number;
  },
): Promise<void> {
  const { hold, ts } = change;
  await tx
    .insertInto('key_changes')
    .values({
      id: change.id,
      address: change.address,
      old_fingerprint: change.oldFingerprint,
      new_fingerprint: change.newFingerprint,
      new_key_id: change.newKeyId,
      source: change.source,
      source_url: change.sourceUrl,
      status: hold ? 'held' : 'accepted',
      created_at: ts,
      decided_at: hold ? null : ts,
      decided_by: hold ? null : 'policy',
    })
    .execute();
}

/** The held change that filed the key row `keyId`, if any. */
export async function heldChangeOf(
  ctx: KeyStoreContext,
  keyId: string,
): Promise<{ id: string; old_fingerprint: string } | undefined> {
  return ctx.deps.db
    .selectFrom('key_changes')
    .select(['id', 'old_fingerprint'])
    .where('new_key_id', '=', keyId)
    .where('status', '=', 'held')
    .executeTakeFirst();
}

/** Key changes, newest first: those waiting for the admin, or all of them. */
export async function listKeyChanges(
  ctx: KeyStoreContext,
  filter: { status?: 'held' | 'all'; address?: string } = {},
): Promise<KeyChange[]> {
  let query = ctx.deps.db.selectFrom('key_changes').selectAll().orderBy('created_at', 'desc');
  if ((filter.status ?? 'held') === 'held') query = query.where('status', '=', 'held');
  if (filter.address) query = query.where('address', '=', normaliseAddress(filter.address));
  const rows = await query.execute();
  return rows.map(toKeyChange);
}

/**
 * The admin's decision on a held change. Approve: the new key becomes active and the discovered keys it
 * replaces are retired. Reject: the new key is never used (the old one stays, if still usable); the same
 * key found again later stays rejected. Audited with the actor.
 */
export async function decideKeyChange(
  ctx: KeyStoreContext,
  id: string,
  decision: 'approve' | 'reject',
  actor: string,
  ip?: string,
): Promise<KeyChange> {
  const now = ctx.deps.clock.now();
  const ts = now.getTime();
  const row = await ctx.deps.db.transaction().execute(async (tx) => {
    const change = await tx.selectFrom('key_changes').selectAll().where('id', '=', id).executeTakeFirst();
    if (!change) throw new KeyChangeError('not-found');
    if (change.status !== 'held') throw new KeyChangeError('not-held');
    if (decision === 'approve') {
      await tx
        .updateTable('recipient_keys')
        .set({ status: 'replaced' })
        .where('address', '=', change.address)
        .where('id', '!=', change.new_key_id)
        .where('status', '=', 'active')
        .where('source', 'in', [...DISCOVERED_SOURCES])
        .execute();
    }
    await tx
      .updateTable('recipient_keys')
      .set({ status: decision === 'approve' ? 'active' : 'rejected' })
      .where('id', '=', change.new_key_id)
      .execute();
    const status = decision === 'approve' ? ('approved' as const) : ('rejected' as const);
    await tx
      .updateTable('key_changes')
      .set({ status, decided_at: ts, decided_by: actor })
      .where('id', '=', id)
      .execute();
    await audit(
      tx,
      {
        actor,
        ...(ip ? { ip } : {}),
        action: `recipient-key.change-${status}`,
        subject: change.address,
        detail: `${change.old_fingerprint} -> ${change.new_fingerprint}`,
      },
      now,
    );
    return { ...change, status, decided_at: ts, decided_by: actor };
  });
  ctx.deps.log.info('KD_KEY_CHANGE_DECIDED', {
    rcpt: row.address,
    decision,
    fingerprint: row.new_fingerprint,
  });
  return toKeyChange(row);
}

function toKeyChange(row: Selectable<Database['key_changes']>): KeyChange {
  return {
    id: row.id,
    address: row.address,
    oldFingerprint: row.old_fingerprint,
    newFingerprint: row.new_fingerprint,
    source: row.source,
    sourceUrl: row.source_url,
    status: row.status,
    createdAt: new Date(Number(row.created_at)),
    decidedAt: row.decided_at === null ? null : new Date(Number(row.decided_at)),
    decidedBy: row.decided_by,
  };
}
