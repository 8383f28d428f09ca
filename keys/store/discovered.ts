import type { Transaction } from 'kysely';
import { audit } from '../../core/audit.ts';
import type { Database } from '../../core/db/schema.ts';
import { newId, normaliseAddress } from '../../core/ids.ts';
import { armorPublic, checkParsedKey, mergeKeys, parseEncryptionKey, readAnyKey } from '../openpgp/index.ts';
import { fileKeyChange } from './key-changes.ts';
import { hasSenderKey } from './sender-keys.ts';
import {
  ADMIN_DROPPED,
  AUTHORITATIVE,
  DISCOVERED_SOURCES,
  KeyImportError,
  type DiscoveredSource,
  type KeyChangePolicy,
  type KeyStoreContext,
  type RecordOutcome,
} from './types.ts';

/**
 * The discovered-key lifecycle (table `recipient_keys`, sources WKD, VKS and Autocrypt): a fetched key is
 * recorded (stored, refreshed, or filed as a key change), merged with a refused copy, refreshed daily and
 * dropped once unusable.
 */

export interface FetchedKey {
  address: string;
  key: Uint8Array | string;
  source: DiscoveredSource;
  sourceUrl: string | null;
  policy?: KeyChangePolicy;
  /**
   * The key the address is reached by outside this table: its pickup contact's key. A key recorded for a
   * pickup contact is then a key change (the pickup path is never replaced silently).
   */
  contactFingerprint?: string;
}

export type RecordResult = { outcome: RecordOutcome; fingerprint: string; changeId?: string };

/** One fetched key inside the recording transaction. */
interface Recording {
  tx: Transaction<Database>;
  input: FetchedKey;
  addr: string;
  fingerprint: string;
  armored: string;
  policy: KeyChangePolicy;
  now: Date;
  actor: string;
}

/**
 * Record a key fetched for `address` (discovery, Autocrypt), already narrowed to the address and checked
 * usable by the caller. A new address gets it; the same key refreshes its material; a different key for
 * an address that has (or had) a key is a key change, handled by the policy: 'hold' stores it held and
 * files a change for the admin, 'accept-and-log' replaces the discovered keys and files the change as
 * accepted. Admin-pinned and pickup-registered keys are never replaced. Every change is audited with both
 * fingerprints.
 */
/** The key-change policy in force: the deps' value or function (the admin's setting), default 'hold'. */
export async function keyChangePolicy(ctx: KeyStoreContext): Promise<KeyChangePolicy> {
  const policy = ctx.deps.keyChange;
  return (typeof policy === 'function' ? await policy() : policy) ?? 'hold';
}

export async function recordFetched(ctx: KeyStoreContext, input: FetchedKey): Promise<RecordResult> {
  const addr = normaliseAddress(input.address);
  const parsed = await readAnyKey(input.key);
  if (parsed.isPrivate()) throw new KeyImportError('a fetched key must be a public key');
  const fingerprint = parsed.getFingerprint().toUpperCase();
  const armored = armorPublic(parsed);
  const policy = input.policy ?? (await keyChangePolicy(ctx));
  const now = ctx.deps.clock.now();
  const actor = input.source === 'autocrypt' ? 'gateway' : 'discovery';
  const result = await ctx.deps.db
    .transaction()
    .execute((tx) => recordIn({ tx, input, addr, fingerprint, armored, policy, now, actor }));
  const log = { rcpt: addr, fingerprint, source: input.source };
  if (result.outcome === 'held' && result.changeId) ctx.deps.log.warn('KD_KEY_CHANGE_HELD', log);
  if (result.outcome === 'replaced') ctx.deps.log.warn('KD_KEY_CHANGE_ACCEPTED', log);
  if (result.outcome === 'stored') ctx.deps.log.info('KD_KEY_STORED', log);
  return { ...result, fingerprint };
}

async function recordIn(r: Recording): Promise<{ outcome: RecordOutcome; changeId?: string }> {
  const { tx, input, addr, fingerprint } = r;
  const rows = await tx
    .selectFrom('recipient_keys')
    .select(['id', 'fingerprint', 'source', 'source_url', 'status', 'problem', 'created_at'])
    .where('address', '=', addr)
    .orderBy('created_at', 'desc')
    .execute();
  const same = rows.find((row) => row.fingerprint === fingerprint && !AUTHORITATIVE.has(row.source));
  if (same) {
    if (same.status === 'rejected') return { outcome: 'rejected' };
    // A key the refresh dropped (expired, revoked) comes back when its source serves it usable again; one
    // the admin dropped stays dropped (recipient-admin.ts) until she imports or pins it again.
    if (same.status === 'dropped' && same.problem === ADMIN_DROPPED) return { outcome: 'known' };
    const revived = same.status === 'dropped';
    await tx
      .updateTable('recipient_keys')
      .set({
        public_key: r.armored,
        last_checked_at: r.now.getTime(),
        // The same key seen through another source (an Autocrypt header) keeps where it was fetched.
        source_url: same.source === input.source ? input.sourceUrl : same.source_url,
        ...(revived ? { status: 'active' as const, problem: null } : {}),
      })
      .where('id', '=', same.id)
      .execute();
    return { outcome: same.status === 'held' ? 'held' : 'known' };
  }
  // The admin pinned (or the contact registered) this very key: nothing to record.
  if (rows.some((row) => row.fingerprint === fingerprint)) return { outcome: 'known' };
  const prior =
    rows.find((row) => row.status !== 'rejected') ??
    (input.contactFingerprint ? { fingerprint: input.contactFingerprint } : undefined);
  return prior ? recordChange(r, prior.fingerprint) : recordNew(r);
}

async function insertKey(r: Recording, id: string, status: 'active' | 'held'): Promise<void> {
  const ts = r.now.getTime();
  await r.tx
    .insertInto('recipient_keys')
    .values({
      id,
      address: r.addr,
      fingerprint: r.fingerprint,
      public_key: r.armored,
      source: r.input.source,
      source_url: r.input.sourceUrl,
      first_seen_at: ts,
      last_checked_at: ts,
      created_at: ts,
      status,
      problem: null,
    })
    .execute();
}

/** The address had no key: the fetched one is used from now on. */
async function recordNew(r: Recording): Promise<{ outcome: RecordOutcome }> {
  await insertKey(r, newId(), 'active');
  await audit(
    r.tx,
    { actor: r.actor, action: `recipient-key.${r.input.source}`, subject: r.addr, detail: r.fingerprint },
    r.now,
  );
  return { outcome: 'stored' };
}

/** A different key for an address with a key: held for the admin, or taken and logged. */
async function recordChange(
  r: Recording,
  priorFingerprint: string,
): Promise<{ outcome: RecordOutcome; changeId: string }> {
  const id = newId();
  const changeId = newId();
  const hold = r.policy === 'hold';
  await insertKey(r, id, hold ? 'held' : 'active');
  if (!hold) {
    await r.tx
      .updateTable('recipient_keys')
      .set({ status: 'replaced' })
      .where('address', '=', r.addr)
      .where('id', '!=', id)
      .where('status', 'in', ['active', 'held'])
      .where('source', 'in', [...DISCOVERED_SOURCES])
      .execute();
  }
  await fileKeyChange(r.tx, {
    id: changeId,
    address: r.addr,
    oldFingerprint: priorFingerprint,
    newFingerprint: r.fingerprint,
    newKeyId: id,
    source: r.input.source,
    sourceUrl: r.input.sourceUrl,
    hold,
    ts: r.now.getTime(),
  });
  await audit(
    r.tx,
    {
      actor: r.actor,
      action: hold ? 'recipient-key.change-held' : 'recipient-key.change-accepted',
      subject: r.addr,
      detail: `${priorFingerprint} -> ${r.fingerprint}`,
    },
    r.now,
  );
  return { outcome: hold ? 'held' : 'replaced', changeId };
}

/** What `recordFetched` would make of this fingerprint, read-only: new address, same key, change, refused. */
export async function classifyFetched(
  ctx: KeyStoreContext,
  address: string,
  fingerprint: string,
): Promise<'new' | 'same' | 'change' | 'rejected'> {
  const rows = await ctx.deps.db
    .selectFrom('recipient_keys')
    .select(['fingerprint', 'status'])
    .where('address', '=', normaliseAddress(address))
    .execute();
  const same = rows.filter((r) => r.fingerprint === fingerprint);
  if (same.some((r) => r.status === 'rejected')) return 'rejected';
  if (same.length > 0) return 'same';
  return rows.some((r) => r.status !== 'rejected') ? 'change' : 'new';
}

/**
 * A key's source now serves a copy we refused (revoked, expired): when we hold the same key, merge that
 * copy's signatures into ours (openpgp's update keeps every valid self- and revocation signature), so
 * that `dropUnusable` sees what the source says. A different key is ignored.
 */
export async function mergeRefused(
  ctx: KeyStoreContext,
  address: string,
  fingerprint: string,
  binary: Uint8Array,
): Promise<boolean> {
  const row = await ctx.deps.db
    .selectFrom('recipient_keys')
    .select(['id', 'public_key'])
    .where('address', '=', normaliseAddress(address))
    .where('fingerprint', '=', fingerprint)
    .where('status', '=', 'active')
    .where('source', 'in', [...DISCOVERED_SOURCES])
    .executeTakeFirst();
  if (!row) return false;
  const merged = await mergeKeys(row.public_key, binary);
  if (!merged) return false;
  await ctx.deps.db
    .updateTable('recipient_keys')
    .set({ public_key: merged, last_checked_at: ctx.deps.clock.now().getTime() })
    .where('id', '=', row.id)
    .execute();
  return true;
}

/**
 * Addresses with an active (or held) discovered or Autocrypt key that the refresh has not asked about
 * since `dueBefore` (epoch ms; default: all of them).
 */
export async function discoveredAddresses(
  ctx: KeyStoreContext,
  dueBefore = Number.MAX_SAFE_INTEGER,
): Promise<string[]> {
  const rows = await ctx.deps.db
    .selectFrom('recipient_keys')
    .select('address')
    .distinct()
    .where('status', 'in', ['active', 'held'])
    .where('source', 'in', [...DISCOVERED_SOURCES])
    .where((eb) => eb(eb.fn.coalesce('refreshed_at', 'last_checked_at'), '<', dueBefore))
    .orderBy('address')
    .execute();
  return rows.map((r) => r.address);
}

/** The refresh asked the sources about `address` now (whatever they answered). */
export async function markRefreshed(ctx: KeyStoreContext, address: string): Promise<void> {
  await ctx.deps.db
    .updateTable('recipient_keys')
    .set({ refreshed_at: ctx.deps.clock.now().getTime() })
    .where('address', '=', normaliseAddress(address))
    .where('source', 'in', [...DISCOVERED_SOURCES])
    .execute();
}

/**
 * Check every active discovered key at the clock's now; an unusable one (expired, revoked, …) is dropped
 * with its problem, so that it is neither used nor counted as the address's key. Returns how many.
 */
export async function dropUnusable(ctx: KeyStoreContext, address: string): Promise<number> {
  const rows = await ctx.deps.db
    .selectFrom('recipient_keys')
    .select(['id', 'fingerprint', 'public_key'])
    .where('address', '=', normaliseAddress(address))
    .where('status', '=', 'active')
    .where('source', 'in', [...DISCOVERED_SOURCES])
    .execute();
  const now = ctx.deps.clock.now();
  let dropped = 0;
  for (const row of rows) {
    const check = await checkParsedKey((await parseEncryptionKey(row.public_key)).key, now);
    if (check.usable) continue;
    await ctx.deps.db
      .updateTable('recipient_keys')
      .set({ status: 'dropped', problem: check.problem, last_checked_at: now.getTime() })
      .where('id', '=', row.id)
      .execute();
    ctx.deps.log.info('KD_KEY_DROPPED', {
      rcpt: address,
      fingerprint: row.fingerprint,
      problem: check.problem,
    });
    dropped++;
  }
  return dropped;
}

/**
 * Record a key learned from an Autocrypt header of inbound mail. The caller (gateway/inbound/autocrypt.ts)
 * has validated it, narrowed it to the address, and proven it: DKIM passed aligned with the From domain
 * and the message is signed by this key. An address without any key gets it (source 'autocrypt', last in
 * the lookup order); the same key is only marked as seen. A different key — for an address with a known
 * key or a pickup contact (`contactFingerprint`) — is always held for the admin, whatever
 * `discovery.keyChange` says (DESIGN.md invariant 7: a key learned from mail never silently replaces a
 * pickup contact or a known key). An address with a sender key never gets one ('local').
 */
export async function recordAutocrypt(
  ctx: KeyStoreContext,
  address: string,
  keyBytes: Uint8Array,
  options: { contactFingerprint?: string } = {},
): Promise<'stored' | 'known' | 'changed' | 'local'> {
  const addr = normaliseAddress(address);
  if (await hasSenderKey(ctx, addr)) {
    ctx.deps.log.warn('IN_AUTOCRYPT_LOCAL', { from: addr });
    return 'local';
  }
  const { outcome, fingerprint } = await recordFetched(ctx, {
    address: addr,
    key: keyBytes,
    source: 'autocrypt',
    sourceUrl: null,
    policy: 'hold',
    ...(options.contactFingerprint ? { contactFingerprint: options.contactFingerprint } : {}),
  });
  if (outcome === 'held' || outcome === 'replaced' || outcome === 'rejected') {
    ctx.deps.log.warn('IN_AUTOCRYPT_KEY_CHANGED', { from: addr, fingerprint, outcome });
    return 'changed';
  }
  if (outcome === 'stored') ctx.deps.log.info('IN_AUTOCRYPT_STORED', { from: addr, fingerprint });
  return outcome;
}
