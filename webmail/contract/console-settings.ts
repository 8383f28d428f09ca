import * as z from 'zod/mini';

/**
 * The admin's settings and health screen (docs/admin-console.md). Each setting is shown with its variable,
 * the value in force, the configuration's value and whether the value was set in the console; the editable
 * ones (core/settings.ts SETTING_KEYS; test/unit/settings.test.ts keeps the two lists equal) can be set and reset.
 */
export const editableSettingKey = z.enum([
  'practiceName',
  'language',
  'retentionDays',
  'discovery',
  'keyChange',
]);
export const settingLine = z.strictObject({
  key: z.string(),
  env: z.string(),
  value: z.string(),
  /** The configuration's value: what a reset goes back to. */
  default: z.string(),
  source: z.enum(['config', 'console']),
  editable: z.boolean(),
});
export type SettingLineAnswer = z.input<typeof settingLine>;
/** POST /api/console/settings: set one setting (validated per key by core/settings.ts). */
export const settingSetRequest = z.strictObject({
  key: editableSettingKey,
  value: z.string().check(z.maxLength(200)),
});
/** POST /api/console/settings/reset: back to the configuration's value. */
export const settingResetRequest = z.strictObject({ key: editableSettingKey });
/** The answer of both: the setting as it is now. */
export const settingAnswer = z.strictObject({ setting: settingLine });
export type SettingAnswer = z.input<typeof settingAnswer>;
const check = z.strictObject({ state: z.enum(['ok', 'timeout', 'error']) });
export const settingsAnswer = z.strictObject({
  settings: z.array(settingLine),
  health: z.strictObject({
    database: check,
    redis: check,
    relay: z.strictObject({
      lastSuccess: z.nullable(z.string()),
      lastFailure: z.nullable(
        z.strictObject({ at: z.string(), code: z.string(), smtpCode: z.nullable(z.number()) }),
      ),
    }),
    tls: z.nullable(z.strictObject({ expires: z.string(), days: z.number(), selfSigned: z.boolean() })),
    queue: z.strictObject({ queued: z.number(), deferred: z.number(), bounced: z.number() }),
  }),
});
export type SettingsAnswer = z.input<typeof settingsAnswer>;
