import type { Kysely } from 'kysely';
import { audit } from '../../core/audit.ts';
import type { Database } from '../../core/db/schema.ts';
import { newId, normaliseAddress } from '../../core/ids.ts';
import { generateKeyPair } from '../openpgp/index.ts';
import {
  KeyImportError,
  type KeyActor,
  type KeyStoreContext,
  type RecipientKeyStatus,
  type SenderKey,
} from './types.ts';
import type { AnySealedColumn } from '../../core/reseal.ts';

/**
 * Sender keys (table `sender_keys`): the practice's own key pairs, the private half sealed at rest with the
 * master key ('sender-private-key', the fingerprint as AAD). One active key per address.
 */

/**
 * Generate a new sender key pair for `address`, replacing (deactivating) any earlier one; the earlier one
 * is kept for decrypting replies (decryptionKeys). `action` names the audit entry ('sender-key.generated',
 * or 'sender-key.rotated' for the console's and the CLI's rotate).
 */
export async function generateSenderKey(
  ctx: KeyStoreContext,
  address: string,
  options: { name?: string; who?: KeyActor; action?: string } = {},
): Promise<{ fingerprint: string; publicKey: string }> {
  const addr = normaliseAddress(address);
  const now = ctx.deps.clock.now();
  const { name } = options;
  const pair = await generateKeyPair({ address: addr, ...(name ? { name } : {}), now });
  await storeSenderKey(
    ctx,
    {
      address: addr,
      fingerprint: pair.fingerprint,
      publicKey: pair.publicKey,
      privateKey: pair.privateKey,
      origin: 'generated',
    },
    options.who,
    options.action,
  );
  return { fingerprint: pair.fingerprint, publicKey: pair.publicKey };
}

/**
 * Store a sender key as the active one of its address (the earlier one is deactivated), audited. A key
 * once revoked never becomes a sender key again (an import of its private half is refused): it would sign
 * again while the WKD serves its revocation.
 */
export async function storeSenderKey(
  ctx: KeyStoreContext,
  key: { address: string; fingerprint: string; publicKey: string; privateKey: string; origin: string },
  who: KeyActor = { actor: 'cli' },
  action = `sender-key.${key.origin}`,
): Promise<void> {
  const { address, fingerprint, origin } = key;
  const now = ctx.deps.clock.now();
  const sealed = ctx.deps.sealer.seal('sender-private-key', Buffer.from(key.privateKey, 'utf8'), fingerprint);
  await ctx.deps.db.transaction().execute(async (tx) => {
    const revoked = await tx
      .selectFrom('sender_keys')
      .select('id')
      .where('fingerprint', '=', fingerprint)
      .where('revoked_at', 'is not', null)
      .executeTakeFirst();
    if (revoked) throw new KeyImportError(`key ${fingerprint} was revoked; it cannot be a sender key again`);
    await tx.updateTable('sender_keys').set({ active: 0 }).where('address', '=', address).execute();
    await tx
      .insertInto('sender_keys')
      .values({
        id: newId(),
        address,
        fingerprint,
        public_key: key.publicKey,
        sealed_private_key: sealed,
        origin,
        active: 1,
        created_at: now.getTime(),
      })
      .execute();
    await audit(tx, { ...who, action, subject: address, detail: fingerprint }, now);
  });
  ctx.deps.log.info('KEY_SENDER_STORED', { fingerprint, user: address });
}

/** The active signing key of a sender address, or undefined when it has none. */
export async function senderKey(ctx: KeyStoreContext, address: string): Promise<SenderKey | undefined> {
  const addr = normaliseAddress(address);
  const row = await ctx.deps.db
    .selectFrom('sender_keys')
    .select(['fingerprint', 'sealed_private_key'])
    .where('address', '=', addr)
    .where('active', '=', 1)
    .executeTakeFirst();
  if (!row) return undefined;
  const signer = await ctx.cache.signer(row.fingerprint, row.sealed_private_key, () =>
    ctx.deps.sealer.open('sender-private-key', row.sealed_private_key, row.fingerprint).toString('utf8'),
  );
  return { address: addr, signer };
}

/**
 * A local address's key is its sender key, nothing else (DESIGN.md invariant 7): an address with an active
 * sender key is encrypted to that key (source 'sender') or, when it is not usable, to nothing — never to a
 * recipient key that was pinned, registered, discovered or learned from mail for it.
 */
export async function ownKey(ctx: KeyStoreContext, addr: string): Promise<RecipientKeyStatus | undefined> {
  const row = await activeSenderPublic(ctx, addr);
  if (!row) {
    // Its key was revoked and none replaces it yet: still a local address, and it gets no other key.
    const revoked = await newestRevoked(ctx, addr);
    return (
      revoked && { state: 'unusable', problem: 'revoked', fingerprint: revoked.fingerprint, source: 'sender' }
    );
  }
  const { key, check } = await ctx.cache.checked(row.fingerprint, row.public_key, ctx.deps.clock.now());
  if (!check.usable)
    return { state: 'unusable', problem: check.problem, fingerprint: row.fingerprint, source: 'sender' };
  return {
    state: 'usable',
    key,
    fingerprint: row.fingerprint,
    source: 'sender',
    expires: check.facts.expires,
  };
}

/** The active sender key row (fingerprint and armored public key) of a normalised address. */
export async function activeSenderPublic(
  ctx: KeyStoreContext,
  addr: string,
): Promise<{ fingerprint: string; public_key: string } | undefined> {
  return ctx.deps.db
    .selectFrom('sender_keys')
    .select(['fingerprint', 'public_key'])
    .where('address', '=', addr)
    .where('active', '=', 1)
    .executeTakeFirst();
}

/** The newest revoked sender key of a normalised address (export hands it out while no key replaces it). */
export async function newestRevoked(
  ctx: KeyStoreContext,
  addr: string,
): Promise<{ fingerprint: string; public_key: string } | undefined> {
  return ctx.deps.db
    .selectFrom('sender_keys')
    .select(['fingerprint', 'public_key'])
    .where('address', '=', addr)
    .where('revoked_at', 'is not', null)
    .orderBy('revoked_at', 'desc')
    .executeTakeFirst();
}

/** Whether `address` has (or had) a sender key: such an address never gets a key learned from mail. */
export async function hasSenderKey(ctx: KeyStoreContext, address: string): Promise<boolean> {
  const row = await ctx.deps.db
    .selectFrom('sender_keys')
    .select('id')
    .where('address', '=', normaliseAddress(address))
    .executeTakeFirst();
  return !!row;
}

/** Whether any address of `domain` has (or had) a sender key: then the domain is a local one. */
export async function hasSenderKeyInDomain(ctx: KeyStoreContext, domain: string): Promise<boolean> {
  // Addresses are stored lower-case; a domain of a checked address holds no LIKE wildcard (% or _).
  if (/[%_\\]/.test(domain)) return false;
  const row = await ctx.deps.db
    .selectFrom('sender_keys')
    .select('id')
    .where('address', 'like', `%@${domain.toLowerCase()}`)
    .executeTakeFirst();
  return !!row;
}

/**
 * The published sender keys of the addresses at `domain` (lower case, already checked to hold no LIKE
 * wildcard by the caller), for WKD publishing: the active ones, and the revoked ones (with their
 * revocation, so that correspondents learn of it); a retired key (rotated away) is no longer published.
 * Active keys first. The suffix test after the query is exact.
 */
export async function activeSenderKeysInDomain(
  db: Kysely<Database>,
  domain: string,
): Promise<{ address: string; public_key: string }[]> {
  const rows = await db
    .selectFrom('sender_keys')
    .select(['address', 'public_key'])
    .where((eb) => eb.or([eb('active', '=', 1), eb('revoked_at', 'is not', null)]))
    .where('address', 'like', `%@${domain}`)
    .orderBy('active', 'desc')
    .orderBy('created_at', 'desc')
    .execute();
  return rows.filter((r) => r.address.endsWith(`@${domain}`));
}

/** A sender key as the pickup app shows it: to verify the signatures of the messages it holds. */
export interface PublishedSenderKey {
  address: string;
  fingerprint: string;
  publicKey: string;
  active: boolean;
}

/**
 * The sender keys a pickup contact's messages were signed with (`fingerprints`, active or not) and the
 * active keys of the `addresses` that wrote to them.
 */
export async function senderKeysFor(
  ctx: KeyStoreContext,
  input: { fingerprints: readonly string[]; addresses: readonly string[] },
): Promise<PublishedSenderKey[]> {
  if (input.fingerprints.length === 0 && input.addresses.length === 0) return [];
  const rows = await ctx.deps.db
    .selectFrom('sender_keys')
    .select(['address', 'fingerprint', 'public_key', 'active'])
    .where((eb) =>
      eb.or([
        eb('fingerprint', 'in', [...input.fingerprints]),
        eb.and([eb('address', 'in', [...input.addresses]), eb('active', '=', 1)]),
      ]),
    )
    .execute();
  return rows.map((r) => ({
    address: r.address,
    fingerprint: r.fingerprint,
    publicKey: r.public_key,
    active: Number(r.active) === 1,
  }));
}

/** Sender private keys (aad: the fingerprint): a master-key rotation re-seals them (core/reseal.ts). */
export const SEALED_SENDER_KEYS: readonly AnySealedColumn[] = [
  {
    table: 'sender_keys',
    column: 'sealed_private_key',
    key: 'id',
    purpose: 'sender-private-key',
    aadColumn: 'fingerprint',
  },
];
