import type { Kysely, Selectable } from 'kysely';
import { audit } from '../core/audit.ts';
import type { Clock } from '../core/clock.ts';
import type { Database } from '../core/db/schema.ts';
import { newId, normaliseAddress } from '../core/ids.ts';
import type { Log } from '../core/log.ts';
import type { Sealer } from '../core/seal.ts';
import {
  armorPublic,
  checkParsedKey,
  generateKeyPair,
  keyFacts,
  mergeKeys,
  narrowKeyToAddress,
  parseEncryptionKey,
  parseSigningKey,
  readAllKeys,
  readAnyKey,
  type EncryptionKey,
  type KeyCheck,
  type KeyFacts,
  type KeyProblem,
  type SigningKey,
} from './openpgp/index.ts';

/**
 * Sender keys (private, sealed at rest with the master key) and recipient keys (public, admin-imported
 * now; discovered ones later). Parsed keys are cached by fingerprint: parsing costs more than signing.
 */
export type RecipientKeyStatus =
  | {
      state: 'usable';
      key: EncryptionKey;
      fingerprint: string;
      source: string;
      expires: Date | null;
      /** Where a discovered key was fetched from, and when it was last confirmed there. */
      sourceUrl?: string | null;
      lastCheckedAt?: Date;
    }
  | { state: 'unusable'; problem: KeyProblem; fingerprint: string; source: string }
  /** A changed key waits for the admin (key-change policy 'hold'): neither it nor the old key is used. */
  | { state: 'held'; fingerprint: string; previous: string; source: string; changeId: string }
  | { state: 'none' };

/**
 * Where a recipient key came from; lower ranks are asked first (DESIGN.md "Keys": the lookup order).
 * 'sender' is a local address's own sender key: it is the only key such an address ever has.
 */
export const SOURCE_RANK: Record<string, number> = {
  sender: -1,
  admin: 0,
  pickup: 1,
  'wkd-advanced': 2,
  'wkd-direct': 2,
  vks: 3,
  autocrypt: 4,
};
/** Sources an admin or the recipient vouched for: discovery never replaces or holds against them. */
const AUTHORITATIVE = new Set(['admin', 'pickup']);
export const DISCOVERED_SOURCES = ['wkd-advanced', 'wkd-direct', 'vks', 'autocrypt'] as const;

export type KeyChangePolicy = 'hold' | 'accept-and-log';

/** What recording a fetched key did. */
export type RecordOutcome =
  | 'stored' // the address had no key: the new one is used from now on
  | 'known' // the same key again (its material refreshed: new subkeys, expiry, revocations)
  | 'held' // a different key, held for the admin (policy 'hold')
  | 'replaced' // a different key, taken and logged (policy 'accept-and-log')
  | 'rejected'; // the admin refused this very key earlier

export interface KeyChange {
  id: string;
  address: string;
  oldFingerprint: string;
  newFingerprint: string;
  source: string;
  sourceUrl: string | null;
  status: 'held' | 'approved' | 'rejected' | 'accepted';
  createdAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
}

export class KeyChangeError extends Error {
  override name = 'KeyChangeError';
  constructor(readonly reason: 'not-found' | 'not-held') {
    super(reason === 'not-found' ? 'no such key change' : 'this key change was already decided');
  }
}

export interface SenderKey {
  address: string;
  signer: SigningKey;
}

export interface ImportResult {
  kind: 'sender' | 'recipient';
  fingerprint: string;
  addresses: string[];
}

export interface KeyListing {
  kind: 'sender' | 'recipient';
  address: string;
  fingerprint: string;
  source: string;
  status: string;
}

export class KeyImportError extends Error {
  override name = 'KeyImportError';
}

export interface KeyStoreDeps {
  db: Kysely<Database>;
  sealer: Sealer;
  clock: Clock;
  log: Log;
  /** A known address presenting a different key (discovery, Autocrypt): default 'hold'. */
  keyChange?: KeyChangePolicy;
}

const CACHE_LIMIT = 1000;
/** How long a key's validity check is reused (revocations imported meanwhile replace the key at once). */
const CHECK_TTL_MS = 60_000;

export class KeyStore {
  readonly #deps: KeyStoreDeps;
  readonly #signers = new Map<string, SigningKey>();
  readonly #publics = new Map<string, EncryptionKey>();
  readonly #checks = new Map<string, { key: EncryptionKey; check: KeyCheck; from: number; until: number }>();

  constructor(deps: KeyStoreDeps) {
    this.#deps = deps;
  }

  /** Generate a new sender key pair for `address`, replacing (deactivating) any earlier one. */
  async generateSenderKey(
    address: string,
    name?: string,
  ): Promise<{ fingerprint: string; publicKey: string }> {
    const addr = normaliseAddress(address);
    const now = this.#deps.clock.now();
    const pair = await generateKeyPair({ address: addr, ...(name ? { name } : {}), now });
    await this.#storeSender(addr, pair.fingerprint, pair.publicKey, pair.privateKey, 'generated');
    return { fingerprint: pair.fingerprint, publicKey: pair.publicKey };
  }

  async #storeSender(
    address: string,
    fingerprint: string,
    publicKey: string,
    privateKey: string,
    origin: string,
  ) {
    const now = this.#deps.clock.now();
    const sealed = this.#deps.sealer.seal('sender-private-key', Buffer.from(privateKey, 'utf8'), fingerprint);
    await this.#deps.db.transaction().execute(async (tx) => {
      await tx.updateTable('sender_keys').set({ active: 0 }).where('address', '=', address).execute();
      await tx
        .insertInto('sender_keys')
        .values({
          id: newId(),
          address,
          fingerprint,
          public_key: publicKey,
          sealed_private_key: sealed,
          origin,
          active: 1,
          created_at: now.getTime(),
        })
        .execute();
      await audit(
        tx,
        { actor: 'cli', action: `sender-key.${origin}`, subject: address, detail: fingerprint },
        now,
      );
    });
    this.#deps.log.info('KEY_SENDER_STORED', { fingerprint, user: address });
  }

  /**
   * Import keys from an armored or binary block. A private key becomes the sender key of each of its User
   * ID addresses; a public key becomes an admin-pinned recipient key after validation (unusable keys are
   * refused with the reason).
   */
  async importKeys(input: string | Uint8Array): Promise<ImportResult[]> {
    let keys;
    try {
      keys = await readAllKeys(input);
    } catch {
      throw new KeyImportError('no OpenPGP key could be read from the input');
    }
    const now = this.#deps.clock.now();
    const results: ImportResult[] = [];
    for (const key of keys) {
      const check = await checkParsedKey(key, now);
      const facts = check.facts ?? (await keyFacts(key));
      if (!check.usable) throw new KeyImportError(`key ${facts.fingerprint} is not usable: ${check.problem}`);
      if (facts.emails.length === 0)
        throw new KeyImportError(`key ${facts.fingerprint} has no User ID with an address`);
      if (key.isPrivate()) {
        const signer = await parseSigningKey(key.armor()).catch((err: Error) => {
          throw new KeyImportError(err.message);
        });
        for (const address of facts.emails) {
          await this.#storeSender(
            address,
            facts.fingerprint,
            armorPublic(key),
            signer.key.armor(),
            'imported',
          );
        }
        results.push({ kind: 'sender', fingerprint: facts.fingerprint, addresses: facts.emails });
      } else {
        for (const address of facts.emails)
          await this.#storeRecipient(address, facts, armorPublic(key), 'admin', now);
        results.push({ kind: 'recipient', fingerprint: facts.fingerprint, addresses: facts.emails });
      }
    }
    return results;
  }

  async #storeRecipient(address: string, facts: KeyFacts, publicKey: string, source: string, now: Date) {
    const ts = now.getTime();
    await this.#deps.db.transaction().execute(async (tx) => {
      const existing = await tx
        .selectFrom('recipient_keys')
        .select('id')
        .where('address', '=', address)
        .where('fingerprint', '=', facts.fingerprint)
        .executeTakeFirst();
      if (existing) {
        await tx
          .updateTable('recipient_keys')
          .set({ public_key: publicKey, source, last_checked_at: ts })
          .where('id', '=', existing.id)
          .execute();
      } else {
        await tx
          .insertInto('recipient_keys')
          .values({
            id: newId(),
            address,
            fingerprint: facts.fingerprint,
            public_key: publicKey,
            source,
            source_url: null,
            first_seen_at: ts,
            last_checked_at: ts,
            created_at: ts,
          })
          .execute();
      }
      await audit(
        tx,
        { actor: 'cli', action: 'recipient-key.import', subject: address, detail: facts.fingerprint },
        now,
      );
    });
    this.#publics.delete(facts.fingerprint);
  }

  /**
   * Validity checks verify self-signatures, which costs more than the encryption of a message; a result
   * is reused until the earlier of CHECK_TTL_MS and the key's expiry. A re-import replaces the cached key.
   */
  async #check(fingerprint: string, parsed: EncryptionKey, now: Date): Promise<KeyCheck> {
    const cached = this.#checks.get(fingerprint);
    if (cached && cached.key === parsed && now.getTime() >= cached.from && now.getTime() < cached.until) {
      return cached.check;
    }
    const check = await checkParsedKey(parsed.key, now);
    const expires = check.facts?.expires?.getTime() ?? Infinity;
    remember(this.#checks, fingerprint, {
      key: parsed,
      check,
      from: now.getTime(),
      until: Math.min(now.getTime() + CHECK_TTL_MS, expires),
    });
    return check;
  }

  /** The active signing key of a sender address, or undefined when it has none. */
  async senderKey(address: string): Promise<SenderKey | undefined> {
    const addr = normaliseAddress(address);
    const row = await this.#deps.db
      .selectFrom('sender_keys')
      .select(['fingerprint', 'sealed_private_key'])
      .where('address', '=', addr)
      .where('active', '=', 1)
      .executeTakeFirst();
    if (!row) return undefined;
    let signer = this.#signers.get(row.fingerprint);
    if (!signer) {
      const armored = this.#deps.sealer
        .open('sender-private-key', row.sealed_private_key, row.fingerprint)
        .toString('utf8');
      signer = await parseSigningKey(armored);
      remember(this.#signers, row.fingerprint, signer);
    }
    return { address: addr, signer };
  }

  /**
   * The key to encrypt to `address` at the clock's now, in the lookup order of DESIGN.md: a local address's
   * sender key and nothing else (#ownKey); otherwise admin-pinned, then
   * registered through pickup, then discovered (WKD, VKS) and Autocrypt, newest first within a source. A
   * changed key held for the admin outranks every discovered key (the old one is not used meanwhile, it may
   * be the reason for the change). When keys exist but none is usable, the reason of the first is returned.
   */
  async recipientKey(address: string): Promise<RecipientKeyStatus> {
    const own = await this.#ownKey(normaliseAddress(address));
    if (own) return own;
    const rows = await this.#deps.db
      .selectFrom('recipient_keys')
      .select([
        'id',
        'fingerprint',
        'public_key',
        'source',
        'source_url',
        'created_at',
        'last_checked_at',
        'status',
      ])
      .where('address', '=', normaliseAddress(address))
      .where('status', 'in', ['active', 'held'])
      .execute();
    if (rows.length === 0) return { state: 'none' };
    rows.sort((a, b) => rank(a.source) - rank(b.source) || Number(b.created_at) - Number(a.created_at));
    const now = this.#deps.clock.now();
    const held = rows.find((r) => r.status === 'held');
    let firstProblem: RecipientKeyStatus | undefined;
    for (const row of rows) {
      if (row.status !== 'active') continue;
      if (held && !AUTHORITATIVE.has(row.source)) break;
      let parsed = this.#publics.get(row.fingerprint);
      if (!parsed) {
        parsed = await parseEncryptionKey(row.public_key);
        remember(this.#publics, row.fingerprint, parsed);
      }
      const check = await this.#check(row.fingerprint, parsed, now);
      if (check.usable) {
        return {
          state: 'usable',
          key: parsed,
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
    if (held) {
      const change = await this.#deps.db
        .selectFrom('key_changes')
        .select(['id', 'old_fingerprint'])
        .where('new_key_id', '=', held.id)
        .where('status', '=', 'held')
        .executeTakeFirst();
      return {
        state: 'held',
        fingerprint: held.fingerprint,
        previous: change?.old_fingerprint ?? '',
        source: held.source,
        changeId: change?.id ?? '',
      };
    }
    return firstProblem ?? { state: 'none' };
  }

  /**
   * A local address's key is its sender key, nothing else (DESIGN.md invariant 7): an address with an active
   * sender key is encrypted to that key (source 'sender') or, when it is not usable, to nothing — never to a
   * recipient key that was pinned, registered, discovered or learned from mail for it.
   */
  async #ownKey(addr: string): Promise<RecipientKeyStatus | undefined> {
    const row = await this.#deps.db
      .selectFrom('sender_keys')
      .select(['fingerprint', 'public_key'])
      .where('address', '=', addr)
      .where('active', '=', 1)
      .executeTakeFirst();
    if (!row) return undefined;
    let parsed = this.#publics.get(row.fingerprint);
    if (!parsed) {
      parsed = await parseEncryptionKey(row.public_key);
      remember(this.#publics, row.fingerprint, parsed);
    }
    const check = await this.#check(row.fingerprint, parsed, this.#deps.clock.now());
    if (!check.usable)
      return { state: 'unusable', problem: check.problem, fingerprint: row.fingerprint, source: 'sender' };
    return {
      state: 'usable',
      key: parsed,
      fingerprint: row.fingerprint,
      source: 'sender',
      expires: check.facts.expires,
    };
  }

  /** Whether `address` has (or had) a sender key: such an address never gets a key learned from mail. */
  async hasSenderKey(address: string): Promise<boolean> {
    const row = await this.#deps.db
      .selectFrom('sender_keys')
      .select('id')
      .where('address', '=', normaliseAddress(address))
      .executeTakeFirst();
    return !!row;
  }

  /** Whether any address of `domain` has (or had) a sender key: then the domain is a local one. */
  async hasSenderKeyInDomain(domain: string): Promise<boolean> {
    // Addresses are stored lower-case; a domain of a checked address holds no LIKE wildcard (% or _).
    if (/[%_\\]/.test(domain)) return false;
    const row = await this.#deps.db
      .selectFrom('sender_keys')
      .select('id')
      .where('address', 'like', `%@${domain.toLowerCase()}`)
      .executeTakeFirst();
    return !!row;
  }

  /**
   * Record a key fetched for `address` (discovery, Autocrypt), already narrowed to the address and checked
   * usable by the caller. A new address gets it; the same key refreshes its material; a different key for
   * an address that has (or had) a key is a key change, handled by the policy: 'hold' stores it held and
   * files a change for the admin, 'accept-and-log' replaces the discovered keys and files the change as
   * accepted. Admin-pinned and pickup-registered keys are never replaced. Every change is audited with both
   * fingerprints.
   */
  async recordFetched(input: {
    address: string;
    key: Uint8Array | string;
    source: (typeof DISCOVERED_SOURCES)[number];
    sourceUrl: string | null;
    policy?: KeyChangePolicy;
    /**
     * The key the address is reached by outside this table: its pickup contact's key. A key recorded for a
     * pickup contact is then a key change (the pickup path is never replaced silently).
     */
    contactFingerprint?: string;
  }): Promise<{ outcome: RecordOutcome; fingerprint: string; changeId?: string }> {
    const addr = normaliseAddress(input.address);
    const parsed = await readAnyKey(input.key);
    if (parsed.isPrivate()) throw new KeyImportError('a fetched key must be a public key');
    const fingerprint = parsed.getFingerprint().toUpperCase();
    const armored = armorPublic(parsed);
    const policy = input.policy ?? this.#deps.keyChange ?? 'hold';
    const now = this.#deps.clock.now();
    const ts = now.getTime();
    const actor = input.source === 'autocrypt' ? 'gateway' : 'discovery';
    const result = await this.#deps.db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('recipient_keys')
        .select(['id', 'fingerprint', 'source', 'source_url', 'status', 'created_at'])
        .where('address', '=', addr)
        .orderBy('created_at', 'desc')
        .execute();
      const same = rows.find((r) => r.fingerprint === fingerprint && !AUTHORITATIVE.has(r.source));
      if (same) {
        if (same.status === 'rejected') return { outcome: 'rejected' as const };
        const revived = same.status === 'dropped';
        await tx
          .updateTable('recipient_keys')
          .set({
            public_key: armored,
            last_checked_at: ts,
            // The same key seen through another source (an Autocrypt header) keeps where it was fetched.
            source_url: same.source === input.source ? input.sourceUrl : same.source_url,
            ...(revived ? { status: 'active' as const, problem: null } : {}),
          })
          .where('id', '=', same.id)
          .execute();
        return { outcome: same.status === 'held' ? ('held' as const) : ('known' as const) };
      }
      if (rows.some((r) => r.fingerprint === fingerprint)) {
        // The admin pinned (or the contact registered) this very key: nothing to record.
        return { outcome: 'known' as const };
      }
      const prior =
        rows.find((r) => r.status !== 'rejected') ??
        (input.contactFingerprint ? { fingerprint: input.contactFingerprint } : undefined);
      const id = newId();
      const insert = (status: 'active' | 'held') =>
        tx
          .insertInto('recipient_keys')
          .values({
            id,
            address: addr,
            fingerprint,
            public_key: armored,
            source: input.source,
            source_url: input.sourceUrl,
            first_seen_at: ts,
            last_checked_at: ts,
            created_at: ts,
            status,
            problem: null,
          })
          .execute();
      if (!prior) {
        await insert('active');
        await audit(
          tx,
          { actor, action: `recipient-key.${input.source}`, subject: addr, detail: fingerprint },
          now,
        );
        return { outcome: 'stored' as const };
      }
      const changeId = newId();
      const hold = policy === 'hold';
      await insert(hold ? 'held' : 'active');
      if (!hold) {
        await tx
          .updateTable('recipient_keys')
          .set({ status: 'replaced' })
          .where('address', '=', addr)
          .where('id', '!=', id)
          .where('status', 'in', ['active', 'held'])
          .where('source', 'in', [...DISCOVERED_SOURCES])
          .execute();
      }
      await tx
        .insertInto('key_changes')
        .values({
          id: changeId,
          address: addr,
          old_fingerprint: prior.fingerprint,
          new_fingerprint: fingerprint,
          new_key_id: id,
          source: input.source,
          source_url: input.sourceUrl,
          status: hold ? 'held' : 'accepted',
          created_at: ts,
          decided_at: hold ? null : ts,
          decided_by: hold ? null : 'policy',
        })
        .execute();
      await audit(
        tx,
        {
          actor,
          action: hold ? 'recipient-key.change-held' : 'recipient-key.change-accepted',
          subject: addr,
          detail: `${prior.fingerprint} -> ${fingerprint}`,
        },
        now,
      );
      return { outcome: hold ? ('held' as const) : ('replaced' as const), changeId };
    });
    // The stored copy may have changed (new subkeys, expiry, revocation): parse and check it afresh.
    this.#publics.delete(fingerprint);
    this.#checks.delete(fingerprint);
    if (result.outcome === 'held' && result.changeId)
      this.#deps.log.warn('KD_KEY_CHANGE_HELD', { rcpt: addr, fingerprint, source: input.source });
    if (result.outcome === 'replaced')
      this.#deps.log.warn('KD_KEY_CHANGE_ACCEPTED', { rcpt: addr, fingerprint, source: input.source });
    if (result.outcome === 'stored')
      this.#deps.log.info('KD_KEY_STORED', { rcpt: addr, fingerprint, source: input.source });
    return { ...result, fingerprint };
  }

  /** The key-change policy this store applies (config `discovery.keyChange`). */
  get keyChangePolicy(): KeyChangePolicy {
    return this.#deps.keyChange ?? 'hold';
  }

  /** What `recordFetched` would make of this fingerprint, read-only: new address, same key, change, refused. */
  async classifyFetched(
    address: string,
    fingerprint: string,
  ): Promise<'new' | 'same' | 'change' | 'rejected'> {
    const rows = await this.#deps.db
      .selectFrom('recipient_keys')
      .select(['fingerprint', 'status'])
      .where('address', '=', normaliseAddress(address))
      .execute();
    const same = rows.filter((r) => r.fingerprint === fingerprint);
    if (same.some((r) => r.status === 'rejected')) return 'rejected';
    if (same.length > 0) return 'same';
    return rows.some((r) => r.status !== 'rejected') ? 'change' : 'new';
  }

  /** Key changes, newest first: those waiting for the admin, or all of them. */
  async listKeyChanges(filter: { status?: 'held' | 'all'; address?: string } = {}): Promise<KeyChange[]> {
    let query = this.#deps.db.selectFrom('key_changes').selectAll().orderBy('created_at', 'desc');
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
  async decideKeyChange(id: string, decision: 'approve' | 'reject', actor: string): Promise<KeyChange> {
    const now = this.#deps.clock.now();
    const ts = now.getTime();
    const row = await this.#deps.db.transaction().execute(async (tx) => {
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
          action: `recipient-key.change-${status}`,
          subject: change.address,
          detail: `${change.old_fingerprint} -> ${change.new_fingerprint}`,
        },
        now,
      );
      return { ...change, status, decided_at: ts, decided_by: actor };
    });
    this.#deps.log.info('KD_KEY_CHANGE_DECIDED', {
      rcpt: row.address,
      decision,
      fingerprint: row.new_fingerprint,
    });
    return toKeyChange(row);
  }

  /**
   * A key's source now serves a copy we refused (revoked, expired): when we hold the same key, merge that
   * copy's signatures into ours (openpgp's update keeps every valid self- and revocation signature), so
   * that `dropUnusable` sees what the source says. A different key is ignored.
   */
  async mergeRefused(address: string, fingerprint: string, binary: Uint8Array): Promise<boolean> {
    const row = await this.#deps.db
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
    await this.#deps.db
      .updateTable('recipient_keys')
      .set({ public_key: merged, last_checked_at: this.#deps.clock.now().getTime() })
      .where('id', '=', row.id)
      .execute();
    this.#publics.delete(fingerprint);
    this.#checks.delete(fingerprint);
    return true;
  }

  /**
   * Addresses with an active (or held) discovered or Autocrypt key that the refresh has not asked about
   * since `dueBefore` (epoch ms; default: all of them).
   */
  async discoveredAddresses(dueBefore = Number.MAX_SAFE_INTEGER): Promise<string[]> {
    const rows = await this.#deps.db
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
  async markRefreshed(address: string): Promise<void> {
    await this.#deps.db
      .updateTable('recipient_keys')
      .set({ refreshed_at: this.#deps.clock.now().getTime() })
      .where('address', '=', normaliseAddress(address))
      .where('source', 'in', [...DISCOVERED_SOURCES])
      .execute();
  }

  /**
   * Check every active discovered key at the clock's now; an unusable one (expired, revoked, …) is dropped
   * with its problem, so that it is neither used nor counted as the address's key. Returns how many.
   */
  async dropUnusable(address: string): Promise<number> {
    const rows = await this.#deps.db
      .selectFrom('recipient_keys')
      .select(['id', 'fingerprint', 'public_key'])
      .where('address', '=', normaliseAddress(address))
      .where('status', '=', 'active')
      .where('source', 'in', [...DISCOVERED_SOURCES])
      .execute();
    const now = this.#deps.clock.now();
    let dropped = 0;
    for (const row of rows) {
      const check = await checkParsedKey((await parseEncryptionKey(row.public_key)).key, now);
      if (check.usable) continue;
      await this.#deps.db
        .updateTable('recipient_keys')
        .set({ status: 'dropped', problem: check.problem, last_checked_at: now.getTime() })
        .where('id', '=', row.id)
        .execute();
      this.#publics.delete(row.fingerprint);
      this.#checks.delete(row.fingerprint);
      this.#deps.log.info('KD_KEY_DROPPED', {
        rcpt: address,
        fingerprint: row.fingerprint,
        problem: check.problem,
      });
      dropped++;
    }
    return dropped;
  }

  async exportPublic(address: string): Promise<string | undefined> {
    const addr = normaliseAddress(address);
    const sender = await this.#deps.db
      .selectFrom('sender_keys')
      .select('public_key')
      .where('address', '=', addr)
      .where('active', '=', 1)
      .executeTakeFirst();
    if (sender) return sender.public_key;
    const recipient = await this.#deps.db
      .selectFrom('recipient_keys')
      .select('public_key')
      .where('address', '=', addr)
      .where('status', '=', 'active')
      .orderBy('created_at', 'desc')
      .executeTakeFirst();
    return recipient?.public_key;
  }

  async list(): Promise<
    { kind: 'sender' | 'recipient'; address: string; fingerprint: string; source: string; status: string }[]
  > {
    const now = this.#deps.clock.now();
    const senders = await this.#deps.db
      .selectFrom('sender_keys')
      .select(['address', 'fingerprint', 'origin'])
      .where('active', '=', 1)
      .orderBy('address')
      .execute();
    const recipients = await this.#deps.db
      .selectFrom('recipient_keys')
      .select(['address', 'fingerprint', 'source', 'public_key', 'status'])
      .orderBy('address')
      .execute();
    const out: KeyListing[] = senders.map((s) => ({
      kind: 'sender',
      address: s.address,
      fingerprint: s.fingerprint,
      source: s.origin,
      status: 'active',
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

  /**
   * A public key the pickup contact uploaded for themselves (the API checked it is usable and carries the
   * contact's address): from now on the policy sends PGP/MIME to them. Source 'pickup'.
   */
  async registerPickupKey(address: string, armored: string): Promise<string> {
    const addr = normaliseAddress(address);
    const now = this.#deps.clock.now();
    // Only what the contact vouches for: the User IDs of their own address (never another address's).
    const narrowed = await narrowKeyToAddress({
      data: armorPublic(await readAnyKey(armored)),
      address: addr,
      now,
    });
    if (!narrowed.ok) throw new KeyImportError(`the key is not usable for ${addr}: ${narrowed.problem}`);
    const key = await readAnyKey(narrowed.binary);
    const facts = await keyFacts(key);
    await this.#storeRecipient(addr, facts, armorPublic(key), 'pickup', now);
    return facts.fingerprint;
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
  async recordAutocrypt(
    address: string,
    keyBytes: Uint8Array,
    options: { contactFingerprint?: string } = {},
  ): Promise<'stored' | 'known' | 'changed' | 'local'> {
    const addr = normaliseAddress(address);
    if (await this.hasSenderKey(addr)) {
      this.#deps.log.warn('IN_AUTOCRYPT_LOCAL', { from: addr });
      return 'local';
    }
    const { outcome, fingerprint } = await this.recordFetched({
      address: addr,
      key: keyBytes,
      source: 'autocrypt',
      sourceUrl: null,
      policy: 'hold',
      ...(options.contactFingerprint ? { contactFingerprint: options.contactFingerprint } : {}),
    });
    if (outcome === 'held' || outcome === 'replaced' || outcome === 'rejected') {
      this.#deps.log.warn('IN_AUTOCRYPT_KEY_CHANGED', { from: addr, fingerprint, outcome });
      return 'changed';
    }
    if (outcome === 'stored') this.#deps.log.info('IN_AUTOCRYPT_STORED', { from: addr, fingerprint });
    return outcome;
  }
}

function rank(source: string): number {
  return SOURCE_RANK[source] ?? 9;
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

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
}
