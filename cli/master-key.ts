import { ConfigError, loadConfig } from '../core/config.ts';
import { hasMasterKey } from '../core/master-key.ts';
import { newMasterKey } from '../core/seal.ts';
import { rotateMasterKey } from '../keys/index.ts';
import type { ParsedArgs } from './admin.ts';
import { withContext } from './command-context.ts';
import { CommandError, UsageError } from './io.ts';

/**
 * `sealpost master-key new` and `sealpost master-key rotate` (docs/backup.md "Rotating the master key").
 * Rotate runs while the services run: they were restarted with the new key as SEALPOST_MASTER_KEY and the
 * old one as SEALPOST_MASTER_KEY_PREVIOUS, so that they open both while the rows are re-sealed.
 */
export function masterKeyNew(args: ParsedArgs): void {
  if (args.positionals.length > 0) throw new UsageError('master-key new takes no arguments');
  console.log(newMasterKey());
}

export async function masterKeyRotate(args: ParsedArgs): Promise<void> {
  if (args.positionals.length > 0) throw new UsageError('master-key rotate takes no arguments');
  if (!hasMasterKey(loadConfig())) {
    throw new ConfigError(
      'master-key rotate: no current master key (set SEALPOST_MASTER_KEY or SEALPOST_MASTER_KEY_FILE to the ' +
        'key the services run with); rotate never makes a new one',
    );
  }
  const result = await withContext((ctx) =>
    rotateMasterKey(ctx, {
      actor: 'cli',
      // Progress for the operator on stderr; stdout keeps the one summary line for scripts.
      onProgress: (p) => console.error(`resealed ${p.done} of ${p.total} in ${p.table}.${p.column}`),
    }),
  );
  console.log(`master-key rotate: resealed=${result.resealed} skipped=${result.skipped}`);
  if (result.failed.length > 0) {
    // Names the row (table, column, key), never what it holds.
    for (const row of result.failed) console.error(`sealpost: ${row}: opens with no configured master key`);
    throw new CommandError(
      'CLI_MASTER_KEY_UNKNOWN',
      `${result.failed.length} row(s) open with no configured master key: add the key they were sealed ` +
        'with to SEALPOST_MASTER_KEY_PREVIOUS and run rotate again',
    );
  }
}
