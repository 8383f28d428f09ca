import { Readable } from 'node:stream';
import type { DeliverQueue } from '../core/queue-client.ts';
import { enqueueDeliveries } from '../core/queue-client.ts';
import type { CoreDeps } from '../core/deps.ts';
import type { Code } from '../core/errors.ts';
import { errName } from '../core/log.ts';
import type { OutboundRow } from '../core/store/index.ts';
import { chunkReader, openChunk, SpoolUnreadableError } from '../core/store/outbound-chunks.ts';
import { classify, type Classification } from './classify.ts';
import { dsnOutboundRow, wantsDsn } from '../core/dsn.ts';
import { nextAttempt, type RetryDelay } from './schedule.ts';
import type { SendReceipt, Transport } from './transport.ts';
import { replyForDelivery } from './reply.ts';
import type { KeyStore } from '../keys/index.ts';
import type { AcceptedMarks } from './accepted.ts';

/**
 * One delivery attempt for one outbound row. The database decides: a row that is not 'queued' is done,
 * whatever the queue says, so duplicated jobs deliver once. The row is marked 'delivered' right after
 * the transport succeeded. A permanent failure, or a temporary one past expiry, marks it 'bounced' and
 * writes the DSN row in the same transaction; the DSN is enqueued after the commit (and reconcile
 * enqueues it should that step be lost).
 */
export interface DeliverContext {
  deps: CoreDeps;
  keys: KeyStore;
  transport: Transport;
  /** The practice's own mail server (SEALPOST_INBOUND_RELAY): pickup replies decrypted for her (worker/reply.ts). */
  practice?: Transport;
  queue: DeliverQueue;
  retryDelay: RetryDelay;
  /** "The relay accepted it" marks (worker/accepted.ts); absent: the database alone decides. */
  accepted?: AcceptedMarks;
}

export type DeliverOutcome =
  | { kind: 'skipped' }
  | { kind: 'delivered' }
  | { kind: 'bounced'; code: Code; dsnId: string | null }
  | { kind: 'deferred'; code: Code; at: number; delayMs: number };

type Row = OutboundRow;

export async function deliverOne(ctx: DeliverContext, outboundId: string): Promise<DeliverOutcome> {
  const row = await ctx.deps.db.stores.outbound.find(outboundId);
  if (!row || row.status !== 'queued') return { kind: 'skipped' };
  if (await ctx.accepted?.has(row.id)) {
    // The relay took this copy, then the worker died before the database said so: record, never resend.
    ctx.deps.log.warn('DLV_ALREADY_ACCEPTED', { id: row.id, rcpt: row.recipient });
    await markDelivered(ctx, row);
    return { kind: 'delivered' };
  }
  // What a DSN may quote (its first KBs): the body, or a chunked body's first chunk (opened here, so that
  // a body that does not open at its start never reaches the relay).
  let raw: Buffer;
  try {
    raw =
      row.chunks > 0 ? await openChunk(ctx.deps, row, 0) : ctx.deps.sealer.open('spool', row.body, row.id);
  } catch (err) {
    // A database error reading the first chunk is no verdict on the body: the job fails and is retried.
    if (row.chunks > 0 && !(err instanceof SpoolUnreadableError)) throw err;
    // A different master key, or a body that is not this row's: never send it; retry until the admin
    // fixes the key, and bounce (without any header of the original) when the row expires.
    return unreadableSpool(ctx, row, null, err);
  }
  let receipt: SendReceipt | void;
  let unreadable: unknown;
  try {
    // A decrypted reply lives for this attempt only; `raw` (what a DSN may quote) stays the sealed copy.
    // A chunked body (a large copy; never a reply) streams from the database a chunk at a time.
    const out =
      row.chunks > 0
        ? { raw: chunkStream(ctx, row, raw, (err) => (unreadable = err)), toPractice: false }
        : await replyForDelivery({ ...ctx.deps, keys: ctx.keys }, row, raw);
    const transport = out.toPractice && ctx.practice ? ctx.practice : ctx.transport;
    receipt = await transport.send({
      id: row.id,
      envelope: { from: row.envelope_from, to: row.recipient },
      raw: out.raw,
    });
  } catch (err) {
    if (unreadable !== undefined) {
      // A later chunk is missing or does not open: the stream failed before the end of the body, so the
      // transport never ended the DATA (nodemailer drops the connection): nothing partial was delivered.
      return unreadableSpool(ctx, row, raw, unreadable);
    }
    return failed(ctx, row, raw, { ...classify(err), reply: remoteReply(err) }, errName(err));
  }
  // The first thing after the relay's 250: the mark, before the database update that may wait for a lock.
  const now = ctx.deps.clock.now().getTime();
  await ctx.accepted?.record(row.id, row.expires_at - now + 86_400_000);
  await markDelivered(ctx, row, receipt ?? {});
  await ctx.accepted?.clear(row.id);
  return { kind: 'delivered' };
}

/** A body (or a chunk of it) that does not open: deferred, never sent; bounced when the row expires. */
function unreadableSpool(ctx: DeliverContext, row: Row, raw: Buffer | null, err: unknown) {
  ctx.deps.log.error('DLV_SPOOL_UNREADABLE', { id: row.id, errName: errName(err) });
  const verdict: Classification = {
    action: 'defer',
    code: 'DLV_SPOOL_UNREADABLE',
    smtpCode: null,
    enhanced: null,
  };
  return failed(ctx, row, raw, verdict, errName(err));
}

/** A chunked body as a byte stream; `onUnreadable` learns of a chunk that fails before the stream errors. */
function chunkStream(ctx: DeliverContext, row: Row, first: Buffer, onUnreadable: (err: unknown) => void) {
  async function* watched(): AsyncGenerator<Buffer> {
    try {
      yield* chunkReader(ctx.deps, row, first);
    } catch (err) {
      // Only a chunk missing or not opening says the body is unreadable; a database error is retried.
      if (err instanceof SpoolUnreadableError) onUnreadable(err);
      throw err;
    }
  }
  return Readable.from(watched(), { objectMode: false });
}

// After a successful send, failing to record it would send the message again on retry. So the update is
// retried in place for a while (about 8 s in all) before the job itself fails and BullMQ retries it.
const MARK_RETRY_MS = [100, 500, 2_000, 5_000];

async function markDelivered(ctx: DeliverContext, row: Row, receipt: SendReceipt = {}): Promise<void> {
  for (let i = 0; ; i++) {
    try {
      await updateDelivered(ctx, row, receipt);
      break;
    } catch (err) {
      const wait = MARK_RETRY_MS[i];
      if (wait === undefined) throw err;
      ctx.deps.log.warn('DLV_MARK_RETRY', { id: row.id, attempt: i + 1, errName: errName(err) });
      await new Promise((resolve) => setTimeout(resolve, wait));
    }
  }
  ctx.deps.log.info('DLV_DELIVERED', { id: row.id, rcpt: row.recipient, attempt: row.attempts + 1 });
}

async function updateDelivered(ctx: DeliverContext, row: Row, receipt: SendReceipt): Promise<void> {
  // The spool is not an archive: the store drops the body of a delivered copy (core/store/outbound.ts).
  await ctx.deps.db.stores.outbound.markDelivered(row, ctx.deps.clock.now().getTime(), receipt);
}

async function failed(
  ctx: DeliverContext,
  row: Row,
  raw: Buffer | null,
  verdict: Classification & { reply?: string | null },
  errorName: string,
): Promise<DeliverOutcome> {
  const now = ctx.deps.clock.now().getTime();
  const attempt = row.attempts + 1;
  const fields = {
    id: row.id,
    rcpt: row.recipient,
    attempt,
    reason: verdict.code,
    errName: errorName,
    ...(verdict.smtpCode ? { smtpCode: verdict.smtpCode } : {}),
  };
  if (verdict.action === 'reject') {
    ctx.deps.log.warn('DLV_BOUNCED', fields);
    return bounce(ctx, row, raw, verdict);
  }
  const next = nextAttempt({
    failedAttempts: attempt,
    now,
    expiresAt: row.expires_at,
    delay: ctx.retryDelay,
  });
  if (next.giveUp) {
    ctx.deps.log.warn('DLV_EXPIRED', fields);
    return bounce(ctx, row, raw, { ...verdict, code: 'DLV_EXPIRED', enhanced: null });
  }
  await ctx.deps.db.stores.outbound.defer(
    row,
    { code: verdict.code, smtpCode: verdict.smtpCode, nextAt: next.at, reply: verdict.reply ?? null },
    now,
  );
  ctx.deps.log.info('DLV_DEFERRED', { ...fields, ms: next.delayMs });
  return { kind: 'deferred', code: verdict.code, at: next.at, delayMs: next.delayMs };
}

async function bounce(
  ctx: DeliverContext,
  row: Row,
  raw: Buffer | null,
  verdict: Classification & { reply?: string | null },
): Promise<DeliverOutcome> {
  const nowDate = ctx.deps.clock.now();
  const dsn = wantsDsn(row) ? dsnOutboundRow(ctx.deps, row, raw, verdict, nowDate) : null;
  const committed = await ctx.deps.db.stores.outbound.bounce(
    row,
    { code: verdict.code, smtpCode: verdict.smtpCode, reply: verdict.reply ?? null },
    dsn,
    nowDate,
  );
  if (!committed) return { kind: 'skipped' };
  if (dsn) {
    ctx.deps.log.info('DLV_DSN_QUEUED', { id: dsn.id, msgId: row.id, rcpt: dsn.recipient });
    // Best effort: should Redis be away now, reconcile finds the queued DSN row and enqueues it.
    await enqueueDeliveries(ctx.queue, [dsn.id]).catch((err: unknown) =>
      ctx.deps.log.warn('DLV_ENQUEUE_FAILED', { id: dsn.id, errName: errName(err) }),
    );
  }
  return { kind: 'bounced', code: verdict.code, dsnId: dsn?.id ?? null };
}

/** The receiving server's reply line to a failed attempt, kept (shortened) for her sent list; not logged. */
function remoteReply(err: unknown): string | null {
  const response = err && typeof err === 'object' ? (err as { response?: unknown }).response : undefined;
  const code = err && typeof err === 'object' ? (err as { responseCode?: unknown }).responseCode : undefined;
  return typeof response === 'string' && typeof code === 'number' ? response : null;
}
