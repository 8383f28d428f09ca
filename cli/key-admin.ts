import { z } from 'zod';
import { isAddress, normaliseAddress } from '../core/ids.ts';
import { newSenderKey, RecipientKeyActionError, SenderKeyError } from '../keys/index.ts';
import type { ParsedArgs } from './admin.ts';
import { withContext } from './command-context.ts';
import { UsageError } from './io.ts';

/**
 * `sealpost key generate|rotate|revoke|pin|drop`: the key store's functions that the admin console's keys
 * and sender-keys screens call too (docs/admin-console.md), printed for a person.
 */
const address = z
  .string()
  .transform(normaliseAddress)
  .refine(isAddress, 'expected an e-mail address like anna@praxis.example');
const fingerprint = z
  .string()
  .transform((s) => s.replace(/\s+/g, '').toUpperCase())
  .refine((s) => /^[0-9A-F]{40}$|^[0-9A-F]{64}$/.test(s), 'expected a fingerprint (40 or 64 hex digits)');

function arg<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`${name}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

function usage(err: unknown): never {
  if (err instanceof SenderKeyError || err instanceof RecipientKeyActionError)
    throw new UsageError(err.message);
  throw err;
}

async function generate(args: ParsedArgs, rotate: boolean): Promise<void> {
  const addr = arg(address, args.positionals[0], 'EMAIL');
  const name = args.flags.name === undefined ? undefined : arg(z.string().min(1), args.flags.name, '--name');
  await withContext(async (ctx) => {
    const key = await newSenderKey(ctx, { address: addr, rotate, ...(name ? { name } : {}) }).catch(usage);
    console.log(
      rotate
        ? `rotated the sender key of ${addr}: ${key.fingerprint} signs now; ${key.previous ?? ''} is kept for replies`
        : `generated sender key for ${addr}: ${key.fingerprint}`,
    );
  });
}

export const keyGenerate = (args: ParsedArgs) => generate(args, false);
export const keyRotate = (args: ParsedArgs) => generate(args, true);

export async function keyRevoke(args: ParsedArgs): Promise<void> {
  const target = args.positionals[0] ?? '';
  const parsed = isAddress(normaliseAddress(target))
    ? normaliseAddress(target)
    : arg(fingerprint, target, 'EMAIL|FINGERPRINT');
  await withContext(async (ctx) => {
    const r = await ctx.keys.revokeSenderKey(parsed).catch(usage);
    console.log(
      `revoked sender key ${r.fingerprint} of ${r.addresses.join(', ')}: it signs nothing any more`,
    );
    console.log(
      `next: sealpost key generate ADDRESS (until then mail from ${r.addresses.join(', ')} is refused with 451)`,
    );
  });
}

function recipient(args: ParsedArgs) {
  return {
    address: arg(address, args.positionals[0], 'EMAIL'),
    fingerprint: arg(fingerprint, args.positionals[1], 'FINGERPRINT'),
  };
}

export async function keyPin(args: ParsedArgs): Promise<void> {
  const input = recipient(args);
  await withContext(async (ctx) => {
    await ctx.keys.pinRecipientKey(input).catch(usage);
    console.log(`pinned ${input.fingerprint} for ${input.address}`);
  });
}

export async function keyDrop(args: ParsedArgs): Promise<void> {
  const input = recipient(args);
  await withContext(async (ctx) => {
    await ctx.keys.dropRecipientKey(input).catch(usage);
    console.log(`dropped ${input.fingerprint} for ${input.address}: it is not used any more`);
  });
}
