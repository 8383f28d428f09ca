import type { Kysely } from 'kysely';
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
  parseEncryptionKey,
  parseSigningKey,
  readAllKeys,
  readAnyKey,
  type EncryptionKey,
  type KeyCheck,
  type KeyFacts,
  type KeyProblem,
  type SigningKey,
} from './pgp.ts';

/**
 * Sender keys (private, sealed at rest with the master key) and recipient keys (public, admin-imported
 * now; discovered ones later). Parsed keys are cached by fingerprint: parsing costs more than signing.
 */
export type RecipientKeyStatus =
  | { state: 'usable'; key: EncryptionKey; fingerprint: string; source: string; expires: Date | null }
  | { state: 'unusable'; problem: KeyProblem; fingerprint: string; source: string }
  | { state: 'none' };

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
   * The best key to encrypt to `address` at the clock's now: the newest usable admin-pinned key. When keys
   * exist but none is usable, the reason of the newest is returned, so the sender learns why.
   */
  async recipientKey(address: string): Promise<RecipientKeyStatus> {
    const rows = await this.#deps.db
      .selectFrom('recipient_keys')
      .select(['fingerprint', 'public_key', 'source', 'created_at'])
      .where('address', '=', normaliseAddress(address))
      .orderBy('created_at', 'desc')
      .execute();
    if (rows.length === 0) return { state: 'none' };
    const now = this.#deps.clock.now();
    let firstProblem: RecipientKeyStatus | undefined;
    for (const row of rows) {
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
        };
      }
      firstProblem ??= {
        state: 'unusable',
        problem: check.problem,
        fingerprint: row.fingerprint,
        source: row.source,
      };
    }
    return firstProblem ?? { state: 'none' };
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
      .select(['address', 'fingerprint', 'source', 'public_key'])
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
        status: check.usable ? 'usable' : check.problem,
      });
    }
    return out;
  }

  /**
   * A public key the pickup contact uploaded for themselves (the API checked it is usable and carries the
   * contact's address): from now on the policy sends PGP/MIME to them. Source 'pickup'.
   */
  async registerPickupKey(address: string, armored: string): Promise<string> {
    const key = await readAnyKey(armored);
    const facts = await keyFacts(key);
    await this.#storeRecipient(
      normaliseAddress(address),
      facts,
      armorPublic(key),
      'pickup',
      this.#deps.clock.now(),
    );
    return facts.fingerprint;
  }

  /**
   * Record a key seen in an Autocrypt header of inbound mail (validated and narrowed to the address by
   * keys/autocrypt.ts). An address without a key gets it, source 'autocrypt'; the same key is only marked
   * as seen; a different key is never swapped in: it is logged (IN_AUTOCRYPT_KEY_CHANGED) and audited with
   * both fingerprints, for the admin (and the key-change policy of key discovery) to decide.
   */
  async recordAutocrypt(address: string, keyBytes: Uint8Array): Promise<'stored' | 'known' | 'changed'> {
    const addr = normaliseAddress(address);
    const key = await readAnyKey(keyBytes);
    if (key.isPrivate()) throw new KeyImportError('an Autocrypt key must be a public key');
    const fingerprint = key.getFingerprint().toUpperCase();
    const now = this.#deps.clock.now();
    const ts = now.getTime();
    const outcome = await this.#deps.db.transaction().execute(async (tx) => {
      const rows = await tx
        .selectFrom('recipient_keys')
        .select(['id', 'fingerprint'])
        .where('address', '=', addr)
        .orderBy('created_at', 'desc')
        .execute();
      const same = rows.find((r) => r.fingerprint === fingerprint);
      if (same) {
        await tx
          .updateTable('recipient_keys')
          .set({ last_checked_at: ts })
          .where('id', '=', same.id)
          .execute();
        return { result: 'known' as const };
      }
      if (rows[0]) {
        const detail = `${rows[0].fingerprint} -> ${fingerprint}`;
        await audit(
          tx,
          { actor: 'gateway', action: 'recipient-key.autocrypt-changed', subject: addr, detail },
          now,
        );
        return { result: 'changed' as const };
      }
      await tx
        .insertInto('recipient_keys')
        .values({
          id: newId(),
          address: addr,
          fingerprint,
          public_key: armorPublic(key),
          source: 'autocrypt',
          source_url: null,
          first_seen_at: ts,
          last_checked_at: ts,
          created_at: ts,
        })
        .execute();
      await audit(
        tx,
        { actor: 'gateway', action: 'recipient-key.autocrypt', subject: addr, detail: fingerprint },
        now,
      );
      return { result: 'stored' as const };
    });
    if (outcome.result === 'changed')
      this.#deps.log.warn('IN_AUTOCRYPT_KEY_CHANGED', { from: addr, fingerprint });
    if (outcome.result === 'stored') this.#deps.log.info('IN_AUTOCRYPT_STORED', { from: addr, fingerprint });
    return outcome.result;
  }
}

function remember<V>(cache: Map<string, V>, key: string, value: V): void {
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value as string);
  cache.set(key, value);
}
