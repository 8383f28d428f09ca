import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { redactedConfig, loadConfig } from '../core/config.ts';
import { isAddress, normaliseAddress } from '../core/ids.ts';
import { removePolicyRule, setPolicyRule } from '../core/policy-rules.ts';
import { ensureConsoleKey, inThreadCrypto, KeyImportError } from '../keys/index.ts';
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

/** Make her console key from the password just typed (in this thread: one Argon2id, once). */
async function consoleKeyFor(
  ctx: Parameters<Parameters<typeof withContext>[0]>[0],
  user: { id: string; login: string },
  password: string,
): Promise<void> {
  await ensureConsoleKey(
    { stores: ctx.db.stores, crypto: inThreadCrypto(), clock: ctx.clock },
    user,
    password,
  );
}

export async function userAdd(args: ParsedArgs): Promise<void> {
  const login = arg(address, args.positionals[0], 'EMAIL');
  const name = args.flags.name === undefined ? undefined : arg(z.string().min(1), args.flags.name, '--name');
  const password = await readPassword(`Password for ${login}: `);
  await withContext(async (ctx) => {
    if (await ctx.users.find(login)) throw new UsageError(`user ${login} exists already`);
    const user = await ctx.users
      .add(
        { login, password, isAdmin: args.flags.admin === true, ...(name ? { displayName: name } : {}) },
        ctx.clock.now(),
      )
      .catch((err: Error) => {
        throw new UsageError(err.message);
      });
    await ctx.db.stores.audit.record({ actor: 'cli', action: 'user.add', subject: login }, ctx.clock.now());
    // Her console key, locked by this password (docs/console.md): codes for her can be kept from now on.
    await consoleKeyFor(ctx, user, password);
    console.log(`added ${user.isAdmin ? 'admin' : 'user'} ${login}`);
    if (!(await ctx.keys.senderKey(login))) {
      console.log(`next: sealpost key generate ${login}   (or import the sender's key)`);
    }
  });
}

export async function userPasswd(args: ParsedArgs): Promise<void> {
  const login = arg(address, args.positionals[0], 'EMAIL');
  const password = await readPassword(`New password for ${login}: `);
  await withContext(async (ctx) => {
    const ok = await ctx.users.setPassword(login, password).catch((err: Error) => {
      throw new UsageError(err.message);
    });
    if (!ok) throw new UsageError(`no such user: ${login}`);
    // Her console key was locked by the old password: it and the codes encrypted to it go (docs/console.md);
    // her next login makes a new one, and new codes are issued with `contact code`.
    const user = await ctx.users.find(login);
    if (user) {
      await ctx.db.stores.console.dropKey(user.id);
      await consoleKeyFor(ctx, user, password);
    }
    await ctx.db.stores.audit.record(
      { actor: 'cli', action: 'user.passwd', subject: login },
      ctx.clock.now(),
    );
    console.log(`password of ${login} changed`);
    console.log('access codes waiting in the console are no longer readable: issue new ones (contact code)');
  });
}

export async function userAlias(args: ParsedArgs): Promise<void> {
  const login = arg(address, args.positionals[0], 'EMAIL');
  const alias = arg(address, args.positionals[1], 'ADDRESS');
  await withContext(async (ctx) => {
    await ctx.users.addAddress(login, alias, ctx.clock.now()).catch((err: Error) => {
      throw new UsageError(
        err.message.includes('no such user') ? err.message : `${alias} belongs to a user already`,
      );
    });
    await ctx.db.stores.audit.record(
      { actor: 'cli', action: 'user.alias', subject: login, detail: alias },
      ctx.clock.now(),
    );
    console.log(`${login} may now send as ${alias}`);
  });
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

export async function keyGenerate(args: ParsedArgs): Promise<void> {
  const addr = arg(address, args.positionals[0], 'EMAIL');
  const flag = args.flags.name === undefined ? undefined : arg(z.string().min(1), args.flags.name, '--name');
  await withContext(async (ctx) => {
    // The User ID is `Name <address>` (what a client's mail program shows): --name, else the user's name.
    const name = flag ?? (await ctx.users.displayName(addr));
    const key = await ctx.keys.generateSenderKey(addr, name);
    console.log(`generated sender key for ${addr}: ${key.fingerprint}`);
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
