import type { Kysely } from 'kysely';
import type { Clock } from '../core/clock.ts';
import type { Database } from '../core/db/schema.ts';
import type { Config } from '../core/config.ts';
import { newMessageId } from '../core/ids.ts';
import { effectiveSettings } from '../core/settings.ts';
import type { Sealer } from '../core/seal.ts';
import { normaliseAddress } from '../core/ids.ts';
import { createStores, outboundRow, type NewOutboundRow, type Stores } from '../core/store/index.ts';
import { authHash, plausibleBrowserSecret, type KdfParams } from './access-code.ts';
import { consoleCodeRow, encryptToConsoleKey } from './console-codes.ts';
import { newContactRecord, type ContactStore, type StalePickup } from './contacts.ts';
import type { CryptoPool } from './crypto-pool.ts';
import { armorPublic, checkParsedKey, readAnyKey } from './openpgp/index.ts';
import { eraseKeysOf } from './store/erase.ts';
import { consoleUrl, dkimSignMail, notifyFrom, receiptMail } from './notices/index.ts';

/**
 * The actions on a pickup contact that the CLI (`sealpost contact code|unlock`) and the practitioner's
 * console both offer (docs/pickup.md, docs/console.md): one implementation, called from both.
 */
export interface ContactActionDeps {
  readonly config: Config;
  readonly sealer: Sealer;
  readonly clock: Clock;
  readonly stores: Stores;
  /** Built with the crypto pool (a new code is a new key pair). */
  readonly contacts: ContactStore;
}

export interface NewCodeResult {
  code: string;
  /** Earlier messages that can no longer be opened and should be resent. */
  stale: StalePickup[];
  /** Each sender who wrote to the contact; `console`: the code waits in her console. */
  senders: { address: string; console: boolean }[];
  /** The receipts queued in the spool (the caller may enqueue them; otherwise the reconcile job sends them). */
  outboundIds: string[];
}

/**
 * A new access code for a pickup contact: a new key pair, the old code's console entries dropped, the new
 * code encrypted to each sender's console key, and one receipt per sender (without the code) listing her
 * messages to resend. `undefined` when there is no such contact.
 */
export async function issueNewCode(
  deps: ContactActionDeps,
  email: string,
  actor: string,
  ip?: string,
): Promise<NewCodeResult | undefined> {
  const result = await deps.contacts.reissue(email, actor, ip);
  if (!result) return undefined;
  const queued = await queueReceipts(deps, email, result.code, result.stale);
  return { code: result.code, stale: result.stale, ...queued };
}

export type EnrolResult =
  | { outcome: 'enrolled'; id: string; address: string; encryptedCode: Uint8Array }
  | { outcome: 'exists' }
  | { outcome: 'no-console-key' };

/**
 * Enrol a client in person, before the first mail (docs/console.md "New secure contact"): the contact is
 * made as the gateway makes a new one (newContactRecord: key pair, code, Argon2id), and the code is returned
 * ONLY as an OpenPGP message to her console key, for her browser to show once on the printed card; it is
 * stored nowhere. An existing contact is left alone (`exists`): its code is not hers to see. Without her
 * console key nothing is made (fail closed, as the gateway does).
 */
export async function enrolContact(
  deps: { stores: Stores; clock: Clock; crypto: CryptoPool },
  userId: string,
  address: string,
): Promise<EnrolResult> {
  const key = await deps.stores.console.keyOf(userId);
  if (!key) return { outcome: 'no-console-key' };
  if (await deps.stores.contacts.byAddress(address)) return { outcome: 'exists' };
  const now = deps.clock.now();
  const created = await newContactRecord(address, now, deps.crypto);
  try {
    await deps.stores.contacts.add(created.row);
  } catch (err) {
    // Made meanwhile (by a mail or another practitioner): the unique address refused ours.
    if (await deps.stores.contacts.byAddress(address)) return { outcome: 'exists' };
    throw err;
  }
  const encryptedCode = await encryptToConsoleKey(key, created.code, now);
  return { outcome: 'enrolled', id: created.contact.id, address: created.contact.address, encryptedCode };
}

/** What her browser made for a client who chose their own passphrase (docs/console.md "Own passphrase"). */
export interface OwnSecret {
  /** The contact's id, chosen by the browser: the lock's AAD names it (`sealpost-pickup-key:<id>`). */
  contactId: string;
  /** The contact's public key, armored; its User ID names the contact's address. */
  publicKey: string;
  /** A person's passphrase cost (the contract's kdfSchema refused fewer passes). */
  kdf: KdfParams;
  authKey: Uint8Array;
  lockedPrivateKey: Uint8Array;
}

export type EnrolOwnResult =
  { outcome: 'enrolled'; id: string; address: string } | { outcome: 'exists' } | { outcome: 'invalid' };

/**
 * Enrol a client who chose their own passphrase on her device: the contact is stored as a pickup app's
 * "change the code" leaves one (secret kind `passphrase`, the browser's KDF parameters, SHA-256(authKey),
 * the private key locked in the browser); the server never sees the passphrase, lockKey or the private key.
 * The public key must be usable (checkParsedKey: algorithm floor, encryption subkey) and name the address;
 * an existing contact is left alone (`exists`), as with a card.
 */
export async function enrolContactWithPassphrase(
  deps: { stores: Stores; clock: Clock },
  address: string,
  secret: OwnSecret,
): Promise<EnrolOwnResult> {
  const addr = normaliseAddress(address);
  if (!plausibleBrowserSecret(secret.authKey, secret.lockedPrivateKey)) return { outcome: 'invalid' };
  const now = deps.clock.now();
  const key = await readAnyKey(secret.publicKey).catch(() => undefined);
  const check = key && (await checkParsedKey(key, now));
  if (!key || !check?.usable || check.facts.isPrivate || !check.facts.emails.includes(addr))
    return { outcome: 'invalid' };
  if (await deps.stores.contacts.byAddress(addr)) return { outcome: 'exists' };
  const ts = now.getTime();
  try {
    await deps.stores.contacts.add({
      id: secret.contactId,
      address: addr,
      fingerprint: check.facts.fingerprint,
      public_key: armorPublic(key),
      locked_private_key: Buffer.from(secret.lockedPrivateKey),
      kdf: JSON.stringify(secret.kdf),
      secret_kind: 'passphrase',
      auth_hash: authHash(secret.authKey),
      failed_attempts: 0,
      locked: 0,
      created_at: ts,
      secret_set_at: ts,
      last_unlock_at: null,
    });
  } catch (err) {
    if (await deps.stores.contacts.byAddress(addr)) return { outcome: 'exists' };
    // The browser chose the id: one taken by another contact is refused, never overwritten.
    if (await deps.stores.contacts.byId(secret.contactId)) return { outcome: 'invalid' };
    throw err;
  }
  return { outcome: 'enrolled', id: secret.contactId, address: addr };
}

/** Clear a locked contact's failure count (the code is unchanged); false when there is no such contact. */
export async function unlockContact(
  deps: ContactActionDeps,
  email: string,
  actor: string,
  ip?: string,
): Promise<boolean> {
  return deps.contacts.unlock(email, actor, ip);
}

/** What the erasure of a contact deletes (or would delete), by kind; audit entries are anonymised. */
export interface ErasureCounts {
  contact: number;
  pickups: number;
  tombstones: number;
  sessions: number;
  replies: number;
  consoleReplies: number;
  consoleCodes: number;
  sentRecipients: number;
  outbound: number;
  keys: number;
  auditEntries: number;
}

class DryRun extends Error {
  constructor(readonly counts: ErasureCounts) {
    super('dry run');
  }
}

/**
 * GDPR erasure of a pickup contact and everything of theirs, in one transaction: the contact row (keys,
 * secrets), her pickups and their tombstones, her pickup sessions and replies (and the practitioners' kept
 * copies), the console codes for her, the sent-list rows naming her, the spool rows to or from her, every
 * recipient key held for her address (and key changes); audit entries that named her keep who, what and when
 * with the subject `erased`. One entry `contact.delete` (subject `erased`, the counts as detail) is written.
 * `dryRun`: the same work rolled back, so that the confirmation names exactly what will be deleted.
 * `undefined` when there is no such contact.
 */
export async function eraseContact(
  deps: { db: Kysely<Database>; clock: Clock },
  email: string,
  actor: string,
  options: { dryRun?: boolean; ip?: string } = {},
): Promise<ErasureCounts | undefined> {
  const address = normaliseAddress(email);
  try {
    return await deps.db.transaction().execute(async (trx) => {
      const stores = createStores(trx);
      const contact = await stores.contacts.byAddress(address);
      if (!contact) return undefined;
      const formerIds = await stores.sent.pickupIdsTo(address);
      const pickups = await stores.pickups.eraseContact(contact.id, formerIds);
      const counts: ErasureCounts = {
        ...pickups,
        consoleReplies: await stores.consoleReplies.eraseContact(contact.id),
        consoleCodes: await stores.console.dropCodesFor(address),
        sentRecipients: await stores.sent.eraseRecipient(address),
        outbound: await stores.outbound.eraseContact(address, contact.id),
        keys: await eraseKeysOf(trx, address),
        contact: (await stores.contacts.remove(contact.id)) ? 1 : 0,
        auditEntries:
          (await stores.audit.eraseSubject(address)) + (await stores.audit.eraseSubject(contact.id)),
      };
      if (options.dryRun) throw new DryRun(counts);
      const detail = Object.entries(counts)
        .map(([k, v]) => `${k}=${v}`)
        .join(' ');
      const ip = options.ip ? { ip: options.ip } : {};
      await stores.audit.record(
        { actor, action: 'contact.delete', subject: 'erased', detail, ...ip },
        deps.clock.now(),
      );
      return counts;
    });
  } catch (err) {
    if (err instanceof DryRun) return err.counts;
    throw err;
  }
}

/** One receipt per sender who wrote to the contact, listing that sender's messages to resend. */
async function queueReceipts(
  deps: ContactActionDeps,
  email: string,
  code: string,
  stale: StalePickup[],
): Promise<Pick<NewCodeResult, 'senders' | 'outboundIds'>> {
  const { config, sealer, stores } = deps;
  const wrote = await deps.contacts.senders(email);
  if (!wrote) return { senders: [], outboundIds: [] };
  const now = deps.clock.now();
  const rows: NewOutboundRow[] = [];
  // The old code is dead with the old key: its console entries go; the new one is kept per sender.
  await stores.console.dropCodesFor(email);
  const kept: { address: string; console: boolean }[] = [];
  for (const sender of wrote.senders) {
    const owner = await stores.users.ownerOf(sender);
    const key = owner && (await stores.console.keyOf(owner.id));
    if (owner && key) {
      await stores.console.addCode(
        await consoleCodeRow(deps, key, { userId: owner.id, contactAddress: email, code, now }),
      );
    }
    kept.push({ address: sender, console: !!key });
    const messageId = newMessageId(config.hostname);
    const fromAddress = notifyFrom(config, sender);
    const receipt = receiptMail({
      // The notification language in force (the admin's setting over the configuration's).
      language: (await effectiveSettings({ config, db: { stores } })).language,
      from: { name: 'Sealpost', address: fromAddress },
      to: sender,
      messageId,
      date: now,
      recipient: email,
      consoleUrl: consoleUrl(config),
      reissued: true,
      stale: stale
        .filter((s) => s.senderAddress === sender)
        .map((s) => ({ messageId: s.messageId, createdAt: new Date(s.createdAt) })),
    });
    const bytes = await dkimSignMail(config, receipt, fromAddress);
    const input = {
      kind: 'receipt' as const,
      userId: null,
      envelopeFrom: '',
      recipient: sender,
      messageId,
      parts: bytes,
      contactId: wrote.contactId,
    };
    rows.push(outboundRow({ sealer, config }, input, now.getTime()));
  }
  // One row at a time, as before: a receipt already queued stays queued should a later one fail.
  for (const row of rows) await stores.outbound.add([row]);
  return { senders: kept, outboundIds: rows.map((r) => r.id) };
}
