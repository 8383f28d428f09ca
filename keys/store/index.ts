import { lockedPrivateKey, type SigningKey } from '../openpgp/index.ts';
import * as discovered from './discovered.ts';
import * as changes from './key-changes.ts';
import * as pages from './key-pages.ts';
import { ParseCache } from './parse-cache.ts';
import * as pinned from './pinned.ts';
import * as lookup from './recipient-lookup.ts';
import * as recipientAdmin from './recipient-admin.ts';
import * as senderAdmin from './sender-key-admin.ts';
import * as senders from './sender-keys.ts';
import type {
  ImportResult,
  KeyActor,
  KeyChange,
  KeyChangePolicy,
  KeyListing,
  KeyStoreContext,
  KeyStoreDeps,
  RecipientKeyStatus,
  SenderKey,
} from './types.ts';

export {
  SOURCE_RANK,
  DISCOVERED_SOURCES,
  KeyChangeError,
  KeyImportError,
  type ImportResult,
  type KeyChange,
  type KeyChangePolicy,
  type KeyListing,
  type KeyStoreDeps,
  type RecipientKeyStatus,
  type RecordOutcome,
  type SenderKey,
} from './types.ts';
export { ParseCache } from './parse-cache.ts';
export { activeSenderKeysInDomain, type PublishedSenderKey } from './sender-keys.ts';
export { RecipientKeyActionError } from './recipient-admin.ts';
export { SenderKeyError, type SenderKeyRow, type SenderKeyState } from './sender-key-admin.ts';
export type { FetchedKey, RecordResult } from './discovered.ts';

/**
 * The key store: the one owner of the key tables (`sender_keys`, `recipient_keys`, `key_changes`). A facade
 * over its parts, one file per job: sender keys (sender-keys.ts), keys someone vouched for (pinned.ts),
 * recipient lookup (recipient-lookup.ts), the discovered-key lifecycle (discovered.ts), key changes
 * (key-changes.ts) and the parse cache (parse-cache.ts, keyed by fingerprint and a hash of the material).
 */
export class KeyStore {
  readonly #ctx: KeyStoreContext;

  constructor(deps: KeyStoreDeps) {
    this.#ctx = { deps, cache: new ParseCache() };
  }

  /** Keys parsed (not served from the cache) by this store so far; tests read it. */
  get parses(): number {
    return this.#ctx.cache.parses;
  }

  /**
   * Generate a new sender key pair for `address`, replacing (deactivating, keeping for replies) any earlier
   * one; `options.action` 'sender-key.rotated' for a rotation (the audit entry's name).
   */
  generateSenderKey(
    address: string,
    name?: string,
    options: { who?: KeyActor; action?: string } = {},
  ): Promise<{ fingerprint: string; publicKey: string }> {
    return senders.generateSenderKey(this.#ctx, address, { ...(name ? { name } : {}), ...options });
  }

  /** Import keys from an armored or binary block: private keys become sender keys, public ones pinned. */
  importKeys(
    input: string | Uint8Array,
    who?: KeyActor,
    passphrase?: string,
    senderAllowed?: (address: string) => Promise<boolean>,
  ): Promise<ImportResult[]> {
    return pinned.importKeys(this.#ctx, input, who, passphrase, senderAllowed);
  }

  /** One page of sender keys with algorithm, dates and state (active, retired, revoked). */
  senderKeyPage(filter: { q?: string; offset: number; limit: number }) {
    return senderAdmin.listSenderKeys(this.#ctx, filter);
  }

  /** The armored public key of one sender key by fingerprint (with its revocation when revoked). */
  senderPublicKey(fingerprint: string): Promise<string | undefined> {
    return senderAdmin.senderPublicKey(this.#ctx, fingerprint);
  }

  /** Revoke a sender key (an address's active key, or a fingerprint): it never signs again; audited. */
  revokeSenderKey(target: string, who?: KeyActor): Promise<{ fingerprint: string; addresses: string[] }> {
    return senderAdmin.revokeSenderKey(this.#ctx, target, who);
  }

  /** Every key replies to `address` are decrypted with: active, rotated away and revoked ones. */
  decryptionKeys(address: string): Promise<SigningKey[]> {
    return senderAdmin.decryptionKeys(this.#ctx, address);
  }

  /** Pin a discovered or registered recipient key (source 'admin'), audited. */
  pinRecipientKey(input: { address: string; fingerprint: string }, who?: KeyActor): Promise<void> {
    return recipientAdmin.pinRecipientKey(this.#ctx, input, who);
  }

  /** Drop a recipient key (no longer used; discovery does not take it again), audited. */
  dropRecipientKey(input: { address: string; fingerprint: string }, who?: KeyActor): Promise<void> {
    return recipientAdmin.dropRecipientKey(this.#ctx, input, who);
  }

  /** The active signing key of a sender address, or undefined when it has none. */
  senderKey(address: string): Promise<SenderKey | undefined> {
    return senders.senderKey(this.#ctx, address);
  }

  /** The key to encrypt to `address` at the clock's now, in the lookup order of DESIGN.md. */
  recipientKey(address: string): Promise<RecipientKeyStatus> {
    return lookup.recipientKey(this.#ctx, address);
  }

  /** Whether `address` has (or had) a sender key: such an address never gets a key learned from mail. */
  hasSenderKey(address: string): Promise<boolean> {
    return senders.hasSenderKey(this.#ctx, address);
  }

  /** Whether any address of `domain` has (or had) a sender key: then the domain is a local one. */
  hasSenderKeyInDomain(domain: string): Promise<boolean> {
    return senders.hasSenderKeyInDomain(this.#ctx, domain);
  }

  /** The sender keys a pickup contact's messages were signed with, and the senders' active keys. */
  senderKeysFor(input: {
    fingerprints: readonly string[];
    addresses: readonly string[];
  }): Promise<senders.PublishedSenderKey[]> {
    return senders.senderKeysFor(this.#ctx, input);
  }

  /** Record a key fetched for `address` (discovery, Autocrypt); see discovered.ts. */
  recordFetched(input: discovered.FetchedKey): Promise<discovered.RecordResult> {
    return discovered.recordFetched(this.#ctx, input);
  }

  /** The key-change policy this store applies now (the setting in force, else config `discovery.keyChange`). */
  keyChangePolicy(): Promise<KeyChangePolicy> {
    return discovered.keyChangePolicy(this.#ctx);
  }

  /** What `recordFetched` would make of this fingerprint, read-only: new address, same key, change, refused. */
  classifyFetched(address: string, fingerprint: string): Promise<'new' | 'same' | 'change' | 'rejected'> {
    return discovered.classifyFetched(this.#ctx, address, fingerprint);
  }

  /** Key changes, newest first: those waiting for the admin, or all of them. */
  listKeyChanges(filter: { status?: 'held' | 'all'; address?: string } = {}): Promise<KeyChange[]> {
    return changes.listKeyChanges(this.#ctx, filter);
  }

  /** The admin's decision on a held change (approve or reject), audited with the actor. */
  decideKeyChange(
    id: string,
    decision: 'approve' | 'reject',
    actor: string,
    ip?: string,
  ): Promise<KeyChange> {
    return changes.decideKeyChange(this.#ctx, id, decision, actor, ip);
  }

  /** Merge a refused copy (revoked, expired) of a discovered key we hold into it. */
  mergeRefused(address: string, fingerprint: string, binary: Uint8Array): Promise<boolean> {
    return discovered.mergeRefused(this.#ctx, address, fingerprint, binary);
  }

  /** Addresses with a discovered key the refresh has not asked about since `dueBefore` (epoch ms). */
  discoveredAddresses(dueBefore = Number.MAX_SAFE_INTEGER): Promise<string[]> {
    return discovered.discoveredAddresses(this.#ctx, dueBefore);
  }

  /** The refresh asked the sources about `address` now (whatever they answered). */
  markRefreshed(address: string): Promise<void> {
    return discovered.markRefreshed(this.#ctx, address);
  }

  /** Drop the address's active discovered keys that are unusable at the clock's now; returns how many. */
  dropUnusable(address: string): Promise<number> {
    return discovered.dropUnusable(this.#ctx, address);
  }

  /** The armored public key to hand out for `address`: its sender key, else its newest recipient key. */
  exportPublic(address: string): Promise<string | undefined> {
    return lookup.exportPublic(this.#ctx, address);
  }

  /**
   * The active sender key of `address`, private half armored and locked with `passphrase` (for reading
   * PGP/MIME in her own mail program); undefined when the address has none. Never a key in clear.
   */
  async exportSecret(
    address: string,
    passphrase: string,
  ): Promise<{ armored: string; fingerprint: string } | undefined> {
    const sender = await this.senderKey(address);
    if (!sender) return undefined;
    return {
      armored: await lockedPrivateKey(sender.signer, passphrase),
      fingerprint: sender.signer.fingerprint,
    };
  }

  /** Every sender key (active, retired, revoked) and every recipient key with its state. */
  list(): Promise<KeyListing[]> {
    return lookup.listKeys(this.#ctx);
  }

  /** One page of recipient keys, searched by address or fingerprint (the admin console's keys screen). */
  recipientKeyPage(filter: { q?: string; offset: number; limit: number }): Promise<pages.RecipientKeyPage> {
    return pages.recipientKeyPage(this.#ctx, filter);
  }

  /** A public key the pickup contact uploaded for themselves (source 'pickup'); returns its fingerprint. */
  registerPickupKey(address: string, armored: string): Promise<string> {
    return pinned.registerPickupKey(this.#ctx, address, armored);
  }

  /** Record a key learned from an Autocrypt header of inbound mail; see discovered.ts. */
  recordAutocrypt(
    address: string,
    keyBytes: Uint8Array,
    options: { contactFingerprint?: string } = {},
  ): Promise<'stored' | 'known' | 'changed' | 'local'> {
    return discovered.recordAutocrypt(this.#ctx, address, keyBytes, options);
  }
}
