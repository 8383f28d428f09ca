import { audit } from '../../core/audit.ts';
import { normaliseAddress } from '../../core/ids.ts';
import { ADMIN_DROPPED, type KeyActor, type KeyStoreContext } from './types.ts';

/**
 * The admin's decisions on one recipient key (docs/admin-console.md "Recipient keys"): pin a key that was
 * discovered or registered at pickup (it becomes an admin-pinned key, asked first and never replaced or held
 * against by discovery), or drop a key (pinned, registered or discovered) so that it is no longer used.
 * A dropped key is not taken again when discovery finds it (discovered.ts); only an import brings it back. Both audited once; the console and the CLI (`sealpost key pin|drop`) call these.
 */
export class RecipientKeyActionError extends Error {
  override name = 'RecipientKeyActionError';
  constructor(readonly reason: 'not-found' | 'already-pinned') {
    super(reason === 'not-found' ? 'no such key in use for this address' : 'this key is already pinned');
  }
}

async function activeRow(ctx: KeyStoreContext, address: string, fingerprint: string) {
  const row = await ctx.deps.db
    .selectFrom('recipient_keys')
    .select(['id', 'source'])
    .where('address', '=', normaliseAddress(address))
    .where('fingerprint', '=', fingerprint.replace(/\s+/g, '').toUpperCase())
    .where('status', '=', 'active')
    .executeTakeFirst();
  if (!row) throw new RecipientKeyActionError('not-found');
  return row;
}

export async function pinRecipientKey(
  ctx: KeyStoreContext,
  input: { address: string; fingerprint: string },
  who: KeyActor = { actor: 'cli' },
): Promise<void> {
  const row = await activeRow(ctx, input.address, input.fingerprint);
  if (row.source === 'admin') throw new RecipientKeyActionError('already-pinned');
  const now = ctx.deps.clock.now();
  await ctx.deps.db.transaction().execute(async (tx) => {
    await tx.updateTable('recipient_keys').set({ source: 'admin' }).where('id', '=', row.id).execute();
    await audit(
      tx,
      {
        ...who,
        action: 'recipient-key.pin',
        subject: normaliseAddress(input.address),
        detail: `${input.fingerprint.toUpperCase()} (was ${row.source})`,
      },
      now,
    );
  });
}

export async function dropRecipientKey(
  ctx: KeyStoreContext,
  input: { address: string; fingerprint: string },
  who: KeyActor = { actor: 'cli' },
): Promise<void> {
  const row = await activeRow(ctx, input.address, input.fingerprint);
  const now = ctx.deps.clock.now();
  await ctx.deps.db.transaction().execute(async (tx) => {
    await tx
      .updateTable('recipient_keys')
      .set({ status: 'dropped', problem: ADMIN_DROPPED, last_checked_at: now.getTime() })
      .where('id', '=', row.id)
      .execute();
    await audit(
      tx,
      {
        ...who,
        action: 'recipient-key.drop',
        subject: normaliseAddress(input.address),
        detail: `${input.fingerprint.toUpperCase()} (${row.source})`,
      },
      now,
    );
  });
}
