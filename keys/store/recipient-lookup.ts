import type { Selectable } from 'kysely';
import type { Database } from '../../core/db/schema.ts';
import { normaliseAddress } from '../../core/ids.ts';
import { checkParsedKey, parseEncryptionKey } from '../openpgp/index.ts';
import { heldChangeOf } from './key-changes.ts';
import { activeSenderPublic, newestRevoked, ownKey } from './sender-keys.ts';
import {
  AUTHORITATIVE,
  rank,
  type KeyListing,
  type KeyStoreContext,
  type RecipientKeyStatus,
} from './types.ts';

/**
 * Recipient lookup (table `recipient_keys`, read side): the key to encrypt to an address, the key to
 * export for it, and the listing of every key the store holds.
 */

const LOOKUP_COLUMNS = [
  'id',
  'fingerprint',
  'public_key',
  'source',
  'source_url',
  'created_at',
  'last_checked_at',
  'status',
] as const;
type LookupRow = Pick<Selectable<Database['recipient_keys']>, (typeof LOOKUP_COLUMNS)[number]>;

/**
 * The key to encrypt to `address` at the clock's now, in the lookup order of DESIGN.md: a local address's
 * sender key and nothing else (ownKey); otherwise admin-pinned, then registered through pickup, then
 * discovered (WKD, VKS) and Autocrypt, newest first within a source. A changed key held for the admin
 * outranks every discovered key (the old one is not used meanwhile, it may be the reason for the change).
 * When keys exist but none is usable, the reason of the first is returned.
 */
export async function recipientKey(ctx: KeyStoreContext, address: string): Promise<RecipientKeyStatus> {
  const own = await ownKey(ctx, normaliseAddress(address));
  if (own) return own;
  const rows: LookupRow[] = await ctx.deps.db
    .selectFrom('recipient_keys')
    .select([...LOOKUP_COLUMNS])
    .where('address', '=', normaliseAddress(address))
    .where('status', 'in', ['active', 'held'])
    .execute();
  if (rows.length === 0) return { state: 'none' };
  rows.sort((a, b) => rank(a.source) - rank(b.source) || Number(b.created_at) - Number(a.created_at));
  const held = rows.find((r) => r.status === 'held');
  const found = await firstUsable(ctx, rows, held);
  if (found?.state === 'usable') return found;
  if (held) {
    const change = await heldChangeOf(ctx, held.id);
    return {
      state: 'held',
      fingerprint: held.fingerprint,
      previous: change?.old_fingerprint ?? '',
      source: held.source,
      changeId: change?.id ?? '',
    };
  }
  return found ?? { state: 'none' };
}

/**
 * The first usable active key in lookup order, or the problem of the first unusable one. With a held
 * change, only authoritative keys (admin, pickup) are asked.
 */
async function firstUsable(
  ctx: KeyStoreContext,
  rows: readonly LookupRow[],
  held: LookupRow | undefined,
): Promise<RecipientKeyStatus | undefined> {
  const now = ctx.deps.clock.now();
  let firstProblem: RecipientKeyStatus | undefined;
  for (const row of rows) {
    if (row.status !== 'active') continue;
    if (held && !AUTHORITATIVE.has(row.source)) break;
    const { key, check } = await ctx.cache.checked(row.fingerprint, row.public_key, now);
    if (check.usable) {
      return {
        state: 'usable',
        key,
        fingerprint: row.fingerprint,
        source: row.source,
        expires: check.facts.expires,
        sourceUrl: row.source_url,
        lastCheckedAt: new Date(Number(row.last_checked_at)),
      };
    }
    firstProblem ??= {
      state: 'unusable',
      problem: check.problem,
      fingerprint: row.fingerprint,
      source: row.source,
    };
  }
  return firstProblem;
}

/**
 * The armored public key to hand out for `address`: its active sender key, else its newest revoked sender
 * key (with the revocation, while no key replaces it), else its newest active recipient key.
 */
export async function exportPublic(ctx: KeyStoreContext, address: string): Promise<string | undefined> {
  const addr = normaliseAddress(address);
  const sender = (await activeSenderPublic(ctx, addr)) ?? (await newestRevoked(ctx, addr));
  if (sender) return sender.public_key;
  const recipient = await ctx.deps.db
    .selectFrom('recipient_keys')
    .select('public_key')
    .where('address', '=', addr)
    .where('status', '=', 'active')
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return recipient?.public_key;
}

/**
 * Every sender key (state 'active', 'retired' — rotated away, kept for replies — or 'revoked') and every
 * recipient key with its state at the clock's now.
 */
export async function listKeys(ctx: KeyStoreContext): Promise<KeyListing[]> {
  const now = ctx.deps.clock.now();
  const senders = await ctx.deps.db
    .selectFrom('sender_keys')
    .select(['address', 'fingerprint', 'origin', 'active', 'revoked_at'])
    .orderBy('address')
    .orderBy('active', 'desc')
    .orderBy('created_at', 'desc')
    .execute();
  const recipients = await ctx.deps.db
    .selectFrom('recipient_keys')
    .select(['address', 'fingerprint', 'source', 'public_key', 'status'])
    .orderBy('address')
    .execute();
  const out: KeyListing[] = senders.map((s) => ({
    kind: 'sender',
    address: s.address,
    fingerprint: s.fingerprint,
    source: s.origin,
    status: s.revoked_at !== null ? 'revoked' : Number(s.active) === 1 ? 'active' : 'retired',
  }));
  for (const r of recipients) {
    const parsed = await parseEncryptionKey(r.public_key);
    const check = await checkParsedKey(parsed.key, now);
    out.push({
      kind: 'recipient',
      address: r.address,
      fingerprint: r.fingerprint,
      source: r.source,
      // 'usable' or the problem for a key in use; 'held', 'rejected', 'replaced', 'dropped' otherwise.
      status: r.status !== 'active' ? r.status : check.usable ? 'usable' : check.problem,
    });
  }
  return out;
}
