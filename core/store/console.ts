import type { Insertable, Kysely } from 'kysely';
import { UserStore } from '../users.ts';
import type { ConsoleCodesTable, ConsoleKeysTable, ConsoleTotpTable, Database } from '../db/schema.ts';
import type { AnySealedColumn } from '../reseal.ts';

/**
 * The practitioner's console (docs/console.md): the only code that reads or writes `console_keys`,
 * `console_codes`, `console_totp` and `console_sessions`. Every query of a code or a session is bound to a user id: a row
 * of another practitioner is never found, never deleted.
 */

/** A console session never lasts longer than this, however active (the cookie's lifetime too). */
export const CONSOLE_SESSION_MAX_MS = 12 * 3600_000;

export type ConsoleKeyRow = ConsoleKeysTable;

export interface ConsoleCodeRow {
  id: string;
  contactAddress: string;
  keyFingerprint: string;
  ciphertext: Uint8Array;
  createdAt: number;
}

export class ConsoleStore {
  constructor(private readonly db: Kysely<Database>) {}

  // ---- the console key --------------------------------------------------------------------------------

  async keyOf(userId: string): Promise<ConsoleKeyRow | undefined> {
    return this.db.selectFrom('console_keys').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  /** Insert her key unless she has one (two first sign-ins at once: the first wins). True when inserted. */
  async addKey(row: Insertable<ConsoleKeysTable>): Promise<boolean> {
    const res = await this.db
      .insertInto('console_keys')
      .values(row)
      .onConflict((oc) => oc.column('user_id').doNothing())
      .executeTakeFirst();
    return Number(res.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  /**
   * Her key goes (a password reset: nobody can unlock it any more). The codes encrypted to it stay, as
   * unreadable lines her console offers to replace ("issue a new code"); they are useless without the key.
   */
  async dropKey(userId: string): Promise<void> {
    await this.db.deleteFrom('console_keys').where('user_id', '=', userId).execute();
  }

  /**
   * Her own password change (keys/console-password.ts): the SMTP password hash and her key's new lock in one
   * transaction, only while `fingerprint` is still her key; her other console sessions end. False when her
   * key is not (or no longer) that one: nothing changed.
   */
  async relockKey(
    userId: string,
    input: {
      fingerprint: string;
      lockedPrivateKey: Uint8Array;
      kdf: string;
      passwordHash: string;
      keepSession: string;
    },
  ): Promise<boolean> {
    return this.db.transaction().execute(async (tx) => {
      const res = await tx
        .updateTable('console_keys')
        .set({ locked_private_key: Buffer.from(input.lockedPrivateKey), kdf: input.kdf })
        .where('user_id', '=', userId)
        .where('fingerprint', '=', input.fingerprint)
        .executeTakeFirst();
      if (Number(res.numUpdatedRows) !== 1) return false;
      await UserStore.setPasswordHashIn(tx, userId, input.passwordHash);
      await tx
        .deleteFrom('console_sessions')
        .where('user_id', '=', userId)
        .where('token_hash', '!=', input.keepSession)
        .execute();
      return true;
    });
  }

  // ---- codes --------------------------------------------------------------------------------------------

  async addCode(row: Insertable<ConsoleCodesTable>): Promise<void> {
    await this.db.insertInto('console_codes').values(row).execute();
  }

  /** Her waiting codes, oldest first. */
  async codesOf(userId: string): Promise<ConsoleCodeRow[]> {
    const rows = await this.db
      .selectFrom('console_codes')
      .select(['id', 'contact_address', 'key_fingerprint', 'ciphertext', 'created_at'])
      .where('user_id', '=', userId)
      .orderBy('created_at', 'asc')
      .orderBy('id', 'asc')
      .execute();
    return rows.map((r) => ({
      id: r.id,
      contactAddress: r.contact_address,
      keyFingerprint: r.key_fingerprint,
      ciphertext: r.ciphertext,
      createdAt: Number(r.created_at),
    }));
  }

  /** Her code `id` (undefined when there is no such code of hers). */
  async codeOf(
    userId: string,
    id: string,
  ): Promise<{ contactAddress: string; keyFingerprint: string } | undefined> {
    const row = await this.db
      .selectFrom('console_codes')
      .select(['contact_address', 'key_fingerprint'])
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row && { contactAddress: row.contact_address, keyFingerprint: row.key_fingerprint };
  }

  /** Delete her code `id`; false when there is no such code of hers. */
  async deleteCode(userId: string, id: string): Promise<{ contactAddress: string } | undefined> {
    const row = await this.db
      .selectFrom('console_codes')
      .select(['contact_address'])
      .where('id', '=', id)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) return undefined;
    await this.db.deleteFrom('console_codes').where('id', '=', id).where('user_id', '=', userId).execute();
    return { contactAddress: row.contact_address };
  }

  /** Codes of earlier keys of a contact go when a new code is issued for it. */
  /** The number of codes dropped. */
  async dropCodesFor(contactAddress: string): Promise<number> {
    const res = await this.db
      .deleteFrom('console_codes')
      .where('contact_address', '=', contactAddress)
      .executeTakeFirst();
    return Number(res.numDeletedRows);
  }

  // ---- TOTP ---------------------------------------------------------------------------------------------

  async totpOf(userId: string): Promise<ConsoleTotpTable | undefined> {
    return this.db.selectFrom('console_totp').selectAll().where('user_id', '=', userId).executeTakeFirst();
  }

  /** A new pending secret (replaces a pending one; never an enabled one: false then). */
  async beginTotp(userId: string, sealedSecret: Uint8Array, now: number): Promise<boolean> {
    const current = await this.totpOf(userId);
    if (current?.enabled_at) return false;
    await this.db.deleteFrom('console_totp').where('user_id', '=', userId).execute();
    await this.db
      .insertInto('console_totp')
      .values({
        user_id: userId,
        sealed_secret: sealedSecret,
        enabled_at: null,
        last_step: 0,
        created_at: now,
      })
      .execute();
    return true;
  }

  /** Enable a pending secret at once (an admin made on the server sees it once in the terminal). */
  async enableTotp(userId: string, now: number): Promise<void> {
    await this.db
      .updateTable('console_totp')
      .set({ enabled_at: now })
      .where('user_id', '=', userId)
      .execute();
  }

  /** TOTP reset by an admin: the secret goes (an admin enrols again at the next sign-in). */
  async dropTotp(userId: string): Promise<void> {
    await this.db.deleteFrom('console_totp').where('user_id', '=', userId).execute();
  }

  /**
   * Record that the code of time step `step` was accepted (and enable a pending secret). False when a code of
   * this or a later step was accepted before: a replay.
   */
  async useTotpStep(userId: string, step: number, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('console_totp')
      .set((eb) => ({ last_step: step, enabled_at: eb.fn.coalesce('enabled_at', eb.val(now)) }))
      .where('user_id', '=', userId)
      .where('last_step', '<', step)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }

  // ---- sessions -----------------------------------------------------------------------------------------

  /** The session of a sign-in; `secondFactor`: it passed TOTP (admin rows need it). */
  async openSession(tokenHash: string, userId: string, now: number, secondFactor = false): Promise<void> {
    await this.db
      .insertInto('console_sessions')
      .values({
        token_hash: tokenHash,
        user_id: userId,
        created_at: now,
        last_seen_at: now,
        second_factor: secondFactor ? 1 : 0,
      })
      .execute();
  }

  /** Every session of a user ends (disabled, password reset, admin role or TOTP changed). */
  async endSessionsOf(userId: string): Promise<void> {
    await this.db.deleteFrom('console_sessions').where('user_id', '=', userId).execute();
  }

  /**
   * The user of the live session behind a token hash; an ended one (idle longer than `idleMs`, or older
   * than CONSOLE_SESSION_MAX_MS) is deleted and undefined. A live one is touched (the idle clock).
   */
  async session(
    tokenHash: string,
    idleMs: number,
    now: number,
  ): Promise<{ userId: string; secondFactor: boolean } | undefined> {
    const row = await this.db
      .selectFrom('console_sessions')
      .select(['user_id', 'created_at', 'last_seen_at', 'second_factor'])
      .where('token_hash', '=', tokenHash)
      .executeTakeFirst();
    if (!row) return undefined;
    if (Number(row.last_seen_at) + idleMs < now || Number(row.created_at) + CONSOLE_SESSION_MAX_MS < now) {
      await this.endSession(tokenHash);
      return undefined;
    }
    await this.db
      .updateTable('console_sessions')
      .set({ last_seen_at: now })
      .where('token_hash', '=', tokenHash)
      .execute();
    return { userId: row.user_id, secondFactor: Number(row.second_factor) === 1 };
  }

  async endSession(tokenHash: string): Promise<void> {
    await this.db.deleteFrom('console_sessions').where('token_hash', '=', tokenHash).execute();
  }

  // ---- one-time links to set a password -----------------------------------------------------------------

  async addPasswordLink(tokenHash: string, userId: string, expiresAt: number, now: number): Promise<void> {
    await this.db.deleteFrom('password_links').where('user_id', '=', userId).execute();
    await this.db
      .insertInto('password_links')
      .values({ token_hash: tokenHash, user_id: userId, expires_at: expiresAt, created_at: now })
      .execute();
  }

  /** The user of a live link, which is used up (deleted) whether it is live or expired. */
  async takePasswordLink(tokenHash: string, now: number): Promise<string | undefined> {
    const row = await this.db
      .deleteFrom('password_links')
      .where('token_hash', '=', tokenHash)
      .returning(['user_id', 'expires_at'])
      .executeTakeFirst();
    return row && Number(row.expires_at) >= now ? row.user_id : undefined;
  }
}

/** The console's sealed columns (codes, TOTP secrets): a master-key rotation re-seals them (core/reseal.ts). */
export const SEALED_CONSOLE: readonly AnySealedColumn[] = [
  { table: 'console_codes', column: 'ciphertext', key: 'id', purpose: 'console' },
  { table: 'console_totp', column: 'sealed_secret', key: 'user_id', purpose: 'console', aadPrefix: 'totp:' },
];
