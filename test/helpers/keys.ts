import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fixedClock, type Clock } from '../../core/clock.ts';
import { Sealer } from '../../core/seal.ts';
import {
  generateKeyPair,
  parseEncryptionKey,
  parseSigningKey,
  type EncryptionKey,
  type SigningKey,
} from '../../keys/openpgp/index.ts';
import { KeyStore } from '../../keys/store/index.ts';
import { openTestDb, type TestDb, type TestDbKind } from './db.ts';
import { captureLog } from './log.ts';

/** test/fixtures/keys: made once with GnuPG and sq (see the README there). TEST ONLY. */
export const KEY_FIXTURE_DIR = path.join(
  path.dirname(fileURLToPath(import.meta.url)),
  '..',
  'fixtures',
  'keys',
);

/** Every fixture key is valid from this instant on (gpg and sq ran with a faked time); `expired` is older. */
export const FIXTURES_CREATED = new Date('2025-01-01T00:00:00Z');
/** A "now" at which every good fixture is usable and `expired` has long expired. */
export const FIXTURE_NOW = new Date('2025-06-01T12:00:00Z');
/** The `expired` fixture's validity: created at the start, expires at the end. */
export const EXPIRED_VALID_FROM = new Date('2024-01-01T00:00:00Z');
export const EXPIRED_VALID_UNTIL = new Date('2024-01-02T00:00:00Z');

export type PublicFixture =
  'rsa3072' | 'weak' | 'weaksub' | 'dsa' | 'signonly' | 'revoked' | 'expired' | 'gpg25519' | 'sq25519';
export type SecretFixture = 'rsa3072' | 'gpg25519' | 'sq25519';

/** The armored public key of a fixture; its address is `<name>@example.org`. */
export function fixturePublicKey(name: PublicFixture): string {
  return readFileSync(path.join(KEY_FIXTURE_DIR, `${name}.pub.asc`), 'utf8');
}

/** The armored, unprotected secret key of a fixture (test only). */
export function fixtureSecretKey(name: SecretFixture): string {
  return readFileSync(path.join(KEY_FIXTURE_DIR, `${name}.sec.asc`), 'utf8');
}

export function fixtureAddress(name: PublicFixture): string {
  return `${name}@example.org`;
}

/** A fixture as both halves: the encryption key others use and the key its owner decrypts with. */
export async function fixturePair(
  name: SecretFixture,
): Promise<{ pub: EncryptionKey; sec: SigningKey; armoredPublic: string; armoredSecret: string }> {
  const armoredPublic = fixturePublicKey(name);
  const armoredSecret = fixtureSecretKey(name);
  return {
    pub: await parseEncryptionKey(armoredPublic),
    sec: await parseSigningKey(armoredSecret),
    armoredPublic,
    armoredSecret,
  };
}

export interface TestKeyPair {
  address: string;
  signer: SigningKey;
  encryption: EncryptionKey;
  publicKey: string; // armored
  privateKey: string; // armored, unprotected
}

/** A fresh sender-style key pair (Ed25519/Cv25519 by keys/openpgp/), created at `now`. */
export async function freshKeyPair(address: string, now: Date = FIXTURE_NOW): Promise<TestKeyPair> {
  const pair = await generateKeyPair({ address, name: 'Test Sender', now });
  return {
    address,
    signer: await parseSigningKey(pair.privateKey),
    encryption: await parseEncryptionKey(pair.publicKey),
    publicKey: pair.publicKey,
    privateKey: pair.privateKey,
  };
}

export interface TestKeyStore {
  store: KeyStore;
  db: TestDb;
  clock: Clock;
  cleanup(): Promise<void>;
}

/** A KeyStore over a fresh database (SQLite by default) with a random master key and a fixed clock. */
export async function openTestKeyStore(
  now: Date = FIXTURE_NOW,
  kind: TestDbKind = 'sqlite',
): Promise<TestKeyStore> {
  const db = await openTestDb(kind);
  const clock = fixedClock(now);
  const store = new KeyStore({
    db: db.db.kysely,
    sealer: new Sealer(randomBytes(32)),
    clock,
    log: captureLog().log,
  });
  return { store, db, clock, cleanup: () => db.cleanup() };
}
