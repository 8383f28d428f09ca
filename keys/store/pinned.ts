import { audit } from '../../core/audit.ts';
import { newId, normaliseAddress } from '../../core/ids.ts';
import {
  armorPublic,
  checkParsedKey,
  keyFacts,
  narrowKeyToAddress,
  parseSigningKey,
  readAllKeys,
  readAnyKey,
  unlockedPrivateKey,
  type KeyFacts,
} from '../openpgp/index.ts';
import { storeSenderKey } from './sender-keys.ts';
import {
  ADMIN_DROPPED,
  KeyImportError,
  type ImportResult,
  type KeyActor,
  type KeyStoreContext,
} from './types.ts';

/**
 * Keys someone vouched for: imported by the admin (a private key becomes a sender key, a public key an
 * admin-pinned recipient key) or registered by a pickup contact for themselves (source 'pickup').
 */

/**
 * Import keys from an armored or binary block. A private key becomes the sender key of each of its User
 * ID addresses; a public key becomes an admin-pinned recipient key after validation (unusable keys are
 * refused with the reason). A private key locked with a passphrase is unlocked with `passphrase` (the
 * console's import field) and then sealed with the master key like any other. `senderAllowed` (the
 * console's import) refuses a private key naming an address no user may send as: the whole block is
 * checked before anything is stored.
 */
export async function importKeys(
  ctx: KeyStoreContext,
  input: string | Uint8Array,
  who: KeyActor = { actor: 'cli' },
  passphrase?: string,
  senderAllowed?: (address: string) => Promise<boolean>,
): Promise<ImportResult[]> {
  let keys;
  try {
    keys = await readAllKeys(input);
  } catch {
    throw new KeyImportError('no OpenPGP key could be read from the input');
  }
  const now = ctx.deps.clock.now();
  if (senderAllowed) {
    for (const key of keys) {
      if (!key.isPrivate()) continue;
      for (const address of (await keyFacts(key)).emails) {
        if (!(await senderAllowed(address)))
          throw new KeyImportError(`${address} is not an address a user may send as`);
      }
    }
  }
  const results: ImportResult[] = [];
  for (const key of keys) {
    const check = await checkParsedKey(key, now);
    const facts = check.facts ?? (await keyFacts(key));
    if (!check.usable) throw new KeyImportError(`key ${facts.fingerprint} is not usable: ${check.problem}`);
    if (facts.emails.length === 0)
      throw new KeyImportError(`key ${facts.fingerprint} has no User ID with an address`);
    if (key.isPrivate()) {
      const unlocked = passphrase
        ? await unlockedPrivateKey(key, passphrase).catch(() => {
            throw new KeyImportError(`key ${facts.fingerprint}: the passphrase does not unlock it`);
          })
        : key;
      const signer = await parseSigningKey(unlocked.armor()).catch((err: Error) => {
        throw new KeyImportError(err.message);
      });
      for (const address of facts.emails) {
        await storeSenderKey(
          ctx,
          {
            address,
            fingerprint: facts.fingerprint,
            publicKey: armorPublic(key),
            privateKey: signer.key.armor(),
            origin: 'imported',
          },
          who,
        );
      }
      results.push({ kind: 'sender', fingerprint: facts.fingerprint, addresses: facts.emails });
    } else {
      for (const address of facts.emails)
        await storeRecipientKey(ctx, address, facts, armorPublic(key), 'admin', now, who);
      results.push({ kind: 'recipient', fingerprint: facts.fingerprint, addresses: facts.emails });
    }
  }
  return results;
}

/** Pin (or re-pin, replacing the material of the same key) a recipient key of `address`, audited. */
async function storeRecipientKey(
  ctx: KeyStoreContext,
  address: string,
  facts: KeyFacts,
  publicKey: string,
  source: string,
  now: Date,
  who: KeyActor = { actor: 'cli' },
): Promise<void> {
  const ts = now.getTime();
  await ctx.deps.db.transaction().execute(async (tx) => {
    const existing = await tx
      .selectFrom('recipient_keys')
      .select(['id', 'status', 'problem'])
      .where('address', '=', address)
      .where('fingerprint', '=', facts.fingerprint)
      .executeTakeFirst();
    // An import vouches for a dropped key again (dropped by the admin or the refresh) — but only the
    // admin's: a contact's own upload on the pickup page does not bring back what the admin dropped.
    if (existing?.status === 'dropped' && existing.problem === ADMIN_DROPPED && source !== 'admin') {
      throw new KeyImportError(`key ${facts.fingerprint} was dropped by the practice`);
    }
    if (existing) {
      await tx
        .updateTable('recipient_keys')
        .set({
          public_key: publicKey,
          source,
          last_checked_at: ts,
          ...(existing.status === 'dropped' ? { status: 'active' as const, problem: null } : {}),
        })
        .where('id', '=', existing.id)
        .execute();
    } else {
      await tx
        .insertInto('recipient_keys')
        .values({
          id: newId(),
          address,
          fingerprint: facts.fingerprint,
          public_key: publicKey,
          source,
          source_url: null,
          first_seen_at: ts,
          last_checked_at: ts,
          created_at: ts,
        })
        .execute();
    }
    await audit(
      tx,
      { ...who, action: 'recipient-key.import', subject: address, detail: facts.fingerprint },
      now,
    );
  });
}

/**
 * A public key the pickup contact uploaded for themselves (the API checked it is usable and carries the
 * contact's address): from now on the policy sends PGP/MIME to them. Source 'pickup'.
 */
export async function registerPickupKey(
  ctx: KeyStoreContext,
  address: string,
  armored: string,
): Promise<string> {
  const addr = normaliseAddress(address);
  const now = ctx.deps.clock.now();
  // Only what the contact vouches for: the User IDs of their own address (never another address's).
  const narrowed = await narrowKeyToAddress({
    data: armorPublic(await readAnyKey(armored)),
    address: addr,
    now,
  });
  if (!narrowed.ok) throw new KeyImportError(`the key is not usable for ${addr}: ${narrowed.problem}`);
  const key = await readAnyKey(narrowed.binary);
  const facts = await keyFacts(key);
  await storeRecipientKey(ctx, addr, facts, armorPublic(key), 'pickup', now, { actor: `pickup:${addr}` });
  return facts.fingerprint;
}
