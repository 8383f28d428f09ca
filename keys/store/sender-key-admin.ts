import { audit } from '../../core/audit.ts';
import { isAddress, normaliseAddress } from '../../core/ids.ts';
import { keyFacts, readAnyKey, revokedPublicKey, type SigningKey } from '../openpgp/index.ts';
import { type KeyActor, type KeyStoreContext } from './types.ts';

/**
 * The admin's sender-key actions beyond generate and import (docs/admin-console.md "Sender keys"): the
 * listing with each key's facts and state, export of one key by fingerprint, revocation, and the keys
 * inbound replies are decrypted with (every key an address ever had, not only the active one: a rotated
 * or revoked key still opens what was encrypted to it). The console and the CLI both call these.
 */

/** 'active': signs and is published; 'retired': rotated away, kept for replies; 'revoked': never signs. */
export type SenderKeyState = 'active' | 'retired' | 'revoked';

export interface SenderKeyRow {
  address: string;
  fingerprint: string;
  /** The primary key's algorithm with its size or curve, e.g. 'eddsaLegacy ed25519Legacy', 'rsaEncryptSign 4096'. */
  algorithm: string;
  origin: string;
  state: SenderKeyState;
  created: Date;
  expires: Date | null;
  revokedAt: Date | null;
}

export class SenderKeyError extends Error {
  override name = 'SenderKeyError';
  constructor(readonly reason: 'not-found' | 'already-revoked' | 'no-key') {
    super(
      reason === 'not-found'
        ? 'no such sender key'
        : reason === 'no-key'
          ? 'this address has no active sender key'
          : 'this sender key is already revoked',
    );
  }
}

const COLUMNS = [
  'address',
  'fingerprint',
  'public_key',
  'origin',
  'active',
  'created_at',
  'revoked_at',
] as const;

/** Every sender key, by address, the active one first, then newest first (a page of at most `limit`). */
export async function listSenderKeys(
  ctx: KeyStoreContext,
  filter: { q?: string; offset: number; limit: number },
): Promise<{ keys: SenderKeyRow[]; total: number }> {
  const q = (filter.q ?? '')
    .replace(/[\\%_]/g, '')
    .trim()
    .toLowerCase();
  let query = ctx.deps.db.selectFrom('sender_keys');
  if (q) {
    const hex = q.replace(/\s+/g, '').toUpperCase();
    query = query.where((eb) =>
      eb.or([eb('address', 'like', `%${q}%`), eb('fingerprint', 'like', `%${hex}%`)]),
    );
  }
  const count = await query.select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirst();
  const rows = await query
    .select([...COLUMNS])
    .orderBy('address')
    .orderBy('active', 'desc')
    .orderBy('created_at', 'desc')
    .offset(filter.offset)
    .limit(filter.limit)
    .execute();
  const keys: SenderKeyRow[] = [];
  for (const r of rows) {
    const facts = await keyFacts(await readAnyKey(r.public_key));
    const size = facts.curve ?? (facts.bits === null ? '' : String(facts.bits));
    keys.push({
      address: r.address,
      fingerprint: r.fingerprint,
      algorithm: size ? `${facts.algorithm} ${size}` : facts.algorithm,
      origin: r.origin,
      state: r.revoked_at !== null ? 'revoked' : Number(r.active) === 1 ? 'active' : 'retired',
      created: facts.created,
      expires: facts.expires,
      revokedAt: r.revoked_at === null ? null : new Date(Number(r.revoked_at)),
    });
  }
  return { keys, total: Number(count?.n ?? 0) };
}

/** The armored public key of one sender key (with its revocation when revoked), or undefined. */
export async function senderPublicKey(
  ctx: KeyStoreContext,
  fingerprint: string,
): Promise<string | undefined> {
  const row = await ctx.deps.db
    .selectFrom('sender_keys')
    .select('public_key')
    .where('fingerprint', '=', fingerprint.replace(/\s+/g, '').toUpperCase())
    .orderBy('created_at', 'desc')
    .executeTakeFirst();
  return row?.public_key;
}

async function openSigner(
  ctx: KeyStoreContext,
  row: { fingerprint: string; sealed_private_key: Uint8Array },
): Promise<SigningKey> {
  return ctx.cache.signer(row.fingerprint, row.sealed_private_key, () =>
    ctx.deps.sealer.open('sender-private-key', row.sealed_private_key, row.fingerprint).toString('utf8'),
  );
}

/**
 * Revoke a sender key: `target` is an address (its active key) or a fingerprint; either way the key is
 * revoked for every address it serves. A revocation signature is made with the private key; the key is no
 * longer active, so it never signs again — an address without another key then fails closed at RCPT (GW_NO_SENDER_KEY, 451) until
 * the admin generates or imports one. Its public key with the revocation stays published (export, WKD);
 * the private key stays, so replies already encrypted to it still open. Audited once.
 */
export async function revokeSenderKey(
  ctx: KeyStoreContext,
  target: string,
  who: KeyActor = { actor: 'cli' },
): Promise<{ fingerprint: string; addresses: string[] }> {
  const byAddress = isAddress(normaliseAddress(target));
  let query = ctx.deps.db
    .selectFrom('sender_keys')
    .select(['id', 'address', 'fingerprint', 'sealed_private_key', 'revoked_at']);
  query = byAddress
    ? query.where('address', '=', normaliseAddress(target)).where('active', '=', 1)
    : query.where('fingerprint', '=', target.replace(/\s+/g, '').toUpperCase());
  const rows = await query.execute();
  const first = rows[0];
  if (!first) throw new SenderKeyError(byAddress ? 'no-key' : 'not-found');
  if (rows.every((r) => r.revoked_at !== null)) throw new SenderKeyError('already-revoked');
  const now = ctx.deps.clock.now();
  const revoked = await revokedPublicKey(await openSigner(ctx, first), now);
  // One key may serve several addresses (an imported key with several User IDs): it is revoked for all.
  const served = await ctx.deps.db
    .selectFrom('sender_keys')
    .select('address')
    .where('fingerprint', '=', first.fingerprint)
    .where('revoked_at', 'is', null)
    .execute();
  const addresses = [...new Set(served.map((r) => r.address))].sort();
  await ctx.deps.db.transaction().execute(async (tx) => {
    await tx
      .updateTable('sender_keys')
      .set({ active: 0, revoked_at: now.getTime(), public_key: revoked })
      .where('fingerprint', '=', first.fingerprint)
      .where('revoked_at', 'is', null)
      .execute();
    await audit(
      tx,
      { ...who, action: 'sender-key.revoked', subject: addresses.join(', '), detail: first.fingerprint },
      now,
    );
  });
  ctx.deps.log.info('KEY_SENDER_REVOKED', { fingerprint: first.fingerprint });
  return { fingerprint: first.fingerprint, addresses };
}

/**
 * The keys replies to `address` are decrypted with: every sender key it has had (active first, then the
 * newest), so that a correspondent who still encrypts to a rotated or revoked key is read.
 */
export async function decryptionKeys(ctx: KeyStoreContext, address: string): Promise<SigningKey[]> {
  const rows = await ctx.deps.db
    .selectFrom('sender_keys')
    .select(['fingerprint', 'sealed_private_key'])
    .where('address', '=', normaliseAddress(address))
    .orderBy('active', 'desc')
    .orderBy('created_at', 'desc')
    .execute();
  const keys: SigningKey[] = [];
  for (const row of rows) keys.push(await openSigner(ctx, row));
  return keys;
}
