import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { acceptedReply, smtpError } from '../../core/errors.ts';
import { errName } from '../../core/log.ts';
import type { Insertable } from 'kysely';
import type { SentSubjectsTable } from '../../core/db/schema.ts';
import { newId } from '../../core/ids.ts';
import { effectiveSettings } from '../../core/settings.ts';
import {
  authorProblem,
  MimeError,
  sentSubjectRow,
  subjectOf,
  type PreparedMessage,
  type SplitMessage,
} from '../../keys/index.ts';
import { sessionState, type GatewayContext, type Transaction } from '../submission-context.ts';
import { atEdge, readData, type Received } from '../edge.ts';
import { encodeWord } from '../../keys/index.ts';
import { answerData } from '../smtp-reply.ts';
import {
  BUILD_CONCURRENCY,
  buildCopies,
  dropChunks,
  mapLimit,
  prepareMessage,
  type Copy,
} from '../output.ts';
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
    answerData(ctx.listener, session, () => data(ctx, stream, session), callback);
  };
}

async function data(ctx: GatewayContext, stream: SMTPServerDataStream, session: SMTPServerSession) {
  const state = sessionState(ctx, session);
  const tx = state.tx;
  state.tx = undefined; // one DATA per transaction, whatever happens below
  const read = await readData(ctx.listener, session.id, stream, ctx.deps.config.limits.maxMessageBytes);
  // `accept` gives the message's memory back once its copies are committed. Not on a failure: a failure
  // may leave work that still reads the message (a socket write, a crypto job) in flight, and after
  // release() its pages are gone — that buffer is left to the garbage collector instead.
  return accept(ctx, session, read, { tx, user: state.user, endOfData: performance.now() });
}

async function accept(
  ctx: GatewayContext,
  session: SMTPServerSession,
  read: Received,
  input: { tx: Transaction | undefined; user: { id: string; login: string } | undefined; endOfData: number },
): Promise<string> {
  const { log, clock } = ctx.deps;
  const { tx, user, endOfData } = input;
  if (!user || !tx || tx.recipients.length === 0) throw smtpError('GW_AUTH_REQUIRED');
  const bytes = read.raw.length;
  const reading = atEdge(ctx.listener, session.id, read.raw);
  // A message with bare line ends was copied to CRLF: what was read is no longer needed.
  if (reading.raw.buffer !== read.raw.buffer) read.release();
  const edge = { split: reading.split };
  const author = await checkAuthor(ctx, edge.split, user, tx, session.id);

  const now = clock.now();
  const started = Date.now();
  const batchId = newId();
  const { copies, pickups, messageId, subject } = await encrypt(ctx, edge, {
    tx,
    now,
    author,
    userId: user.id,
    batchId,
  });
  const { ids } = await spool(ctx, {
    copies,
    pickups,
    userId: user.id,
    envelopeFrom: tx.mailFrom,
    messageId,
    now,
    batchId,
    sent: { recipients: tx.recipients, ...(subject ? { subject } : {}) },
  });
  // The copies are sealed and committed (plain ones were views of the message): give its memory back now,
  // before the worker starts on them, not at the next garbage collection.
  read.release();
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
  const verdicts = verdictCounts(tx);
  ctx.deps.metrics?.accepted(verdicts, (performance.now() - endOfData) / 1000);
  return acceptedReply(verdicts, batchId).message;
}

/** How many recipients each way goes (the 250 says it: finding 6c of issue 11). */
function verdictCounts(tx: Transaction): Record<'pgp' | 'pickup' | 'plain', number> {
  const counts = { pgp: 0, pickup: 0, plain: 0 };
  for (const r of tx.recipients) counts[r.verdict.verdict]++;
  return counts;
}

/**
 * The header `From:` (and `Sender:`) must be one of the user's own addresses, as the envelope's is
 * (keys/mime/author.ts): 553 GW_FROM_NOT_ALLOWED otherwise. Returns the From value to add when there is none:
 * the envelope sender with its display name.
 */
async function checkAuthor(
  ctx: GatewayContext,
  split: SplitMessage,
  user: { id: string; login: string },
  tx: Transaction,
  session: string,
): Promise<string> {
  const allowed = new Set((await ctx.users.addresses(user.id)).map((a) => a.address));
  const verdict = authorProblem(split.fields, allowed);
  if (!verdict.ok) {
    ctx.deps.log.warn('GW_FROM_NOT_ALLOWED', { session, user: user.login, reason: verdict.problem });
    throw smtpError('GW_FROM_NOT_ALLOWED', verdict.problem);
  }
  const name = await ctx.users.displayName(tx.mailFrom);
  // (one line: makeField folds nothing; adjacent encoded words may stand on one line, RFC 2047 §2)
  return name ? `${encodeWord(name).replace(/\r\n /g, ' ')} <${tx.mailFrom}>` : `<${tx.mailFrom}>`;
}

/**
 * Build every copy. The plaintext lives only in here: `edge` lets go of it at once, so that a large
 * message is garbage by the time its sealed copies are written.
 */
async function encrypt(
  ctx: GatewayContext,
  edge: { split?: SplitMessage },
  input: { tx: Transaction; now: Date; author: string; userId: string; batchId: string },
): Promise<{
  copies: Copy[];
  pickups: PickupCopy[];
  messageId: string;
  subject?: Insertable<SentSubjectsTable>;
}> {
  const { tx, now, userId } = input;
  let message;
  try {
    message = prepareMessage(ctx, edge.split!, { now, author: input.author });
  } catch (err) {
    if (err instanceof MimeError) throw smtpError('GW_MESSAGE_INVALID');
    throw err;
  } finally {
    edge.split = undefined;
  }
  const copies = await buildCopies(ctx, {
    message,
    recipients: tx.recipients,
    sender: tx.sender && { address: tx.mailFrom, signer: tx.sender.signer },
    now,
  });
  try {
    const pickups = await buildPickups(ctx, message, tx, userId, now);
    const subject = await sealedSubject(ctx, message, { userId, batchId: input.batchId, now });
    return { copies, pickups, messageId: message.messageId, ...(subject ? { subject } : {}) };
  } catch (err) {
    // Large copies are already in the spool as chunks of rows that will never be written.
    await dropChunks(
      ctx,
      copies.flatMap((c) => (c.chunked ? [c.chunked.id] : [])),
    );
    throw err;
  }
}

/** The subject for her sent list, encrypted to her console key; none without a subject or a console key. */
async function sealedSubject(
  ctx: GatewayContext,
  message: PreparedMessage,
  input: { userId: string; batchId: string; now: Date },
): Promise<Insertable<SentSubjectsTable> | undefined> {
  const subject = subjectOf(message.split);
  if (!subject) return undefined;
  const key = await ctx.deps.db.stores.console.keyOf(input.userId);
  return key && sentSubjectRow(ctx.deps, key, { ...input, subject });
}

async function buildPickups(
  ctx: GatewayContext,
  message: PreparedMessage,
  tx: Transaction,
  userId: string,
  now: Date,
): Promise<PickupCopy[]> {
  const wanted = tx.recipients.flatMap((r) => (r.verdict.verdict === 'pickup' && 'contact' in r ? [r] : []));
  if (wanted.length === 0) return [];
  if (!tx.sender) throw new Error('pickup without a sender key'); // never: RCPT checked
  const sender = {
    userId,
    address: tx.mailFrom,
    name: (await ctx.users.displayName(tx.mailFrom)) ?? (await effectiveSettings(ctx.deps)).practiceName,
    signer: tx.sender.signer,
  };
  return mapLimit(wanted, BUILD_CONCURRENCY, (r) =>
    buildPickup(ctx, { message, recipient: r.address, contact: r.contact, sender, now }),
  );
}
