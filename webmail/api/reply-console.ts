import { openConsoleReply, type ConsoleReplyVerdict } from '../../keys/index.ts';
import type { ConsoleRepliesTable } from '../../core/db/schema.ts';
import type { PickupApiDeps } from './deps.ts';

/**
 * Where no inbound relay is set (SEALPOST_INBOUND_RELAY), a pickup reply is also kept for her console
 * (docs/console.md "Replies"): the armored message as the client's browser encrypted it to her sender key,
 * sealed at rest, and its signature verdict — checked once here by opening it in memory; the text is not
 * kept. The console opens it again when she asks (webmail/console-api/console-replies.ts). Without a user
 * behind the pickup (a sender address no account holds) nothing is kept.
 */
export async function consoleReplyRow(
  deps: PickupApiDeps,
  input: { id: string; contactId: string; senderAddress: string; userId: string | null; message: string },
  now: Date,
): Promise<ConsoleRepliesTable | undefined> {
  if (deps.config.inboundRelay || !input.userId) return undefined;
  const contact = await deps.db.stores.contacts.byId(input.contactId);
  if (!contact) return undefined;
  const signature = await verdictOf(deps, input.senderAddress, contact, input.message, now);
  return {
    id: input.id,
    user_id: input.userId,
    contact_id: contact.id,
    contact_address: contact.address,
    sender_address: input.senderAddress,
    signature,
    ciphertext: deps.sealer.seal('console', Buffer.from(input.message, 'utf8'), `reply:${input.id}`),
    created_at: now.getTime(),
  };
}

async function verdictOf(
  deps: PickupApiDeps,
  senderAddress: string,
  contact: { address: string; public_key: string | null },
  armored: string,
  now: Date,
): Promise<ConsoleReplyVerdict> {
  const sender = await deps.keys.senderKey(senderAddress);
  if (!sender || !contact.public_key) return 'unreadable';
  const opened = await openConsoleReply({
    armored,
    senderKey: sender.signer,
    contactPublicKey: contact.public_key,
    contactAddress: contact.address,
    now,
    maxDecompressedBytes: deps.config.inbound.decompressLimitBytes,
  });
  return opened.signature;
}
