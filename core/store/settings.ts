import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.ts';

/**
 * The settings an admin overrides in the console or with `sealpost settings set` (docs/admin-console.md
 * "Settings"): the only code that reads or writes `setting_overrides`. One row per overridden key, its value as text
 * (validated by core/settings.ts before it is written). A key without a row takes the configuration's value.
 *
 * Every process reads the rows at use time through `overrides()`, cached for at most `ttlMs` (default 5 s):
 * N processes against one database agree within seconds of a change, without a restart. A write through this
 * store forgets the cache at once, so the process that wrote sees its own change immediately.
 */
export const SETTINGS_CACHE_MS = 5_000;

export class SettingsStore {
  #cache: { at: number; rows: ReadonlyMap<string, string> } | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly ttlMs = SETTINGS_CACHE_MS,
    /** Wall-clock milliseconds (tests pass their own to step over the cache time without sleeping). */
    private readonly wallClock: () => number = Date.now,
  ) {}

  /** The overridden keys and their stored text. The cache is wall-clock time (not the injected clock). */
  async overrides(): Promise<ReadonlyMap<string, string>> {
    const now = this.wallClock();
    if (this.#cache && now - this.#cache.at < this.ttlMs) return this.#cache.rows;
    const rows = await this.db.selectFrom('setting_overrides').select(['key', 'value']).execute();
    const map = new Map(rows.map((r) => [r.key, r.value]));
    this.#cache = { at: now, rows: map };
    return map;
  }

  /** Forget the cached rows: the next read goes to the database (after a write through another instance). */
  forget(): void {
    this.#cache = undefined;
  }

  /** Store (or replace) one key's value. */
  async set(key: string, value: string, now: Date): Promise<void> {
    this.#cache = undefined;
    const at = now.getTime();
    await this.db
      .insertInto('setting_overrides')
      .values({ key, value, updated_at: at })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value, updated_at: at }))
      .execute();
    this.#cache = undefined;
  }

  /** Drop one key's override (the configuration's value applies again); false when there was none. */
  async reset(key: string): Promise<boolean> {
    this.#cache = undefined;
    const result = await this.db.deleteFrom('setting_overrides').where('key', '=', key).executeTakeFirst();
    this.#cache = undefined;
    return Number(result.numDeletedRows) > 0;
  }
}
