import type { Kysely } from 'kysely';
import type { Database } from '../../core/db/schema.ts';

/**
 * GDPR erasure of a pickup contact (keys/contact-actions.ts eraseContact): every recipient key held for the
 * address (the key she registered at pickup, any discovered or pinned one) and its key changes. `db` is the
 * caller's transaction.
 */
export async function eraseKeysOf(db: Kysely<Database>, address: string): Promise<number> {
  const changes = await db.deleteFrom('key_changes').where('address', '=', address).executeTakeFirst();
  const keys = await db.deleteFrom('recipient_keys').where('address', '=', address).executeTakeFirst();
  return Number(keys.numDeletedRows) + Number(changes.numDeletedRows);
}
