import { pipeline } from 'node:stream/promises';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { smtpError } from '../../core/errors.ts';
import { errName } from '../../core/log.ts';
import { MimeError } from '../../keys/index.ts';
import { GATEWAY_REPLY_CODES, sessionState, type GatewayContext, type Transaction } from '../context.ts';
import { answerData } from '../reply.ts';
import type { PreparedMessage } from '../../keys/index.ts';
import { BUILD_CONCURRENCY, buildCopies, mapLimit, prepareMessage, type Copy } from '../output.ts';
import { buildPickup, type PickupCopy } from '../pickup.ts';
import { spool } from '../spool.ts';

/**
 * Stage 4, DATA: read the message with a size cap, build every recipient's copy in memory, commit all
 * copies in one transaction, enqueue, and only then answer 250. Any failure before the commit answers
 * 451 and stores nothing (DESIGN.md invariants 1 and 3).
 */
/**
 * With Redis down, BullMQ waits for it indefinitely; the client must not. After this many milliseconds the
 * message is answered 250 anyway: it is committed, and reconcile enqueues it once Redis is back.
 */
const ENQUEUE_TIMEOUT_MS = 3_000;
const EMPTY = Buffer.alloc(0);

class EnqueueTimeout extends Error {
  override name = 'EnqueueTimeout';
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new EnqueueTimeout()), ms);
  });
  work.catch(() => undefined); // a late failure after the timeout is already logged as a timeout
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export function onData(ctx: GatewayContext) {
  return (
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    callback: (err?: Error | null, message?: string) => void,
  ): void => {
    answerData(ctx.deps.log, GATEWAY_REPLY_CODES, session, () => data(ctx, stream, session), callback);
  };
}

async function data(ctx: GatewayContext, stream: SMTPServerDataStream, session: SMTPServerSession) {
  const { log, clock } = ctx.deps;
  const state = sessionState(ctx, session);
  const tx = state.tx;
  state.tx = undefined; // one DATA per transaction, whatever happens below
  const read = await readCapped(stream, ctx.deps.config.limits.maxMessageBytes);
  if (read.exceeded) {
    log.info('GW_SIZE_EXCEEDED', { session: session.id, bytes: stream.byteLength });
    throw smtpError('GW_SIZE_EXCEEDED');
  }
  const user = state.user;
  if (!user || !tx || tx.recipients.length === 0) throw smtpError('GW_AUTH_REQUIRED');

  const now = clock.now();
  const bytes = read.raw.length;
  const started = Date.now();
  const { copies, pickups, messageId } = await encrypt(ctx, read, tx, now);
  const { batchId, ids } = await spool(ctx, {
    copies,
    pickups,
    userId: user.id,
    envelopeFrom: tx.mailFrom,
    messageId,
    now,
  });
  // Committed: from here on the message is accepted whatever else fails (the DB is the spool).
  try {
    await withTimeout(ctx.deps.enqueue(ids), ENQUEUE_TIMEOUT_MS);
  } catch (err) {
    log.warn('GW_ENQUEUE_FAILED', {
      session: session.id,
      id: batchId,
      count: ids.length,
      errName: errName(err),
    });
  }
  log.info('GW_ACCEPTED', {
    session: session.id,
    id: batchId,
    user: user.login,
    from: tx.mailFrom,
    count: ids.length,
    bytes,
    ms: Date.now() - started,
  });
  return smtpError('GW_ACCEPTED', `batch ${batchId}`).message;
}

/**
 * Build every copy. The plaintext lives only in here: `read` lets go of it at once, so that a large
 * message is garbage by the time its sealed copies are written.
 */
async function encrypt(
  ctx: GatewayContext,
  read: { raw: Buffer },
  tx: Transaction,
  now: Date,
): Promise<{ copies: Copy[]; pickups: PickupCopy[]; messageId: string }> {
  let message;
  try {
    message = prepareMessage(ctx, read.raw, now);
  } catch (err) {
    if (err instanceof MimeError) throw smtpError('GW_MESSAGE_INVALID');
    throw err;
  } finally {
    read.raw = EMPTY;
  }
  const copies = await buildCopies(ctx, {
    message,
    recipients: tx.recipients,
    sender: tx.sender && { address: tx.mailFrom, signer: tx.sender.signer },
    now,
  });
  const pickups = await buildPickups(ctx, message, tx, now);
  return { copies, pickups, messageId: message.messageId };
}

async function buildPickups(
  ctx: GatewayContext,
  message: PreparedMessage,
  tx: Transaction,
  now: Date,
): Promise<PickupCopy[]> {
  const wanted = tx.recipients.flatMap((r) => (r.verdict.verdict === 'pickup' && 'contact' in r ? [r] : []));
  if (wanted.length === 0) return [];
  if (!tx.sender) throw new Error('pickup without a sender key'); // never: RCPT checked
  const sender = {
    address: tx.mailFrom,
    name: (await ctx.users.displayName(tx.mailFrom)) ?? ctx.deps.config.practiceName,
    signer: tx.sender.signer,
  };
  return mapLimit(wanted, BUILD_CONCURRENCY, (r) =>
    buildPickup(ctx, { message, recipient: r.address, contact: r.contact, sender, now }),
  );
}

/**
 * Drain the whole stream (smtp-server waits for its end before replying) but keep at most `cap` bytes:
 * never buffer unbounded input from a peer. smtp-server sets `sizeExceeded` past its `size` option, which
 * is the same cap; the local check covers a stream that ends exactly past our count.
 */
async function readCapped(
  stream: SMTPServerDataStream,
  cap: number,
): Promise<{ raw: Buffer; exceeded: boolean }> {
  // (`raw` is mutable so that the caller can let go of the message once it is encrypted.)
  const chunks: Buffer[] = [];
  let kept = 0;
  let over = false;
  await pipeline(stream, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      if (over) continue;
      if (kept + chunk.length > cap) {
        over = true;
        chunks.length = 0; // release what we held: this message will be refused
        continue;
      }
      chunks.push(chunk);
      kept += chunk.length;
    }
  });
  return { raw: Buffer.concat(chunks, kept), exceeded: over || stream.sizeExceeded };
}
