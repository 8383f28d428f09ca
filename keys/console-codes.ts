import type { Insertable } from 'kysely';
import type { Clock } from '../core/clock.ts';
import type { ConsoleCodesTable, SentSubjectsTable } from '../core/db/schema.ts';
import { newId } from '../core/ids.ts';
import type { Sealer } from '../core/seal.ts';
import type { ConsoleKeyRow, Stores } from '../core/store/index.ts';
import type { CryptoPool } from './crypto-pool.ts';
import { decodeWords } from './mime/edge.ts';
import { getValue, type SplitMessage } from './mime/mime.ts';
import { encryptToKey } from './openpgp/index.ts';
import { ParseCache } from './store/parse-cache.ts';

/**
 * Access codes for the practitioner's console (docs/console.md): a new contact's code is encrypted to her
 * console key and stored sealed; only her browser, with her password, can read it. No code is ever written
 * readable, and none goes by e-mail (DESIGN.md invariant 6).
 */

/**
 * Make her console key when she has none: called where the server holds her password anyway (SMTP AUTH,
 * the console's sign-in), so that the key exists before the first code is made for her. The private half
 * is locked with the key her browser derives from the same password (keys/crypto-tasks.ts consoleKey).
 */
export async function ensureConsoleKey(
  deps: { stores: Stores; crypto: CryptoPool; clock: Clock },
  user: { id: string; login: string },
  password: string,
): Promise<'exists' | 'created'> {
  if (await deps.stores.console.keyOf(user.id)) return 'exists';
  const now = deps.clock.now();
  const material = await deps.crypto.run('consoleKey', {
    address: user.login,
    userId: user.id,
    password,
    nowMs: now.getTime(),
  });
  const inserted = await deps.stores.console.addKey({
    user_id: user.id,
    fingerprint: material.fingerprint,
    public_key: material.publicKey,
    locked_private_key: Buffer.from(material.locked),
    kdf: material.kdf,
    created_at: now.getTime(),
  });
  return inserted ? 'created' : 'exists';
}

/** The row that holds `code` for her console: OpenPGP to her console key, sealed with the master key. */
export async function consoleCodeRow(
  deps: { sealer: Sealer },
  key: ConsoleKeyRow,
  input: { userId: string; contactAddress: string; code: string; now: Date },
): Promise<Insertable<ConsoleCodesTable>> {
  const id = newId();
  const encrypted = await encryptToConsoleKey(key, input.code, input.now);
  return {
    id,
    user_id: input.userId,
    contact_address: input.contactAddress,
    key_fingerprint: key.fingerprint,
    ciphertext: deps.sealer.seal('console', encrypted, id),
    created_at: input.now.getTime(),
  };
}

/** A message's subject as she wrote it (encoded words decoded, folding undone); undefined without one. */
export function subjectOf(split: SplitMessage): string | undefined {
  const raw = getValue(split.fields, 'subject');
  return raw === undefined ? undefined : decodeWords(raw.replace(/\r?\n[ \t]/g, ' ')).trim();
}

/**
 * The row that keeps a sent message's subject for her sent list: OpenPGP to her console key, sealed with
 * the master key (aad `subject:<batch id>`); only her browser reads it (docs/console.md "Sent messages").
 */
export async function sentSubjectRow(
  deps: { sealer: Sealer },
  key: ConsoleKeyRow,
  input: { userId: string; batchId: string; subject: string; now: Date },
): Promise<Insertable<SentSubjectsTable>> {
  const encrypted = await encryptToConsoleKey(key, input.subject, input.now);
  return {
    batch_id: input.batchId,
    user_id: input.userId,
    key_fingerprint: key.fingerprint,
    ciphertext: deps.sealer.seal('console', encrypted, `subject:${input.batchId}`),
  };
}

/**
 * `text` (a code, a subject) as an OpenPGP message to her console key: only her browser, with her password,
 * can read it.
 */
export async function encryptToConsoleKey(key: ConsoleKeyRow, text: string, now: Date): Promise<Uint8Array> {
  const to = await consoleKeys.publicKey(key.fingerprint, key.public_key);
  return encryptToKey({ data: Buffer.from(text, 'utf8'), to, now });
}

/**
 * Console keys parsed once per key material, not once per message: every sent message's subject is
 * encrypted to its sender's console key on the event loop, and parsing the armored key and verifying its
 * self-signatures anew each time (openpgp.js remembers a verified signature on the parsed key only) cost
 * more than the encryption itself (docs/performance.md, issue 17, 2026-12-03). Keyed by fingerprint and
 * a hash of the material, so a replaced key (a password reset) is parsed afresh.
 */
const consoleKeys = new ParseCache();
