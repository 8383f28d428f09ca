import { createHash } from 'node:crypto';

/**
 * Web Key Directory names (draft-koch-openpgp-webkey-service §3.1). Pure functions, no network: key
 * discovery builds the URLs it fetches from them, WKD publishing the paths it serves.
 */

/** z-base-32 (RFC 6189 §5.1.6; the WKD draft's encoding of the hashed local part). */
const Z_BASE_32 = 'ybndrfg8ejkmcpqxot1uwisza345h769';

function zBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      out += Z_BASE_32[(buffer >>> (bits - 5)) & 31];
      bits -= 5;
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += Z_BASE_32[(buffer << (5 - bits)) & 31];
  return out;
}

/**
 * The WKD hash of a local part: z-base-32 of the SHA-1 of the local part mapped to lower case (ASCII only,
 * as the draft says: "mapping all upper-case ASCII characters to lower-case"). Always 32 characters.
 */
export function wkdHash(localPart: string): string {
  const lowered = localPart.replace(/[A-Z]/g, (c) => c.toLowerCase());
  return zBase32(createHash('sha1').update(lowered, 'utf8').digest());
}

export interface WkdAddress {
  local: string; // as written (the `l=` parameter)
  domain: string; // lower-cased
  hash: string;
}

/** Split an address at its last `@`; throws on anything that is not `local@domain`. */
export function wkdAddress(address: string): WkdAddress {
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  const domain = address.slice(at + 1).toLowerCase();
  if (at < 1 || !domain || /[\s/?#@\\]/.test(domain) || /\s/.test(local)) {
    throw new Error('not an e-mail address');
  }
  return { local, domain, hash: wkdHash(local) };
}

/** The host of the advanced method for a domain. */
export function wkdAdvancedHost(domain: string): string {
  return `openpgpkey.${domain.toLowerCase()}`;
}

/** The URL paths (with query) of both methods; the host is `wkdAdvancedHost(domain)` resp. the domain. */
export function wkdPaths(address: string): { advanced: string; direct: string } {
  const { local, domain, hash } = wkdAddress(address);
  const query = `?l=${encodeURIComponent(local)}`;
  return {
    advanced: `/.well-known/openpgpkey/${domain}/hu/${hash}${query}`,
    direct: `/.well-known/openpgpkey/hu/${hash}${query}`,
  };
}

/** The URLs of the advanced and the direct method for an address (HTTPS on the default port). */
export function wkdUrls(address: string): { advanced: string; direct: string } {
  const { domain } = wkdAddress(address);
  const paths = wkdPaths(address);
  return {
    advanced: `https://${wkdAdvancedHost(domain)}${paths.advanced}`,
    direct: `https://${domain}${paths.direct}`,
  };
}
