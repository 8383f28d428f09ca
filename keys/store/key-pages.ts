import { checkParsedKey, parseEncryptionKey } from '../openpgp/index.ts';
import type { KeyStoreContext } from './types.ts';

/**
 * The admin console's key lists (docs/admin-console.md): one page of recipient keys — pinned ('admin'),
 * pickup-registered ('pickup') and discovered (WKD, VKS, Autocrypt) — searched by address or fingerprint.
 */
export interface RecipientKeyRow {
  address: string;
  fingerprint: string;
  source: string;
  sourceUrl: string | null;
  firstSeenAt: Date;
  lastCheckedAt: Date;
  /** 'active', 'held', 'rejected', 'replaced' or 'dropped'. */
  status: string;
  /** Why the key cannot be used (expired, revoked, …), or null for a usable key. */
  problem: string | null;
}

export interface RecipientKeyPage {
  keys: RecipientKeyRow[];
  total: number;
}

export async function recipientKeyPage(
  ctx: KeyStoreContext,
  filter: { q?: string; offset: number; limit: number },
): Promise<RecipientKeyPage> {
  // LIKE without wildcards from the search text (SQLite and PostgreSQL escape differently: drop them).
  const q = (filter.q ?? '')
    .replace(/[\\%_]/g, '')
    .trim()
    .toLowerCase();
  const hex = q.replace(/\s+/g, '').toUpperCase();
  let query = ctx.deps.db.selectFrom('recipient_keys');
  if (q) {
    query = query.where((eb) =>
      eb.or([eb('address', 'like', `%${q}%`), eb('fingerprint', 'like', `%${hex}%`)]),
    );
  }
  const count = await query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
  const rows = await query
    .selectAll()
    .orderBy('address')
    .orderBy('created_at', 'desc')
    .offset(filter.offset)
    .limit(filter.limit)
    .execute();
  const now = ctx.deps.clock.now();
  const keys: RecipientKeyRow[] = [];
  for (const r of rows) {
    let problem = r.problem;
    if (r.status === 'active') {
      const check = await checkParsedKey((await parseEncryptionKey(r.public_key)).key, now);
      problem = check.usable ? null : check.problem;
    }
    keys.push({
      address: r.address,
      fingerprint: r.fingerprint,
      source: r.source,
      sourceUrl: r.source_url,
      firstSeenAt: new Date(Number(r.first_seen_at)),
      lastCheckedAt: new Date(Number(r.refreshed_at ?? r.last_checked_at)),
      status: r.status,
      problem,
    });
  }
  return { keys, total: Number(count?.n ?? 0) };
}
