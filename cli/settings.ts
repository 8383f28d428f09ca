import {
  resetSetting,
  setSetting,
  settingLines,
  SettingValueError,
  type SettingLine,
} from '../core/settings.ts';
import type { ParsedArgs } from './admin.ts';
import { withContext } from './command-context.ts';
import { UsageError } from './io.ts';

/**
 * `sealpost settings [show | set KEY VALUE | reset KEY]`: the settings an admin may change while Sealpost
 * runs (core/settings.ts, docs/configuration.md "Overridden in the console"), with the same functions as
 * the console's settings screen; every change is audited with old -> new (actor 'cli').
 */
type Ctx = Parameters<Parameters<typeof withContext>[0]>[0];

function deps(ctx: Ctx) {
  return { config: ctx.config, stores: ctx.db.stores };
}

function print(l: SettingLine): void {
  const from = l.source === 'console' ? `set in the console (default ${l.default})` : `from ${l.env}`;
  console.log(`${l.key.padEnd(14)} ${l.value.padEnd(24)} ${from}`);
}

export async function settingsShow(): Promise<void> {
  await withContext(async (ctx) => {
    for (const l of await settingLines(ctx.config, ctx.db.stores.settings)) print(l);
  });
}

export async function settingsSet(args: ParsedArgs): Promise<void> {
  const [key, value, ...rest] = args.positionals;
  if (key === undefined || value === undefined || rest.length > 0)
    throw new UsageError('settings set KEY VALUE (one value; quote a name with spaces)');
  await withContext(async (ctx) => {
    const line = await setSetting(deps(ctx), { key, value }, { actor: 'cli' }, ctx.clock.now()).catch(
      (err: unknown) => {
        if (err instanceof SettingValueError) throw new UsageError(err.message);
        throw err;
      },
    );
    print(line);
  });
}

export async function settingsReset(args: ParsedArgs): Promise<void> {
  const [key, ...rest] = args.positionals;
  if (key === undefined || rest.length > 0) throw new UsageError('settings reset KEY');
  await withContext(async (ctx) => {
    const reset = await resetSetting(deps(ctx), { key }, { actor: 'cli' }, ctx.clock.now()).catch(
      (err: unknown) => {
        if (err instanceof SettingValueError) throw new UsageError(err.message);
        throw err;
      },
    );
    console.log(reset ? `${key}: back to the configuration's value` : `${key}: was not set in the console`);
  });
}
