import { randomBytes, scrypt as scryptCb, timingSafeEqual, type ScryptOptions } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { Database } from './db/schema.ts';
import { newId, normaliseAddress } from './ids.ts';

/**
 * Senders (SMTP AUTH users), their password hashes and the addresses each may send as.
 * Passwords are hashed with scrypt (N=2^15, r=8, p=1: ~32 MiB and ~50–100 ms per check on this class of
 * machine), stored as `scrypt$N$r$p$salt$hash` (base64).
 */
const N = 1 << 15;
const R = 8;
const P = 1;
const KEYLEN = 32;

function scrypt(password: string, salt: Buffer, n: number, r: number, p: number): Promise<Buffer> {
  const options: ScryptOptions = { N: n, r, p, maxmem: 128 * n * r * 2 };
  return new Promise((resolve, reject) =>
    scryptCb(password.normalize('NFC'), salt, KEYLEN, options, (err, key) =>
      err ? reject(err) : resolve(key),
    ),
  );
}

export async function hashPassword(password: string): Promise<string> {
  const salt = randomBytes(16);
  const hash = await scrypt(password, salt, N, R, P);
  return ['scrypt', N, R, P, salt.toString('base64'), hash.toString('base64')].join('$');
}

export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const [kind, n, r, p, salt, hash] = stored.split('$');
  if (kind !== 'scrypt' || !n || !r || !p || !salt || !hash) return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = await scrypt(password, Buffer.from(salt, 'base64'), Number(n), Number(r), Number(p));
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}

/** A hash to verify against when the user does not exist, so that timing does not reveal logins. */
let dummyHash: Promise<string> | undefined;
export function dummyPasswordHash(): Promise<string> {
  dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
  return dummyHash;
}

export const MIN_PASSWORD_LENGTH = 10;

export interface UserRow {
  id: string;
  login: string;
  isAdmin: boolean;
  disabled: boolean;
}

export class UserStore {
  constructor(private readonly db: Kysely<Database>) {}

  /** Create a user who may send as its login address (and any addresses added later). */
  async add(
    input: { login: string; password: string; isAdmin?: boolean; displayName?: string },
    now: Date,
  ): Promise<UserRow> {
    const login = normaliseAddress(input.login);
    if (input.password.length < MIN_PASSWORD_LENGTH) {
      throw new Error(`password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    const id = newId();
    const passwordHash = await hashPassword(input.password);
    await this.db.transaction().execute(async (tx) => {
      await tx
        .insertInto('users')
        .values({
          id,
          login,
          password_hash: passwordHash,
          is_admin: input.isAdmin ? 1 : 0,
          disabled: 0,
          created_at: now.getTime(),
        })
        .execute();
      await tx
        .insertInto('user_addresses')
        .values({
          address: login,
          user_id: id,
          display_name: input.displayName ?? null,
          created_at: now.getTime(),
        })
        .execute();
    });
    return { id, login, isAdmin: !!input.isAdmin, disabled: false };
  }

  /**
   * Her new password hash inside a caller's transaction (a password change that re-locks her console key in
   * the same commit, core/store/console.ts): the users table stays named here only.
   */
  static async setPasswordHashIn(db: Kysely<Database>, userId: string, passwordHash: string): Promise<void> {
    await db.updateTable('users').set({ password_hash: passwordHash }).where('id', '=', userId).execute();
  }

  async setPassword(login: string, password: string): Promise<boolean> {
    if (password.length < MIN_PASSWORD_LENGTH) {
      throw new Error(`password must have at least ${MIN_PASSWORD_LENGTH} characters`);
    }
    const result = await this.db
      .updateTable('users')
      .set({ password_hash: await hashPassword(password) })
      .where('login', '=', normaliseAddress(login))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
  }

  async addAddress(login: string, address: string, now: Date, displayName?: string): Promise<void> {
    const user = await this.find(login);
    if (!user) throw new Error(`no such user: ${login}`);
    await this.db
      .insertInto('user_addresses')
      .values({
        address: normaliseAddress(address),
        user_id: user.id,
        display_name: displayName ?? null,
        created_at: now.getTime(),
      })
      .execute();
  }

  async find(login: string): Promise<UserRow | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('login', '=', normaliseAddress(login))
      .executeTakeFirst();
    return row && { id: row.id, login: row.login, isAdmin: row.is_admin === 1, disabled: row.disabled === 1 };
  }

  async byId(id: string): Promise<UserRow | undefined> {
    const row = await this.db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && { id: row.id, login: row.login, isAdmin: row.is_admin === 1, disabled: row.disabled === 1 };
  }

  /** Check a login and password; undefined when either is wrong or the user is disabled (same timing). */
  async authenticate(login: string, password: string): Promise<UserRow | undefined> {
    const row = await this.db
      .selectFrom('users')
      .selectAll()
      .where('login', '=', normaliseAddress(login))
      .executeTakeFirst();
    const ok = await verifyPassword(password, row?.password_hash ?? (await dummyPasswordHash()));
    if (!row || !ok || row.disabled === 1) return undefined;
    return { id: row.id, login: row.login, isAdmin: row.is_admin === 1, disabled: false };
  }

  /** The addresses a user may send as, with display names. */
  async addresses(userId: string): Promise<{ address: string; displayName: string | null }[]> {
    const rows = await this.db
      .selectFrom('user_addresses')
      .select(['address', 'display_name'])
      .where('user_id', '=', userId)
      .execute();
    return rows.map((r) => ({ address: r.address, displayName: r.display_name }));
  }

  /** The display name recorded for a sender address (shown on pickup notifications), if any. */
  async displayName(address: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('user_addresses')
      .select('display_name')
      .where('address', '=', normaliseAddress(address))
      .executeTakeFirst();
    return row?.display_name ?? undefined;
  }

  async mayUseAddress(userId: string, address: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('user_addresses')
      .select('address')
      .where('user_id', '=', userId)
      .where('address', '=', normaliseAddress(address))
      .executeTakeFirst();
    return !!row;
  }

  /** The user who may send as `address` (undefined when none). */
  async ownerOf(address: string): Promise<{ id: string } | undefined> {
    const row = await this.db
      .selectFrom('user_addresses')
      .select('user_id')
      .where('address', '=', normaliseAddress(address))
      .executeTakeFirst();
    return row && { id: row.user_id };
  }

  /** Whether `address` is one a sender may send as (a local mailbox, for the inbound listener). */
  async isKnownAddress(address: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('user_addresses')
      .select('address')
      .where('address', '=', normaliseAddress(address))
      .executeTakeFirst();
    return !!row;
  }

  /** Every sender address (the inbound listener derives the local domains from them when none are set). */
  async allAddresses(): Promise<string[]> {
    const rows = await this.db.selectFrom('user_addresses').select('address').execute();
    return rows.map((r) => r.address);
  }

  /** Whether any sender address is in `domain` (which must hold no LIKE wildcard: the caller checks). */
  async hasAddressInDomain(domain: string): Promise<boolean> {
    const row = await this.db
      .selectFrom('user_addresses')
      .select('address')
      .where('address', 'like', `%@${domain}`)
      .executeTakeFirst();
    return !!row;
  }

  async list(): Promise<(UserRow & { addresses: string[] })[]> {
    const users = await this.db.selectFrom('users').selectAll().orderBy('login').execute();
    const addrs = await this.db.selectFrom('user_addresses').select(['address', 'user_id']).execute();
    return users.map((u) => ({
      id: u.id,
      login: u.login,
      isAdmin: u.is_admin === 1,
      disabled: u.disabled === 1,
      addresses: addrs.filter((a) => a.user_id === u.id).map((a) => a.address),
    }));
  }

  /** One page of users, by login, with the addresses each may send as, and how many there are. */
  async page(
    offset: number,
    limit: number,
  ): Promise<{ total: number; users: (UserRow & { addresses: string[] })[] }> {
    const count = await this.db
      .selectFrom('users')
      .select((eb) => eb.fn.countAll<string | number>().as('n'))
      .executeTakeFirstOrThrow();
    const users = await this.db
      .selectFrom('users')
      .selectAll()
      .orderBy('login')
      .offset(offset)
      .limit(limit)
      .execute();
    const ids = users.map((u) => u.id);
    const addrs = ids.length
      ? await this.db
          .selectFrom('user_addresses')
          .select(['address', 'user_id'])
          .where('user_id', 'in', ids)
          .orderBy('address')
          .execute()
      : [];
    return {
      total: Number(count.n),
      users: users.map((u) => ({
        id: u.id,
        login: u.login,
        isAdmin: u.is_admin === 1,
        disabled: u.disabled === 1,
        addresses: addrs.filter((a) => a.user_id === u.id).map((a) => a.address),
      })),
    };
  }

  /** Disable (no SMTP AUTH, no console) or enable a user; false when there is none. */
  async setDisabled(id: string, disabled: boolean): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ disabled: disabled ? 1 : 0 })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  async setAdmin(id: string, admin: boolean): Promise<boolean> {
    const r = await this.db
      .updateTable('users')
      .set({ is_admin: admin ? 1 : 0 })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) > 0;
  }

  /** She may no longer send as `address` (never her login address); false when it was not hers. */
  async removeAddress(id: string, address: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('user_addresses')
      .where('user_id', '=', id)
      .where('address', '=', normaliseAddress(address))
      .where('address', '<>', (eb) => eb.selectFrom('users').select('login').where('id', '=', id))
      .executeTakeFirst();
    return Number(r.numDeletedRows) > 0;
  }
}
