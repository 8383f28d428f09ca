import * as api from '../lib/api.ts';
import { toBase64, wipe } from '../lib/bytes.ts';
import { charLength, MIN_PASSPHRASE, normalisePassphrase } from '../lib/code.ts';
import { buildReply } from '../lib/mime-build.ts';
import { lockUnderNewSecret } from '../lib/relock.ts';
import type { Item, PickupState } from './pickup.svelte.ts';

/**
 * What a recipient does after unlock: reply, choose a passphrase, register an own key. Each returns an
 * outcome the component shows; none throws.
 */
export type ReplyOutcome = 'sent' | 'empty' | 'tooBig' | 'limit' | 'invalid' | 'network' | 'failed';

export async function sendReply(
  state: PickupState,
  item: Item,
  text: string,
  files: File[],
  fromName = '',
): Promise<ReplyOutcome> {
  const { contact, heavy, privateKey } = state;
  const message = item.message;
  if (!contact || !heavy || !privateKey || !message) return 'failed';
  if (!text.trim() && files.length === 0) return 'empty';
  const sender = item.info.sender;
  const to = state.senderKeyFor(sender.address);
  if (!to) return 'failed';
  const attachments = await Promise.all(
    files.map(async (f) => ({ name: f.name, type: f.type, bytes: new Uint8Array(await f.arrayBuffer()) })),
  );
  const subject = message.subject ? message.subject : '';
  const mime = buildReply({
    from: contact.address,
    ...(fromName.trim() ? { fromName: fromName.trim() } : {}),
    to: { address: sender.address, name: sender.displayName },
    subject: /^re:/i.test(subject) ? subject : `Re: ${subject}`,
    text,
    date: new Date(),
    host: location.hostname,
    ...(message.messageId ? { inReplyTo: message.messageId } : {}),
    ...(message.references ? { references: message.references } : {}),
    attachments,
  });
  let armored: string;
  try {
    armored = await heavy.encryptReply(mime.bytes, to.key, privateKey);
  } catch {
    return 'failed';
  } finally {
    wipe(mime.bytes);
  }
  const res = await state.sessionPost(
    '/session/replies',
    { inReplyTo: item.info.id, message: armored } satisfies api.ReplyRequest,
    api.replySchema,
  );
  if (res.ok) {
    // Shown in the thread at once; the server keeps it only encrypted (to the sender and the contact), and
    // the next session reads it back from there (pickup.svelte.ts #loadReplies).
    state.addSent(item.info.id, { text, files: files.map((f) => f.name), at: Date.now() });
    return 'sent';
  }
  if (res.status === 413) return 'tooBig';
  if (res.status === 429) return 'limit';
  if (res.status === 400) return 'invalid';
  return res.status === 0 ? 'network' : 'failed';
}

export type SecretOutcome = 'changed' | 'short' | 'mismatch' | 'failed';

/**
 * A new passphrase: the SAME private key locked under it (lib/relock.ts: a new salt, the passphrase cost,
 * checked by unlocking again before anything is uploaded).
 */
export async function changeSecret(
  state: PickupState,
  typed: string,
  repeat: string,
): Promise<SecretOutcome> {
  const secret = normalisePassphrase(typed);
  if (charLength(secret) < MIN_PASSPHRASE) return 'short';
  if (secret !== normalisePassphrase(repeat)) return 'mismatch';
  const { contact, privateKeyBytes } = state;
  if (!contact || !privateKeyBytes) return 'failed';
  let keys: Awaited<ReturnType<typeof lockUnderNewSecret>>;
  try {
    keys = await lockUnderNewSecret(privateKeyBytes, secret, contact.id);
  } catch {
    return 'failed';
  }
  try {
    const res = await state.sessionPost(
      '/session/secret',
      {
        secretKind: 'passphrase',
        kdf: keys.kdf,
        authKey: toBase64(keys.authKey),
        lockedPrivateKey: toBase64(keys.locked),
      } satisfies api.SecretRequest,
      api.okSchema,
    );
    if (!res.ok) return 'failed';
    state.secretChanged(keys.kdf);
    return 'changed';
  } catch {
    return 'failed';
  } finally {
    wipe(keys.authKey);
  }
}

export type KeyOutcome = { ok: true; fingerprint: string } | { ok: false; problem: string | undefined };

export async function registerKey(state: PickupState, armored: string): Promise<KeyOutcome> {
  const heavy = state.heavy;
  if (!heavy) return { ok: false, problem: undefined };
  try {
    await heavy.inspectPublicKey(armored.trim());
  } catch {
    return { ok: false, problem: undefined };
  }
  const res = await state.sessionPost(
    '/session/key',
    { publicKey: armored.trim() } satisfies api.OwnKeyRequest,
    api.keySchema,
  );
  return res.ok
    ? { ok: true, fingerprint: res.data.fingerprint }
    : { ok: false, problem: res.problem ?? res.code };
}
