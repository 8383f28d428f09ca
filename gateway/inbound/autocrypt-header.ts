import { fieldValue, type HeaderField } from '../../keys/mime/mime.ts';
import { fromAddress } from './mime.ts';
import { autocryptKey, type KeyProblem } from '../../keys/openpgp/index.ts';

/**
 * Autocrypt (Level 1, §2.1) headers on inbound mail: `addr=…; [prefer-encrypt=mutual;] keydata=…`.
 * A header whose addr is not the From address is ignored, as are all of them when there is more than one
 * for that address, and any header with an unknown attribute that does not start with `_`.
 */
export interface AutocryptHeader {
  addr: string; // lower-cased
  keydata: Uint8Array;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const KNOWN = new Set(['addr', 'keydata', 'prefer-encrypt']);

export function parseAutocrypt(value: string): AutocryptHeader | undefined {
  const attributes = new Map<string, string>();
  for (const part of value.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) {
      if (part.trim()) return undefined;
      continue;
    }
    const name = part.slice(0, eq).trim().toLowerCase();
    if (!KNOWN.has(name) && !name.startsWith('_')) return undefined;
    if (attributes.has(name)) return undefined;
    attributes.set(name, part.slice(eq + 1).trim());
  }
  const addr = attributes.get('addr')?.toLowerCase();
  const keydata = attributes.get('keydata')?.replace(/\s+/g, '');
  if (!addr || !/^[^\s@<>]+@[^\s@<>]+$/.test(addr) || !keydata || !BASE64.test(keydata)) return undefined;
  return { addr, keydata: Buffer.from(keydata, 'base64') };
}

export type AutocryptFinding =
  | { found: false }
  | { found: true; address: string; ok: true; binary: Uint8Array; fingerprint: string }
  | { found: true; address: string; ok: false; problem: KeyProblem | 'no-user-id' | 'ambiguous' };

/**
 * The Autocrypt key a message offers for its From address (`fromAddress`: unambiguous, or none), validated
 * at `now` (usable, public, the algorithm floor) and reduced to the User IDs of that address. Whether the
 * key may be learned is not decided here: that needs proof that the From domain sent the message (DKIM)
 * and that the message is signed by this key (gateway/inbound/autocrypt.ts, DESIGN.md invariant 7).
 */
export async function autocryptFinding(fields: readonly HeaderField[], now: Date): Promise<AutocryptFinding> {
  const from = fromAddress(fields);
  if (!from) return { found: false };
  const headers = fields
    .filter((f) => f.lower === 'autocrypt')
    .map((f) => parseAutocrypt(fieldValue(f)))
    .filter((h): h is AutocryptHeader => !!h && h.addr === from);
  if (headers.length === 0) return { found: false };
  if (headers.length > 1) return { found: true, address: from, ok: false, problem: 'ambiguous' };
  const result = await autocryptKey({ keydata: headers[0]!.keydata, address: from, now });
  return { found: true, address: from, ...result };
}
