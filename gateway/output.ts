import { newMessageId } from '../core/ids.ts';
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
  return mapLimit(direct, BUILD_CONCURRENCY, async (rcpt): Promise<Copy> => {
    if (rcpt.verdict.verdict === 'plain') {
      return { recipient: rcpt.address, kind: 'plain', parts: plainCopy(message) };
    }
    if (!('key' in rcpt) || !sender) throw new Error('pgp recipient without keys'); // never: RCPT checked
    const parts = await ctx.buildPgpMime({
      message,
      signer: sender.signer,
      senderAddress: sender.address,
      recipientKey: rcpt.key,
      now,
      signEncrypt: ctx.signEncrypt,
    });
    return { recipient: rcpt.address, kind: 'pgp', parts };
  });
}

/** Map with at most `limit` calls in flight; rejects with the first error (the others still settle). */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i] as T);
    }
  });
  await Promise.all(workers);
  return results;
}
