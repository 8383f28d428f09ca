import type { Kysely } from 'kysely';
import type { Database } from '../core/db/schema.ts';
import { wkdHash } from './discovery/wkd.ts';
import { publishedKey } from './openpgp/index.ts';
import { activeSenderKeysInDomain } from './store/index.ts';

/**
 * WKD publishing (DESIGN.md "Keys"; docs/discovery.md "Publishing (WKD)"): the active sender keys, found by
 * domain and the z-base-32 SHA-1 hash of the local part (draft-koch-openpgp-webkey-service §3.1), each
 * served with only the User IDs of its own address. The webmail's /.well-known/openpgpkey routes call this.
 */

/** A domain name as WKD paths carry it: lower-case labels of letters, digits and inner hyphens. */
export const WKD_DOMAIN =
  /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
/** 32 characters of the z-base-32 alphabet: the encoding of a 160-bit SHA-1. */
export const WKD_HASH = /^[ybndrfg8ejkmcpqxot1uwisza345h769]{32}$/;

async function activeSenderKeys(db: Kysely<Database>, domain: string) {
  const d = domain.toLowerCase();
  // The domain check keeps LIKE's wildcards (`%`, `_`) out of the pattern; the suffix test is exact.
  if (!WKD_DOMAIN.test(d)) return [];
  return activeSenderKeysInDomain(db, d);
}

/** Whether Sealpost publishes keys for `domain`: it has an active sender key of an address there. */
export async function wkdPublishesDomain(db: Kysely<Database>, domain: string): Promise<boolean> {
  return (await activeSenderKeys(db, domain)).length > 0;
}

/**
 * The binary public keys WKD serves for `hash` at `domain` (both as in the request path; compared in lower
 * case): the active sender key of the address `local@domain` with wkdHash(local) === hash, and its revoked
 * keys with their revocation signatures (so that a correspondent's program learns of a revocation), each
 * narrowed to that address's User IDs and concatenated, the active key first (WKD allows several keys in one
 * answer). A key rotated away is not served. Undefined when there is none.
 */
export async function wkdPublishedKey(
  db: Kysely<Database>,
  input: { domain: string; hash: string },
): Promise<Uint8Array | undefined> {
  const hash = input.hash.toLowerCase();
  if (!WKD_HASH.test(hash)) return undefined;
  const found: Uint8Array[] = [];
  for (const row of await activeSenderKeys(db, input.domain)) {
    const local = row.address.slice(0, row.address.lastIndexOf('@'));
    if (wkdHash(local) !== hash) continue;
    const key = await publishedKey({ armored: row.public_key, address: row.address });
    if (key) found.push(key.binary);
  }
  return found.length === 0 ? undefined : Buffer.concat(found);
}
