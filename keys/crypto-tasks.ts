import {
  authHash,
  deriveKeys,
  formatAccessCode,
  lockPrivateKey,
  newAccessCode,
  newKdf,
} from './access-code.ts';
import {
  decryptInbound,
  encryptAndSignArmoredCrlf,
  encryptAndSignBinary,
  encryptionKeyFromBytes,
  generateContactKeyPair,
  signingKeyFromBytes,
  type InboundDecryption,
} from './openpgp/index.ts';

/**
 * The CPU-heavy work that runs in the crypto pool's threads (keys/crypto-pool.ts), never on the event loop
 * that serves SMTP and HTTP: each entry of TASKS is a pure function from a plain input to a plain output
 * (both cross the thread boundary by structured clone, so no class instances, no openpgp objects).
 * OpenPGP sign and encrypt of one copy (keys/sign-encrypt.ts) is one too: the per-message work of the
 * gateway on the second core.
 */
export interface ContactSecretInput {
  address: string; // normalised
  contactId: string;
  nowMs: number;
}

/** A new pickup contact's key pair, access code and lock (DESIGN.md "Pickup crypto"). */
export interface ContactSecret {
  /** The access code, formatted (`7F3K-Q9XD-2M`): for the sender's receipt only, never stored. */
  code: string;
  fingerprint: string;
  publicKey: string; // armored
  /** The private key locked with lockKey (AES-256-GCM, the contact id as AAD). */
  locked: Uint8Array;
  kdf: string; // JSON of the KdfParams
  authHash: string; // SHA-256(authKey), hex
}

/** Key generation, then Argon2id (64 MiB, t=1: an issued code's cost, keys/access-code.ts CODE_KDF). */
export async function contactSecret(input: ContactSecretInput): Promise<ContactSecret> {
  const pair = await generateContactKeyPair({ address: input.address, now: new Date(input.nowMs) });
  const code = newAccessCode();
  const kdf = newKdf('code');
  const { authKey, lockKey } = await deriveKeys(code, kdf);
  const locked = lockPrivateKey(pair.privateKey, lockKey, input.contactId);
  pair.privateKey.fill(0);
  lockKey.fill(0);
  return {
    code: formatAccessCode(code),
    fingerprint: pair.fingerprint,
    publicKey: pair.publicKey,
    locked,
    kdf: JSON.stringify(kdf),
    authHash: authHash(authKey),
  };
}

/** Who gets a console key, and the password her browser will derive the lock from (docs/console.md). */
export interface ConsoleKeyInput {
  address: string; // normalised login
  userId: string;
  password: string;
  nowMs: number;
}

export interface ConsoleKeyMaterial {
  fingerprint: string;
  publicKey: string; // armored
  /** The private key locked with lockKey (AES-256-GCM, `console:<user id>` as the AAD's id). */
  locked: Uint8Array;
  kdf: string; // JSON of the KdfParams
}

/** The lock's id: the same layout as a contact's (keys/access-code.ts), in a namespace no contact id has. */
export function consoleLockId(userId: string): string {
  return `console:${userId}`;
}

/**
 * A practitioner's console key pair, its private half locked by Argon2id(password) exactly as the browser
 * derives it (the pickup app's derivation: lockKey is the second half). The password and the private key
 * exist only in this call's memory; authKey is not used (the console signs in with the user's password).
 */
export async function consoleKey(input: ConsoleKeyInput): Promise<ConsoleKeyMaterial> {
  const pair = await generateContactKeyPair({ address: input.address, now: new Date(input.nowMs) });
  const kdf = newKdf('passphrase');
  const { authKey, lockKey } = await deriveKeys(input.password, kdf);
  const locked = lockPrivateKey(pair.privateKey, lockKey, consoleLockId(input.userId));
  pair.privateKey.fill(0);
  lockKey.fill(0);
  authKey.fill(0);
  return { fingerprint: pair.fingerprint, publicKey: pair.publicKey, locked, kdf: JSON.stringify(kdf) };
}

/** One copy to sign and encrypt: the payload joined, the keys as binary packets (keys/openpgp/wire.ts). */
export interface SignEncryptInput {
  data: Uint8Array;
  to: Uint8Array[];
  signer: Uint8Array;
  nowMs: number;
  format: 'armored-crlf' | 'binary';
}

/** The same call as in the gateway's thread; the keys parsed once per thread and cached. */
export async function signEncrypt(input: SignEncryptInput): Promise<Uint8Array[]> {
  const [to, signer] = await Promise.all([
    Promise.all(input.to.map(encryptionKeyFromBytes)),
    signingKeyFromBytes(input.signer),
  ]);
  const args = { parts: [input.data], to, signer, now: new Date(input.nowMs) };
  return input.format === 'binary' ? encryptAndSignBinary(args) : encryptAndSignArmoredCrlf(args);
}

/** One inbound message to decrypt and verify (keys/open-inbound.ts), the keys as binary packets. */
export interface OpenInboundInput {
  armored: string;
  decryptionKeys: Uint8Array[];
  verificationKeys: Uint8Array[];
  candidateKeys: Uint8Array[];
  nowMs: number;
  maxDecompressedBytes: number;
}

/** decryptInbound in a pool thread: the same checks, a plain value back (never plaintext on a failure). */
export async function openInbound(input: OpenInboundInput): Promise<InboundDecryption> {
  const [decryptionKeys, verificationKeys, candidateKeys] = await Promise.all([
    Promise.all(input.decryptionKeys.map(signingKeyFromBytes)),
    Promise.all(input.verificationKeys.map(encryptionKeyFromBytes)),
    Promise.all(input.candidateKeys.map(encryptionKeyFromBytes)),
  ]);
  return decryptInbound({
    armored: input.armored,
    decryptionKeys,
    verificationKeys,
    candidateKeys,
    now: new Date(input.nowMs),
    maxDecompressedBytes: input.maxDecompressedBytes,
  });
}

export const TASKS = { contactSecret, consoleKey, signEncrypt, openInbound } as const;
export type TaskName = keyof typeof TASKS;
export type TaskInput<K extends TaskName> = Parameters<(typeof TASKS)[K]>[0];
export type TaskOutput<K extends TaskName> = Awaited<ReturnType<(typeof TASKS)[K]>>;

/** The message a pool thread receives. */
export interface TaskMessage<K extends TaskName = TaskName> {
  task: K;
  input: TaskInput<K>;
}

/** Run one task (in a pool thread, or in this thread for tools that have no pool). */
export function runTask<K extends TaskName>(message: TaskMessage<K>): Promise<TaskOutput<K>> {
  const fn = TASKS[message.task] as unknown as (input: TaskInput<K>) => Promise<TaskOutput<K>>;
  if (typeof fn !== 'function') throw new Error(`unknown crypto task ${String(message.task)}`);
  return fn(message.input);
}
