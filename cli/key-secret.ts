import { isAddress, normaliseAddress } from '../core/ids.ts';
import type { ParsedArgs } from './admin.ts';
import { withContext } from './command-context.ts';
import { CommandError, readNewPassphrase, UsageError } from './io.ts';

/**
 * `sealpost key export --secret EMAIL` (issue 13): her private sender key, so that she can read PGP/MIME
 * (pickup replies where no inbound relay is set) in her own mail program. Armored on stdout, locked with a
 * passphrase she types twice (no echo on a terminal; the first two lines of stdin otherwise). An empty or
 * mismatched passphrase is refused before the database is even opened: the key never leaves unlocked.
 * The audit trail records who exported which key (fingerprint); no log line holds key material.
 */
export async function keyExportSecret(args: ParsedArgs): Promise<void> {
  const given = args.positionals[0];
  if (args.positionals.length !== 1 || given === undefined || !isAddress(normaliseAddress(given)))
    throw new UsageError('key export --secret EMAIL: expected one e-mail address like anna@praxis.example');
  const addr = normaliseAddress(given);
  const [first, second] = await readNewPassphrase([
    `Passphrase for the private key of ${addr}: `,
    'The same passphrase again: ',
  ]);
  if (first.length === 0)
    throw new CommandError(
      'CLI_PASSPHRASE_EMPTY',
      'an empty passphrase would leave the private key in clear',
    );
  if (first !== second) throw new CommandError('CLI_PASSPHRASE_MISMATCH', 'the two passphrases differ');
  await withContext(async (ctx) => {
    const exported = await ctx.keys.exportSecret(addr, first);
    if (!exported) throw new CommandError('CLI_NO_SENDER_KEY', `${addr} has no sender key`);
    await ctx.db.stores.audit.record(
      { actor: 'cli', action: 'key.export-secret', subject: addr, detail: exported.fingerprint },
      ctx.clock.now(),
    );
    ctx.log.warn('KEY_SECRET_EXPORTED', { user: addr, fingerprint: exported.fingerprint });
    process.stdout.write(exported.armored.endsWith('\n') ? exported.armored : `${exported.armored}\n`);
  });
}
