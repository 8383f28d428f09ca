import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { redactedConfig, loadConfig } from '../core/config.ts';
import { isAddress, normaliseAddress } from '../core/ids.ts';
import QRCode from 'qrcode';
import {
  addSenderAddress,
  addUser,
  enrolTotpNow,
  inThreadCrypto,
  KeyImportError,
  resetUserPassword,
  resetUserTotp,
  setUserDisabled,
  UserActionError,
  type UserAdminDeps,
} from '../keys/index.ts';
import { removePolicyRule, setPolicyRule } from '../core/policy-rules.ts';
import { withContext } from './command-context.ts';
import { readPassword, readStdin, UsageError } from './io.ts';

/** Admin commands: each validates its arguments with zod, opens the context, prints for a person. */
export interface ParsedArgs {
  positionals: string[];
  flags: Record<string, string | string[] | boolean | undefined>;
}

const address = z
  .string()
  .transform(normaliseAddress)
  .refine(isAddress, 'expected an e-mail address like anna@praxis.example');

function arg<T>(schema: z.ZodType<T>, value: unknown, name: string): T {
  const result = schema.safeParse(value);
  if (!result.success) throw new UsageError(`${name}: ${result.error.issues[0]?.message ?? 'invalid'}`);
  return result.data;
}

type Ctx = Parameters<Parameters<typeof withContext>[0]>[0];

/** The shared user actions' deps (keys/user-admin.ts): her console key is made in this thread. */
function userDeps(ctx: Ctx): UserAdminDeps {
  return { stores: ctx.db.stores, sealer: ctx.sealer, clock: ctx.clock, crypto: inThreadCrypto() };
}

/** The shared actions' refusals (exists, no such user, weak password, address taken) are usage errors. */
function usage(err: unknown): never {
  if (err instanceof UserActionError) throw new UsageError(err.message);
  throw err;
}

async function audit(ctx: Ctx, action: string, subject: string, detail?: string): Promise<void> {
  await ctx.db.stores.audit.record(
    { actor: 'cli', action, subject, ...(detail ? { detail } : {}) },
    ctx.clock.now(),
  );
}

export async function userAdd(args: ParsedArgs): Promise<void> {
  const login = arg(address, args.positionals[0], 'EMAIL');
  const name = args.flags.name === undefined ? undefined : arg(z.string().min(1), args.flags.name, '--name');
  const isAdmin = args.flags.admin === true;
  const password = await readPassword(`Password for ${login}: `);
  await withContext(async (ctx) => {
    // Her console key is made from this password (docs/console.md): codes for her can be kept from now on.
    const user = await addUser(userDeps(ctx), {
      login,
      password,
      isAdmin,
      ...(name ? { displayName: name } : {}),
    }).catch(usage);
    await audit(ctx, 'user.add', login);
    console.log(`added ${user.isAdmin ? 'admin' : 'user'} ${login}`);
    // An admin never signs in to the console without TOTP: enrolled here, shown this once.
    if (isAdmin) await printTotpEnrolment(ctx, user);
    if (!(await ctx.keys.senderKey(login))) {
      console.log(`next: sealpost key generate ${login}   (or import the sender's key)`);
    }
  });
}

async function printTotpEnrolment(ctx: Ctx, user: { id: string; login: string }): Promise<void> {
  const uri = await enrolTotpNow(userDeps(ctx), user);
  await audit(ctx, 'user.totp-enrolled', user.login);
  console.log('');
  console.log('Two-factor sign-in (required for admins): scan this QR code with an authenticator app,');
  console.log('or enter the otpauth:// URI below. It is shown this once.');
  console.log(await QRCode.toString(uri, { type: 'terminal', small: true }));
  console.log(uri);
  console.log('');
}

export async function userPasswd(args: ParsedArgs): Promise<void> {
  const login = arg(address, args.positionals[0], 'EMAIL');
  const password = await readPassword(`New password for ${login}: `);
  await withContext(async (ctx) => {
    // Her console key was locked by the old password: a new one is made from this one (docs/console.md);
    // codes encrypted to the old key show as unreadable in her console, which offers to issue new ones.
    await resetUserPassword(userDeps(ctx), login, password).catch(usage);
    await audit(ctx, 'user.passwd', login);
    console.log(`password of ${login} changed`);
    console.log('access codes waiting in her console are no longer readable: she issues new ones there');
  });
}

export async function userAlias(args: ParsedArgs): Promise<void> {
  const login = arg(address, args.positionals[0], 'EMAIL');
  const alias = arg(address, args.positionals[1], 'ADDRESS');
  await withContext(async (ctx) => {
    await addSenderAddress(userDeps(ctx), login, alias).catch(usage);
    await audit(ctx, 'user.alias', login, alias);
    console.log(`${login} may now send as ${alias}`);
  });
}

/** `user disable|enable EMAIL` and `user totp-reset EMAIL`: the console's buttons, on the server. */
export function userSwitch(what: 'disable' | 'enable' | 'totp-reset') {
  return async (args: ParsedArgs): Promise<void> => {
    const login = arg(address, args.positionals[0], 'EMAIL');
    await withContext(async (ctx) => {
      const deps = userDeps(ctx);
      if (what === 'totp-reset') await resetUserTotp(deps, login).catch(usage);
      else await setUserDisabled(deps, login, what === 'disable').catch(usage);
      await audit(ctx, `user.${what}`, login);
      console.log(`${login}: ${what === 'totp-reset' ? 'TOTP reset' : `${what}d`}`);
    });
  };
}

export async function userList(): Promise<void> {
  await withContext(async (ctx) => {
    for (const u of await ctx.users.list()) {
      console.log(
        `${u.login}${u.isAdmin ? ' (admin)' : ''}${u.disabled ? ' (disabled)' : ''}  sends as: ${u.addresses.join(', ')}`,
      );
    }
  });
}

export async function keyImport(args: ParsedArgs): Promise<void> {
  const source = arg(z.string().min(1), args.positionals[0], 'FILE (or - for standard input)');
  let data: Buffer;
  try {
    data = source === '-' ? await readStdin() : readFileSync(source);
  } catch (err) {
    throw new UsageError(`cannot read ${source}: ${(err as Error).message}`);
  }
  const text = data.toString('latin1');
  const input = text.includes('-----BEGIN PGP') ? data.toString('utf8') : new Uint8Array(data);
  await withContext(async (ctx) => {
    try {
      for (const r of await ctx.keys.importKeys(input)) {
        console.log(`imported ${r.kind} key ${r.fingerprint} for ${r.addresses.join(', ')}`);
      }
    } catch (err) {
      if (err instanceof KeyImportError) throw new UsageError(err.message);
      throw err;
    }
  });
}

export async function keyExport(args: ParsedArgs): Promise<void> {
  const addr = arg(address, args.positionals[0], 'EMAIL');
  await withContext(async (ctx) => {
    const armored = await ctx.keys.exportPublic(addr);
    if (!armored) throw new UsageError(`no key for ${addr}`);
    process.stdout.write(armored.endsWith('\n') ? armored : `${armored}\n`);
  });
}

export async function keyList(): Promise<void> {
  await withContext(async (ctx) => {
    const rows = await ctx.keys.list();
    if (rows.length === 0) console.log('no keys yet');
    for (const k of rows)
      console.log(`${k.kind.padEnd(9)} ${k.address.padEnd(32)} ${k.fingerprint}  ${k.source}  ${k.status}`);
  });
}

export async function policySet(args: ParsedArgs): Promise<void> {
  const match = args.positionals[0];
  const action = args.positionals[1];
  await withContext(async (ctx) => {
    const rule = await setPolicyRule(
      { rules: ctx.rules, audit: ctx.db.stores.audit },
      {
        match: match ?? '',
        action: action ?? '',
        ...(typeof args.flags.note === 'string' ? { note: args.flags.note } : {}),
        ...(typeof args.flags.reason === 'string' ? { reason: args.flags.reason } : {}),
      },
      { actor: 'cli' },
      ctx.clock.now(),
    ).catch((err: unknown) => {
      if (err instanceof z.ZodError)
        throw new UsageError(`policy set MATCH plain|reject: ${err.issues[0]?.message ?? ''}`);
      throw err;
    });
    console.log(`rule: ${rule.match} -> ${rule.action}`);
  });
}

export async function policyRemove(args: ParsedArgs): Promise<void> {
  await withContext(async (ctx) => {
    const match = args.positionals[0] ?? '';
    const stores = { rules: ctx.rules, audit: ctx.db.stores.audit };
    const removed = await removePolicyRule(stores, match, { actor: 'cli' }, ctx.clock.now()).catch(() => {
      throw new UsageError('policy remove MATCH');
    });
    if (!removed) throw new UsageError(`no rule for ${match}`);
    console.log(`removed rule for ${match}`);
  });
}

export async function policyList(): Promise<void> {
  await withContext(async (ctx) => {
    const rules = await ctx.rules.list();
    if (rules.length === 0) console.log('no rules: every recipient needs a usable OpenPGP key');
    for (const r of rules)
      console.log(
        `${r.match.padEnd(32)} ${r.action}${r.note ? `  # ${r.note}` : ''}${r.reason ? `  (reason: ${r.reason})` : ''}`,
      );
  });
}

export async function queueStatus(): Promise<void> {
  await withContext(async (ctx) => {
    const rows = await ctx.db.stores.outbound.statusCounts();
    if (rows.length === 0) console.log('the spool is empty');
    for (const r of rows) console.log(`${r.status.padEnd(10)} ${r.kind.padEnd(6)} ${r.n}`);
  });
}

export function configShow(): void {
  console.log(JSON.stringify(redactedConfig(loadConfig()), null, 2));
}
