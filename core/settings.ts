import { z } from 'zod';
import type { AuditEntry } from './audit.ts';
import type { Config } from './config.ts';
import type { SettingsStore } from './store/settings.ts';

/**
 * The settings an admin may change while Sealpost runs (docs/admin-console.md "Settings", docs/configuration.md):
 * the practice name, the language of notifications, the pickup retention, key discovery on/off and the
 * key-change policy. The configuration (environment or SEALPOST_CONFIG, core/config.ts) gives each its
 * default; a value set in the console or with `sealpost settings set` (the table of core/store/settings.ts) overrides it.
 *
 * `effectiveSettings()` is the one reading: every service asks it at use time (the gateway per message, the
 * worker per job, the webmail per request), never at start, so a change takes effect in every process within
 * the store's cache time (core/store/settings.ts, 5 s) and without a restart.
 */
export const SETTING_KEYS = ['practiceName', 'language', 'retentionDays', 'discovery', 'keyChange'] as const;
export type SettingKey = (typeof SETTING_KEYS)[number];
export const settingKeySchema = z.enum(SETTING_KEYS);

/** One line of printable text: no control characters (no line breaks into a mail header or a log). */
const practiceName = z
  .string()
  .trim()
  .min(1)
  .max(120)
  .regex(/^[^\p{Cc}]*$/u, 'one line of text, no control characters');

/** Each key's validation of the text an admin types (the console's form, the CLI's VALUE). */
export const SETTING_SCHEMAS = {
  practiceName,
  language: z.enum(['de', 'en']),
  retentionDays: z
    .string()
    .trim()
    .regex(/^\d{1,4}$/, 'a whole number of days')
    .transform(Number)
    .pipe(z.number().int().min(1).max(3650)),
  discovery: z.enum(['on', 'off']).transform((v) => v === 'on'),
  keyChange: z.enum(['hold', 'accept-and-log']),
} as const;

export interface EffectiveSettings {
  readonly practiceName: string;
  readonly language: 'de' | 'en';
  readonly retentionDays: number;
  readonly discovery: boolean;
  readonly keyChange: 'hold' | 'accept-and-log';
}

/** The configuration's variable of each key (shown beside the value). */
export const SETTING_ENV: Readonly<Record<SettingKey, string>> = {
  practiceName: 'SEALPOST_PRACTICE_NAME',
  language: 'SEALPOST_PICKUP_LANGUAGE',
  retentionDays: 'SEALPOST_PICKUP_RETENTION_DAYS',
  discovery: 'SEALPOST_DISCOVERY',
  keyChange: 'SEALPOST_DISCOVERY_KEY_CHANGE',
};

type SettingsConfig = Pick<Config, 'practiceName' | 'pickup' | 'discovery'>;

/** The configuration's values: what applies where nothing is overridden. */
export function configSettings(config: SettingsConfig): EffectiveSettings {
  return {
    practiceName: config.practiceName,
    language: config.pickup.language,
    retentionDays: config.pickup.retentionDays,
    discovery: config.discovery.enabled,
    keyChange: config.discovery.keyChange,
  };
}

/** A value as text (the form, the CLI, the audit's old → new). */
export function settingText(key: SettingKey, s: EffectiveSettings): string {
  const v = s[key];
  return typeof v === 'boolean' ? (v ? 'on' : 'off') : String(v);
}

/** The configuration's values with the stored overrides on top; a stored row that no longer validates is ignored. */
export function mergeSettings(config: SettingsConfig, rows: ReadonlyMap<string, string>): EffectiveSettings {
  const base = configSettings(config);
  const parse = <K extends SettingKey>(key: K): EffectiveSettings[K] | undefined => {
    const text = rows.get(key);
    if (text === undefined) return undefined;
    const r = SETTING_SCHEMAS[key].safeParse(text);
    return r.success ? (r.data as EffectiveSettings[K]) : undefined;
  };
  return {
    practiceName: parse('practiceName') ?? base.practiceName,
    language: parse('language') ?? base.language,
    retentionDays: parse('retentionDays') ?? base.retentionDays,
    discovery: parse('discovery') ?? base.discovery,
    keyChange: parse('keyChange') ?? base.keyChange,
  };
}

/** The settings in force now: the configuration, overridden by the admin's values (cached ≤ 5 s). */
export async function effectiveSettings(deps: {
  readonly config: SettingsConfig;
  readonly db: { readonly stores: { readonly settings: Pick<SettingsStore, 'overrides'> } };
}): Promise<EffectiveSettings> {
  return mergeSettings(deps.config, await deps.db.stores.settings.overrides());
}

export interface SettingLine {
  key: SettingKey;
  env: string;
  value: string;
  /** The configuration's value (what "reset" goes back to). */
  default: string;
  source: 'config' | 'console';
}

/** Every key with its value in force, the configuration's value and where the value comes from. */
export async function settingLines(
  config: SettingsConfig,
  store: Pick<SettingsStore, 'overrides'>,
): Promise<SettingLine[]> {
  const rows = await store.overrides();
  const now = mergeSettings(config, rows);
  const base = configSettings(config);
  return SETTING_KEYS.map((key) => {
    const stored = rows.get(key);
    const overridden = stored !== undefined && canonical(key, stored) !== undefined;
    return {
      key,
      env: SETTING_ENV[key],
      value: settingText(key, now),
      default: settingText(key, base),
      source: overridden ? 'console' : 'config',
    };
  });
}

function canonical(key: SettingKey, text: string): string | undefined {
  const r = SETTING_SCHEMAS[key].safeParse(text);
  return r.success ? (typeof r.data === 'boolean' ? (r.data ? 'on' : 'off') : String(r.data)) : undefined;
}

export class SettingValueError extends Error {
  override readonly name = 'SettingValueError';
}

interface SettingsDeps {
  readonly config: SettingsConfig;
  readonly stores: SettingsStores & {
    /** One transaction for the change and its audit entry (core/store/index.ts `Stores.transaction`). */
    transaction<T>(fn: (stores: SettingsStores) => Promise<T>): Promise<T>;
  };
}

interface SettingsStores {
  settings: SettingsStore;
  audit: { record(e: AuditEntry, now: Date): Promise<void> };
}

/** Who changes a setting: 'cli' or a console login, with the console's client IP. */
export interface SettingActor {
  actor: string;
  ip?: string;
}

/**
 * Set one setting and audit it with old → new (these values are not secret): `sealpost settings set` and
 * the console's settings screen call this one function. Throws SettingValueError for a value the key's
 * schema refuses.
 */
export async function setSetting(
  deps: SettingsDeps,
  input: { key: string; value: string },
  who: SettingActor,
  now: Date,
): Promise<SettingLine> {
  const key = settingKeySchema.safeParse(input.key);
  if (!key.success)
    throw new SettingValueError(`unknown setting: expected one of ${SETTING_KEYS.join(', ')}`);
  const parsed = SETTING_SCHEMAS[key.data].safeParse(input.value);
  if (!parsed.success)
    throw new SettingValueError(`${key.data}: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  const text = canonical(key.data, input.value)!;
  const before = await lineOf(deps, key.data);
  // The change and its audit entry commit together: no setting in force that the trail does not show.
  await deps.stores.transaction(async (s) => {
    await s.settings.set(key.data, text, now);
    await s.audit.record(
      { ...who, action: 'settings.set', subject: key.data, detail: `${before.value} -> ${text}` },
      now,
    );
  });
  deps.stores.settings.forget(); // this process sees its own change at once
  return lineOf(deps, key.data);
}

/** Drop an override (the configuration's value applies again) and audit old → new; false when none was set. */
export async function resetSetting(
  deps: SettingsDeps,
  input: { key: string },
  who: SettingActor,
  now: Date,
): Promise<boolean> {
  const key = settingKeySchema.safeParse(input.key);
  if (!key.success)
    throw new SettingValueError(`unknown setting: expected one of ${SETTING_KEYS.join(', ')}`);
  const before = await lineOf(deps, key.data);
  const reset = await deps.stores.transaction(async (s) => {
    if (!(await s.settings.reset(key.data))) return false;
    await s.audit.record(
      { ...who, action: 'settings.reset', subject: key.data, detail: `${before.value} -> ${before.default}` },
      now,
    );
    return true;
  });
  deps.stores.settings.forget();
  return reset;
}

async function lineOf(deps: SettingsDeps, key: SettingKey): Promise<SettingLine> {
  const lines = await settingLines(deps.config, deps.stores.settings);
  return lines.find((l) => l.key === key)!;
}
