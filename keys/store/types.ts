import type { Kysely } from 'kysely';
import type { Clock } from '../../core/clock.ts';
import type { Database } from '../../core/db/schema.ts';
import type { Log } from '../../core/log.ts';
import type { Sealer } from '../../core/seal.ts';
import type { EncryptionKey, KeyProblem, SigningKey } from '../openpgp/index.ts';
import type { ParseCache } from './parse-cache.ts';

/** The key store's shapes, errors and source ranking, shared by its parts (keys/store/*). */
export type RecipientKeyStatus =
  | {
      state: 'usable';
      key: EncryptionKey;
      fingerprint: string;
      source: string;
      expires: Date | null;
      /** Where a discovered key was fetched from, and when it was last confirmed there. */
      sourceUrl?: string | null;
      lastCheckedAt?: Date;
    }
  | { state: 'unusable'; problem: KeyProblem; fingerprint: string; source: string }
  /** A changed key waits for the admin (key-change policy 'hold'): neither it nor the old key is used. */
  | { state: 'held'; fingerprint: string; previous: string; source: string; changeId: string }
  | { state: 'none' };

/**
 * Where a recipient key came from; lower ranks are asked first (DESIGN.md "Keys": the lookup order).
 * 'sender' is a local address's own sender key: it is the only key such an address ever has.
 */
export const SOURCE_RANK: Record<string, number> = {
  sender: -1,
  admin: 0,
  pickup: 1,
  'wkd-advanced': 2,
  'wkd-direct': 2,
  vks: 3,
  autocrypt: 4,
};
/** Sources an admin or the recipient vouched for: discovery never replaces or holds against them. */
export const AUTHORITATIVE = new Set(['admin', 'pickup']);
/** The `problem` of a recipient key the admin dropped (recipient-admin.ts): discovery does not revive it. */
export const ADMIN_DROPPED = 'dropped-by-admin';
export const DISCOVERED_SOURCES = ['wkd-advanced', 'wkd-direct', 'vks', 'autocrypt'] as const;
export type DiscoveredSource = (typeof DISCOVERED_SOURCES)[number];

export function rank(source: string): number {
  return SOURCE_RANK[source] ?? 9;
}

export type KeyChangePolicy = 'hold' | 'accept-and-log';

/** What recording a fetched key did. */
export type RecordOutcome =
  | 'stored' // the address had no key: the new one is used from now on
  | 'known' // the same key again (its material refreshed: new subkeys, expiry, revocations)
  | 'held' // a different key, held for the admin (policy 'hold')
  | 'replaced' // a different key, taken and logged (policy 'accept-and-log')
  | 'rejected'; // the admin refused this very key earlier

export interface KeyChange {
  id: string;
  address: string;
  oldFingerprint: string;
  newFingerprint: string;
  source: string;
  sourceUrl: string | null;
  status: 'held' | 'approved' | 'rejected' | 'accepted';
  createdAt: Date;
  decidedAt: Date | null;
  decidedBy: string | null;
}

export class KeyChangeError extends Error {
  override name = 'KeyChangeError';
  constructor(readonly reason: 'not-found' | 'not-held') {
    super(reason === 'not-found' ? 'no such key change' : 'this key change was already decided');
  }
}

/** Who did a key action, for its audit entry: 'cli', or a console admin's login and IP. */
export interface KeyActor {
  actor: string;
  ip?: string;
}

export interface SenderKey {
  address: string;
  signer: SigningKey;
}

export interface ImportResult {
  kind: 'sender' | 'recipient';
  fingerprint: string;
  addresses: string[];
}

export interface KeyListing {
  kind: 'sender' | 'recipient';
  address: string;
  fingerprint: string;
  source: string;
  status: string;
}

export class KeyImportError extends Error {
  override name = 'KeyImportError';
}

export interface KeyStoreDeps {
  db: Kysely<Database>;
  sealer: Sealer;
  clock: Clock;
  log: Log;
  /**
   * A known address presenting a different key (discovery, Autocrypt): default 'hold'. A function is asked
   * at every fetched key (the admin's setting in force, core/settings.ts), so a change needs no restart.
   */
  keyChange?: KeyChangePolicy | (() => Promise<KeyChangePolicy>);
}

/** What every part of the key store works with: its dependencies and the one parse cache. */
export interface KeyStoreContext {
  deps: KeyStoreDeps;
  cache: ParseCache;
}
