import { z } from 'zod';
import { isAddress, normaliseAddress } from '../core/ids.ts';
import {
  ContactStore,
  createCryptoPool,
  eraseContact,
  issueNewCode,
  unlockContact,
  type ContactActionDeps,
} from '../keys/index.ts';
import type { ParsedArgs } from './admin.ts';
import { openContext, type CliContext } from './command-context.ts';
import { UsageError } from './io.ts';

/**
 * `sealpost contact code|unlock|delete|list`: pickup contacts (docs/pickup.md). A new code means a new key pair;
 * the code is shown to the admin once and kept, encrypted to her console key, for each sender who wrote to
 * the contact (docs/console.md); each gets a receipt — without the code — and the list of messages to resend
 * (queued in the spool; the worker's reconcile job sends it within `delivery.reconcileEverySeconds`).
 */
const address = z.string().transform(normaliseAddress).refine(isAddress, 'expected an e-mail address');

function emailArg(args: ParsedArgs): string {
  const r = address.safeParse(args.positionals[0]);
  if (!r.success) throw new UsageError(`EMAIL: ${r.error.issues[0]?.message ?? 'invalid'}`);
  return r.data;
}

async function withContacts<T>(fn: (ctx: CliContext, contacts: ContactStore) => Promise<T>): Promise<T> {
  const ctx = await openContext();
  // The same crypto pool as the server's (one thread is enough for one contact): one code path for a code.
  const crypto = createCryptoPool({ threads: 1 });
  try {
    return await fn(ctx, new ContactStore({ db: ctx.db.kysely, clock: ctx.clock, crypto }));
  } finally {
    await crypto.close();
    await ctx.close();
  }
}

export async function contactCode(args: ParsedArgs): Promise<void> {
  const email = emailArg(args);
  await withContacts(async (ctx, contacts) => {
    const result = await issueNewCode(actionDeps(ctx, contacts), email, 'cli');
    if (!result) throw new UsageError(`no pickup contact ${email}`);
    console.log(`new access code for ${email}: ${result.code}`);
    console.log('tell it in person or by phone, never by e-mail');
    if (result.stale.length > 0) {
      console.log(`${result.stale.length} earlier message(s) can no longer be opened and should be resent:`);
      for (const s of result.stale) console.log(`  ${new Date(s.createdAt).toISOString()}  ${s.messageId}`);
    }
    const senders = result.senders;
    if (senders.length) console.log(`receipt queued for ${senders.map((s) => s.address).join(', ')}`);
    for (const s of senders.filter((s) => !s.console)) {
      console.log(`${s.address} has no console key yet: tell her the code yourself`);
    }
  });
}

function actionDeps(ctx: CliContext, contacts: ContactStore): ContactActionDeps {
  return { config: ctx.config, sealer: ctx.sealer, clock: ctx.clock, stores: ctx.db.stores, contacts };
}

export async function contactUnlock(args: ParsedArgs): Promise<void> {
  const email = emailArg(args);
  await withContacts(async (ctx, contacts) => {
    if (!(await unlockContact(actionDeps(ctx, contacts), email, 'cli'))) {
      throw new UsageError(`no pickup contact ${email}`);
    }
    console.log(`${email}: failure count cleared; the access code is unchanged`);
  });
}

/** GDPR erasure (keys/contact-actions.ts eraseContact, as the admin console's): counts first, `--yes` deletes. */
export async function contactDelete(args: ParsedArgs): Promise<void> {
  const email = emailArg(args);
  const ctx = await openContext();
  try {
    const dryRun = args.flags.yes !== true;
    const counts = await eraseContact({ db: ctx.db.kysely, clock: ctx.clock }, email, 'cli', { dryRun });
    if (!counts) throw new UsageError(`no pickup contact ${email}`);
    const list = Object.entries(counts)
      .map(([k, v]) => `${k} ${v}`)
      .join(', ');
    console.log(dryRun ? `would delete: ${list}\nrun again with --yes to delete` : `deleted: ${list}`);
  } finally {
    await ctx.close();
  }
}

export async function contactList(): Promise<void> {
  await withContacts(async (ctx, contacts) => {
    const list = await contacts.list();
    if (list.length === 0) console.log('no pickup contacts');
    for (const c of list) {
      const state = c.locked ? 'LOCKED' : c.secretKind === 'passphrase' ? 'own passphrase' : 'access code';
      console.log(`${c.address}  ${c.fingerprint}  ${state}  ${c.pickups} message(s)`);
    }
    await ctx.db.stores.audit.record({ actor: 'cli', action: 'contact.list' }, ctx.clock.now());
  });
}
