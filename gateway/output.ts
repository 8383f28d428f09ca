import { newMessageId } from '../core/ids.ts';
import { errName } from '../core/log.ts';
import { ChunkWriter } from '../core/store/outbound-chunks.ts';
import type { SpooledChunks } from '../core/store/outbound.ts';
import {
  plainCopy,
  prepare,
  type PreparedMessage,
  type SigningKey,
  type SplitMessage,
} from '../keys/index.ts';
import type { AcceptedRecipient, GatewayContext } from './submission-context.ts';

/**
 * The per-recipient output builders (DESIGN.md "The gateway pipeline", step 4). Every copy is built in
 * memory before anything is written. A pgp recipient gets its own RFC 3156 message (one per recipient,
 * so that no copy names another's key and Bcc stays hidden); a plain recipient gets the original bytes
 * without Bcc. There is no path from a failed encryption to a plain copy: an error propagates.
 */
export interface Copy {
  recipient: string;
  kind: 'pgp' | 'plain';
  /** The copy's bytes in order; joined only by sealing, so a large message is not copied once more. */
  parts: Buffer[];
  /**
   * A large pgp copy was written to the spool as sealed chunks while it was encrypted (`parts` is empty):
   * its row takes this id. The chunks stay orphans until that row commits; on failure they are dropped.
   */
  chunked?: SpooledChunks;
}

/** Encryption is CPU-bound; a few at a time keep one big message from starving every other session. */
export const BUILD_CONCURRENCY = 4;

/** `author`: the From field's value to add when the message has none (the envelope sender). */
export function prepareMessage(
  ctx: GatewayContext,
  split: SplitMessage,
  input: { now: Date; author: string },
): PreparedMessage {
  const hostname = ctx.deps.config.hostname;
  return prepare(split, { ...input, newMessageId: () => newMessageId(hostname) });
}

export async function buildCopies(
  ctx: GatewayContext,
  input: {
    message: PreparedMessage;
    recipients: readonly AcceptedRecipient[];
    sender: { address: string; signer: SigningKey } | undefined;
    now: Date;
  },
): Promise<Copy[]> {
  const { message, sender, now } = input;
  const direct = input.recipients.filter((r) => r.verdict.verdict !== 'pickup');
  const writers: ChunkWriter[] = [];
  try {
    return await mapLimit(direct, BUILD_CONCURRENCY, async (rcpt): Promise<Copy> => {
      if (rcpt.verdict.verdict === 'plain') {
        return { recipient: rcpt.address, kind: 'plain', parts: plainCopy(message) };
      }
      if (!('key' in rcpt) || !sender) throw new Error('pgp recipient without keys'); // never: RCPT checked
      // A large copy goes to the spool in sealed chunks as openpgp.js streams it out (never held whole);
      // a small one comes back as parts and is sealed into its row (the fast path).
      const writer = new ChunkWriter(ctx.deps, now.getTime());
      writers.push(writer);
      const parts = await ctx.buildPgpMime({
        message,
        signer: sender.signer,
        senderAddress: sender.address,
        recipientKey: rcpt.key,
        now,
        signEncrypt: ctx.signEncrypt,
        sink: (chunk) => writer.write(chunk),
      });
      if (!writer.started) return { recipient: rcpt.address, kind: 'pgp', parts };
      // Fail closed: a copy is either in chunks or in parts, never split between them.
      if (parts.length > 0) throw new Error('copy both chunked and in parts');
      return { recipient: rcpt.address, kind: 'pgp', parts: [], chunked: await writer.end() };
    });
  } catch (err) {
    // mapLimit settles every call before it rejects: no writer adds a chunk after this.
    await dropChunks(
      ctx,
      writers.filter((w) => w.started).map((w) => w.id),
    );
    throw err;
  }
}

/**
 * Drop the chunks of copies whose message failed (best effort: the worker's sweep takes what is left).
 * A copy whose row a commit of unknown outcome did write keeps its body (`dropUncommitted`).
 */
export async function dropChunks(ctx: GatewayContext, ids: readonly string[]): Promise<void> {
  for (const id of ids) {
    await ctx.deps.db.stores.outbound.chunks.dropUncommitted(id).catch((err: unknown) => {
      ctx.deps.log.warn('GW_CHUNKS_LEFT', { id, errName: errName(err) });
    });
  }
}

/**
 * Map with at most `limit` calls in flight; after a failure no new call starts, and it rejects with the
 * first error once the calls in flight have settled (so that a caller can clean up after all of them).
 */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  let failure: { err: unknown } | undefined;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length && !failure) {
      const i = next++;
      try {
        results[i] = await fn(items[i] as T);
      } catch (err) {
        failure ??= { err };
      }
    }
  });
  await Promise.all(workers);
  if (failure) throw failure.err;
  return results;
}
