import * as z from 'zod/mini';

/** The admin's settings and health screen (docs/admin-console.md). Settings are shown with their variable. */
export const settingLine = z.strictObject({ key: z.string(), env: z.string(), value: z.string() });
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
