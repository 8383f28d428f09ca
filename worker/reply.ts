import type { Config } from '../core/config.ts';
import type { CoreDeps } from '../core/deps.ts';
import { effectiveSettings } from '../core/settings.ts';
import { errName } from '../core/log.ts';
import { decryptReply, replyForPractice, type KeyStore, type OpenedReply } from '../keys/index.ts';
import { securityField } from '../keys/verdict-line/verdict.ts';
import type { InboundProblem } from '../keys/openpgp/index.ts';

/**
 * A pickup reply on its way to the practitioner (docs/delivery.md "Pickup replies"). Where it goes:
 *
 * - `pickup.replyDelivery: auto` (the default): with SEALPOST_INBOUND_RELAY set, the worker opens it with
 *   her sender key and hands it to the practice's own mail server, exactly as the inbound listener hands
 *   on an encrypted reply from a colleague — the same `Sealpost-Security` field (signature checked against
 *   the contact's registered key) and visible line (keys/verdict-line/reply-inner.ts). Without an inbound
 *   relay it goes out as PGP/MIME to her key, as before.
 * - `decrypt`: opened as above; to the inbound relay when one is set, else over the delivery relay.
 * - `pgp`: always PGP/MIME.
 *
 * When it cannot be opened (or read through) it goes the same way still encrypted (to the practice's server
 * marked `not-decrypted`, as the inbound listener marks such mail): the fallback is never clear text. Nothing decrypted is stored: the bytes live for this attempt only.
 */
export interface ReplyForDelivery {
  raw: Buffer;
  /** Deliver to the practice's own mail server (SEALPOST_INBOUND_RELAY) instead of the delivery relay. */
  toPractice: boolean;
}

type ReplyRow = {
  id: string;
  kind: string;
  recipient: string;
  contact_id: string | null;
  message_id: string;
};

export function decryptsReplies(config: Config): boolean {
  const mode = config.pickup.replyDelivery;
  return mode === 'decrypt' || (mode === 'auto' && !!config.inboundRelay);
}

export async function replyForDelivery(
  deps: CoreDeps & { keys: KeyStore },
  row: ReplyRow,
  raw: Buffer,
): Promise<ReplyForDelivery> {
  if (row.kind !== 'reply' || !row.contact_id || !decryptsReplies(deps.config))
    return { raw, toPractice: false };
  const toPractice = !!deps.config.inboundRelay;
  let problem: InboundProblem = 'failed';
  let failure: string | undefined;
  try {
    const opened = await openReply(deps, row, raw);
    if (opened.ok) {
      const verdict = `signature=${opened.signature}`;
      deps.log.info('DLV_REPLY_DECRYPTED', {
        id: row.id,
        verdict,
        service: toPractice ? 'inbound-relay' : 'relay',
      });
      return { raw: opened.message, toPractice };
    }
    problem = opened.problem;
  } catch (err) {
    failure = errName(err);
  }
  deps.log.warn('DLV_REPLY_NOT_DECRYPTED', { id: row.id, problem, ...(failure ? { errName: failure } : {}) });
  // To the practice's server as the inbound listener would hand it on: marked. Over the delivery relay it
  // is the plain PGP/MIME copy of 'pgp' mode (the field would only travel further than our own server).
  if (!toPractice) return { raw, toPractice };
  const field = securityField({ kind: 'not-decrypted', reason: problem });
  return { raw: Buffer.concat([field, raw]), toPractice };
}

type Opened = { ok: true; message: Buffer; signature: string } | { ok: false; problem: InboundProblem };

async function openReply(deps: CoreDeps & { keys: KeyStore }, row: ReplyRow, raw: Buffer): Promise<Opened> {
  // Every key of hers: the client's browser may have encrypted to a key rotated away since.
  const own = await deps.keys.decryptionKeys(row.recipient);
  const contact = row.contact_id ? await deps.db.stores.contacts.byId(row.contact_id) : undefined;
  if (own.length === 0 || !contact) return { ok: false, problem: 'not-for-us' };
  const opened: OpenedReply = await decryptReply({
    raw,
    decryptionKey: own,
    contactPublicKey: contact.public_key,
    author: contact.address,
    now: deps.clock.now(),
    maxDecompressedBytes: deps.config.inbound.decompressLimitBytes,
  });
  if (!opened.ok) return opened;
  const reply = replyForPractice({
    inner: opened.inner,
    contactAddress: contact.address,
    signature: opened.signature,
    language: deps.config.inbound.language ?? (await effectiveSettings(deps)).language,
  });
  const message = Buffer.concat([
    Buffer.from(messageIdField(reply.message, row.message_id), 'latin1'),
    reply.message,
  ]);
  return { ok: true, message, signature: opened.signature.state };
}

/**
 * The decrypted reply is a message of its own; without a Message-ID the next server would give it a new one
 * at every attempt, and a copy sent again after a crash could not be recognised as the same (docs/delivery.md
 * "Duplicates"). It gets the spool row's, which is fixed when the reply is accepted.
 */
function messageIdField(inner: Buffer, messageId: string): string {
  const head = inner.subarray(0, Math.max(0, inner.indexOf('\r\n\r\n'))).toString('latin1');
  if (/^message-id\s*:/im.test(head) || !/^<[^<>\s]+>$/.test(messageId)) return '';
  return `Message-ID: ${messageId}\r\n`;
}
