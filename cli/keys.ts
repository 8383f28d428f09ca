import { z } from 'zod';
import { isAddress, normaliseAddress } from '../core/ids.ts';
import { effectiveSettings } from '../core/settings.ts';
import {
  explain,
  ExplainInputError,
  formatExplanation,
  KeyChangeError,
  RecipientKeys,
} from '../keys/index.ts';
import { discoverySettings, KeyDiscovery } from '../keys/discovery/index.ts';
import type { ParsedArgs } from './admin.ts';
import { withContext } from './command-context.ts';
import { UsageError } from './io.ts';

/**
 * `sealpost explain` and the key-change commands. explain asks the same decideRecipient and policy engine
 * as the gateway's RCPT stage (with WKD and VKS when discovery is on), sends nothing and records nothing.
 */
const address = z
  .string()
  .transform(normaliseAddress)
  .refine(isAddress, 'expected an e-mail address like anna@praxis.example');
const explainArgs = z.object({ from: address, to: z.array(address).min(1).max(100) });

export async function explainCommand(args: ParsedArgs): Promise<void> {
  const to = args.flags.to;
  const parsed = explainArgs.safeParse({
    from: args.flags.from,
    to: Array.isArray(to) ? to : to === undefined ? [] : [to],
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new UsageError(`--${String(issue?.path[0] ?? 'to')}: ${issue?.message ?? 'invalid'}`);
  }
  await withContext(async (ctx) => {
    const discovery = (await effectiveSettings(ctx)).discovery
      ? new KeyDiscovery({
          settings: discoverySettings(ctx.config.discovery),
          clock: ctx.clock,
          log: ctx.log,
        })
      : undefined;
    const recipients = new RecipientKeys({ keys: ctx.keys, discovery, log: ctx.log, clock: ctx.clock });
    try {
      const answer = await explain(
        { keys: ctx.keys, recipients, rules: ctx.rules, config: ctx.config, log: ctx.log },
        parsed.data,
      );
      console.log(args.flags.json === true ? JSON.stringify(answer, null, 2) : formatExplanation(answer));
    } catch (err) {
      if (err instanceof ExplainInputError) throw new UsageError(err.message);
      throw err;
    }
  });
}

export async function keyChanges(args: ParsedArgs): Promise<void> {
  const all = args.flags.all === true;
  await withContext(async (ctx) => {
    const changes = await ctx.keys.listKeyChanges({ status: all ? 'all' : 'held' });
    if (changes.length === 0) {
      console.log(all ? 'no key changes' : 'no key changes wait for a decision');
      return;
    }
    for (const c of changes) {
      console.log(
        `${c.id}  ${c.status.padEnd(8)}  ${c.address}  ${c.oldFingerprint} -> ${c.newFingerprint}  ` +
          `(${c.source}${c.sourceUrl ? ` ${c.sourceUrl}` : ''}, ${c.createdAt.toISOString()}` +
          `${c.decidedBy ? `, by ${c.decidedBy}` : ''})`,
      );
    }
  });
}

const changeId = z.string().uuid('expected the id of a key change (see: sealpost key changes)');

async function decide(args: ParsedArgs, decision: 'approve' | 'reject'): Promise<void> {
  const parsed = changeId.safeParse(args.positionals[0]);
  if (!parsed.success) throw new UsageError(`ID: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  await withContext(async (ctx) => {
    try {
      const c = await ctx.keys.decideKeyChange(parsed.data, decision, 'cli');
      console.log(
        decision === 'approve'
          ? `approved: ${c.address} now uses ${c.newFingerprint}`
          : `rejected: ${c.newFingerprint} will not be used for ${c.address}`,
      );
    } catch (err) {
      if (err instanceof KeyChangeError) throw new UsageError(err.message);
      throw err;
    }
  });
}

export const keyApprove = (args: ParsedArgs) => decide(args, 'approve');
export const keyReject = (args: ParsedArgs) => decide(args, 'reject');
