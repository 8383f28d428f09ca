import { z } from 'zod';
import { isAddress, newMessageId, normaliseAddress } from '../core/ids.ts';
import { outboundRow, type NewOutboundRow } from '../core/store/index.ts';
import { dkimSignMail } from '../gateway/dkim.ts';
import { receiptMail } from '../gateway/notices.ts';
import { notifyFrom, consoleUrl } from '../gateway/pickup.ts';
import { ContactStore, consoleCodeRow, createCryptoPool, type StalePickup } from '../keys/index.ts';
import type { ParsedArgs } from './admin.ts';
import { openContext, type CliContext } from './command-context.ts';
import { UsageError } from './io.ts';

/**
 * `sealpost contact code|unlock|list`: pickup contacts (docs/pickup.md). A new code means a new key pair;
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
    const result = await contacts.reissue(email, 'cli');
    if (!result) throw new UsageError(`no pickup contact ${email}`);
    console.log(`new access code for ${email}: ${result.code}`);
    console.log('tell it in person or by phone, never by e-mail');
    if (result.stale.length > 0) {
      console.log(`${result.stale.length} earlier message(s) can no longer be opened and should be resent:`);
      for (const s of result.stale) console.log(`  ${new Date(s.createdAt).toISOString()}  ${s.messageId}`);
    }
    const senders = await queueReceipts(ctx, contacts, email, result.code, result.stale);
    if (senders.length) console.log(`receipt queued for ${senders.map((s) => s.address).join(', ')}`);
    for (const s of senders.filter((s) => !s.console)) {
      console.log(`${s.address} has no console key yet: tell her the code yourself`);
    }
  });
}

/** One receipt per sender who wrote to the contact, listing that sender's messages to resend. */
async function queueReceipts(
  ctx: CliContext,
  contacts: ContactStore,
  email: string,
  code: string,
  stale: StalePickup[],
) {
  const { config, sealer } = ctx;
  const wrote = await contacts.senders(email);
  if (!wrote) return [];
  const now = ctx.clock.now();
  const rows: NewOutboundRow[] = [];
  const stores = ctx.db.stores;
  // The old code is dead with the old key: its console entries go; the new one is kept per sender.
  await stores.console.dropCodesFor(email);
  const kept: { address: string; console: boolean }[] = [];
  for (const sender of wrote.senders) {
    const owner = await stores.users.ownerOf(sender);
    const key = owner && (await stores.console.keyOf(owner.id));
    if (owner && key) {
      await stores.console.addCode(
        await consoleCodeRow(ctx, key, { userId: owner.id, contactAddress: email, code, now }),
      );
    }
    kept.push({ address: sender, console: !!key });
    const messageId = newMessageId(config.hostname);
    const fromAddress = notifyFrom(config, sender);
    const receipt = receiptMail({
      language: config.pickup.language,
      from: { name: 'Sealpost', address: fromAddress },
      to: sender,
      messageId,
      date: now,
      recipient: email,
      consoleUrl: consoleUrl(config),
      reissued: true,
      stale: stale
        .filter((s) => s.senderAddress === sender)
        .map((s) => ({ messageId: s.messageId, createdAt: new Date(s.createdAt) })),
    });
    const bytes = await dkimSignMail(config, receipt, fromAddress);
    rows.push(
      outboundRow(
        { sealer, config },
        {
          kind: 'receipt',
          userId: null,
          envelopeFrom: '',
          recipient: sender,
          messageId,
          parts: bytes,
          contactId: wrote.contactId,
        },
        now.getTime(),
      ),
    );
  }
  // One row at a time, as before: a receipt already queued stays queued should a later one fail.
  for (const row of rows) await ctx.db.stores.outbound.add([row]);
  return kept;
}

export async function contactUnlock(args: ParsedArgs): Promise<void> {
  const email = emailArg(args);
  await withContacts(async (_ctx, contacts) => {
    if (!(await contacts.unlock(email, 'cli'))) throw new UsageError(`no pickup contact ${email}`);
    console.log(`${email}: failure count cleared; the access code is unchanged`);
  });
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
