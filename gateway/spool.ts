import { newId } from '../core/ids.ts';
import type { Insertable } from 'kysely';
import type { SentRecipientsTable, SentSubjectsTable } from '../core/db/schema.ts';
import { outboundRow, type NewOutboundRow, type Stores } from '../core/store/index.ts';
import type { SpooledChunks } from '../core/store/outbound.ts';
import type { AcceptedRecipient, GatewayContext } from './submission-context.ts';
import { dropChunks, type Copy } from './output.ts';
import type { PickupCopy } from './pickup.ts';

/**
 * The outbound spool (DESIGN.md invariant 3): every copy of one accepted message in ONE transaction, each
 * body sealed with the master key. Either all rows are committed or none: a 250 follows only a commit.
 * Messages whose DATA ends in the same turn of the event loop share that transaction (group commit); a
 * message that fails in it is retried alone, so one message's failure never fails another.
 */
export async function spool(
  ctx: GatewayContext,
  input: {
    copies: readonly Copy[];
    pickups?: readonly PickupCopy[];
    userId: string;
    envelopeFrom: string;
    messageId: string;
    now: Date;
    batchId?: string;
    /** What her sent list keeps (docs/console.md): the recipients' paths and the sealed subject. */
    sent?: { recipients: readonly AcceptedRecipient[]; subject?: Insertable<SentSubjectsTable> };
  },
): Promise<{ batchId: string; ids: string[] }> {
  const batchId = input.batchId ?? newId();
  const ts = input.now.getTime();
  const row = (copy: OutgoingCopy) =>
    outboundRow(
      ctx.deps,
      {
        batchId,
        kind: copy.kind,
        userId: input.userId,
        envelopeFrom: copy.envelopeFrom ?? input.envelopeFrom,
        recipient: copy.recipient,
        messageId: copy.messageId ?? input.messageId,
        parts: copy.parts,
        ...(copy.chunked ? { chunked: copy.chunked } : {}),
      },
      ts,
    );
  const rows = input.copies.map(row);
  const pickups = input.pickups ?? [];
  for (const p of pickups) {
    rows.push(
      row({
        kind: 'notification',
        recipient: p.recipient,
        parts: [p.notification.bytes],
        messageId: p.notification.messageId,
        envelopeFrom: input.envelopeFrom,
      }),
    );
    // The receipt is machine-written mail to our own sender: the null sender, so it never bounces back.
    if (p.receipt)
      rows.push(
        row({
          kind: 'receipt',
          recipient: input.envelopeFrom,
          parts: [p.receipt.bytes],
          messageId: p.receipt.messageId,
          envelopeFrom: '',
        }),
      );
  }
  // With the other messages of this event-loop turn: one commit (core/store/group-commit.ts).
  const chunked = input.copies.flatMap((c) => (c.chunked ? [c.chunked] : []));
  try {
    await ctx.commits.run(async (stores) => {
      // A large copy's body was written ahead as chunks: all of them there, or no commit (and no 250).
      for (const c of chunked)
        await stores.outbound.chunks.claim(c.id, c.chunks, ctx.deps.clock.now().getTime());
      for (const p of pickups) await storePickup(ctx, stores, p, input);
      await stores.outbound.add(rows);
      if (input.sent) {
        const sent = sentRows(input.sent.recipients, rows, pickups, { batchId, userId: input.userId, ts });
        await stores.sent.add(sent, input.sent.subject);
      }
    });
  } catch (err) {
    // Not committed, as far as we know: the chunks written ahead of rows that are not there go. A row the
    // commit did write (its outcome unknown to us) keeps its body.
    await dropChunks(
      ctx,
      chunked.map((c) => c.id),
    );
    throw err;
  }
  return { batchId, ids: rows.map((r) => r.id) };
}

/** One row per recipient: the path and why, the key and its source, the copy or notification, the pickup. */
function sentRows(
  recipients: readonly AcceptedRecipient[],
  rows: readonly NewOutboundRow[],
  pickups: readonly PickupCopy[],
  at: { batchId: string; userId: string; ts: number },
): Insertable<SentRecipientsTable>[] {
  return recipients.map((r) => {
    const kind = r.verdict.verdict === 'pickup' ? 'notification' : r.verdict.verdict;
    const outbound = rows.find((o) => o.kind === kind && o.recipient === r.address);
    const pickup = pickups.find((p) => p.recipient === r.address);
    const key =
      'key' in r
        ? { fpr: r.key.fingerprint, source: r.keySource }
        : pickup
          ? { fpr: pickup.contact.fingerprint, source: 'pickup' }
          : { fpr: null, source: null };
    return {
      id: newId(),
      batch_id: at.batchId,
      user_id: at.userId,
      recipient: r.address,
      path: r.verdict.verdict,
      reason: r.verdict.reason,
      key_fingerprint: key.fpr,
      key_source: key.source,
      outbound_id: outbound?.id ?? null,
      pickup_id: pickup?.pickupId ?? null,
      created_at: at.ts,
      first_opened_at: null,
      withdrawn_at: null,
    };
  });
}

interface OutgoingCopy {
  kind: string;
  recipient: string;
  parts: readonly Uint8Array[];
  chunked?: SpooledChunks;
  messageId?: string;
  envelopeFrom?: string;
}

/**
 * The contact (when new) and the pickup row. An existing contact whose key changed since RCPT (a new code
 * was issued meanwhile) makes the whole transaction fail: 451, and the client's retry encrypts to the new
 * key. Two sessions creating the same new contact: the second insert fails on the unique address, 451 too.
 */
async function storePickup(
  ctx: GatewayContext,
  stores: Stores,
  p: PickupCopy,
  input: { userId: string; envelopeFrom: string; messageId: string; now: Date },
): Promise<void> {
  const { sealer } = ctx.deps;
  if (p.created) {
    await stores.contacts.add(p.created.row);
    if (p.consoleCode) await stores.console.addCode(p.consoleCode);
  } else {
    const current = await stores.contacts.byId(p.contact.id);
    if (current?.fingerprint !== p.contact.fingerprint) throw new Error('contact key changed since RCPT');
  }
  const size = p.ciphertext.reduce((n, c) => n + c.length, 0);
  await stores.pickups.add({
    id: p.pickupId,
    contact_id: p.contact.id,
    key_fingerprint: p.contact.fingerprint,
    sender_address: input.envelopeFrom,
    sender_name: p.senderName,
    sender_fingerprint: p.senderFingerprint,
    user_id: input.userId,
    message_id: input.messageId,
    ciphertext: sealer.seal('pickup', p.ciphertext, p.pickupId),
    size,
    created_at: input.now.getTime(),
    expires_at: p.expiresAt,
  });
}
