import type { Insertable } from 'kysely';
import type { Config } from '../config.ts';
import type { OutboundTable } from '../db/schema.ts';
import { newId } from '../ids.ts';
import type { Sealer } from '../seal.ts';

/**
 * A new row of the outbound spool (core/store/outbound.ts stores it): queued now, its body sealed under the
 * row's own id, or already written as sealed chunks under that id (a large copy).
 */
export interface NewOutbound {
  /** The message the row belongs to; default: its own id. */
  batchId?: string;
  kind: string; // 'pgp' | 'plain' | 'dsn' | 'notification' | 'receipt' | 'reply'
  userId: string | null;
  /** '' for the null sender (DSNs, receipts, replies). */
  envelopeFrom: string;
  recipient: string;
  messageId: string;
  parts: Uint8Array | readonly Uint8Array[];
  contactId?: string | null;
  /**
   * The body was already written as sealed chunks under this row id (`ChunkWriter`): `parts` is empty, the
   * row keeps an empty `body`, the byte count and the number of chunks.
   */
  chunked?: SpooledChunks;
}

/** A body written in chunks under a row id that the row itself takes (gateway/output.ts). */
export interface SpooledChunks {
  id: string;
  chunks: number;
  size: number;
}

export type NewOutboundRow = Insertable<OutboundTable> & { id: string };

/** A chunked row keeps its body in outbound_chunks. */
const EMPTY = new Uint8Array(0);

/** When a message queued at `createdAt` expires (is bounced if still undelivered). */
export function expiresAt(createdAt: number, giveUpAfterSeconds: number): number {
  return createdAt + giveUpAfterSeconds * 1000;
}

/**
 * One new row, queued for delivery now: the body sealed with the master key under the row's own id (a body
 * moved to another row fails to open), the give-up time from the configuration. Every writer of the spool
 * builds its rows here: the gateway (messages, pickup notifications, receipts), the webmail (pickup
 * replies), the CLI (receipts for a new code) and the worker (DSNs).
 */
export function outboundRow(
  deps: { sealer: Sealer; config: Pick<Config, 'delivery'> },
  input: NewOutbound,
  now: number,
): NewOutboundRow {
  const id = input.chunked?.id ?? newId();
  const parts = input.parts instanceof Uint8Array ? [input.parts] : input.parts;
  return {
    id,
    batch_id: input.batchId ?? id,
    kind: input.kind,
    user_id: input.userId,
    envelope_from: input.envelopeFrom,
    recipient: input.recipient,
    message_id: input.messageId,
    body: input.chunked ? EMPTY : deps.sealer.seal('spool', parts, id),
    size: input.chunked ? input.chunked.size : parts.reduce((n, p) => n + p.length, 0),
    chunks: input.chunked?.chunks ?? 0,
    status: 'queued',
    attempts: 0,
    next_attempt_at: now,
    expires_at: expiresAt(now, deps.config.delivery.giveUpAfterSeconds),
    last_code: null,
    last_smtp_code: null,
    created_at: now,
    updated_at: now,
    done_at: null,
    contact_id: input.contactId ?? null,
  };
}
