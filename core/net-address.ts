import { isIP, isIPv6 } from 'node:net';

/**
 * Client addresses as the per-address limits see them (SMTP AUTH, connections, pickup unlock), and the
 * syntax of the proxy addresses that `trustProxy` names.
 */

/** An IPv4 peer of a dual-stack listener is reported as ::ffff:a.b.c.d; it is the same client as a.b.c.d. */
export function plainAddress(address: string): string {
  const trimmed = address.trim().toLowerCase();
  const v4 = trimmed.startsWith('::ffff:') ? trimmed.slice(7) : trimmed;
  return isIP(v4) === 4 ? v4 : trimmed;
}

/**
 * The key a per-address limit counts under: an IPv4 address as it is, an IPv6 address by its /64 — one
 * subscriber line or one server gets a whole /64 and could otherwise take a fresh address per attempt.
 * Anything that is not an address (a Unix socket peer has none) is one key, 'unknown', limited as one.
 */
export function clientKey(address: string | undefined): string {
  if (!address) return 'unknown';
  const plain = plainAddress(address);
  if (isIP(plain) === 4) return plain;
  if (!isIPv6(plain)) return 'unknown';
  return `${expandIPv6(plain).slice(0, 4).join(':')}::/64`;
}

/** The eight groups of an IPv6 address, each without leading zeros ("2001:db8::1" → 2001, db8, 0, … 1). */
function expandIPv6(address: string): string[] {
  const [head = '', tail] = address.split('::', 2);
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  // an embedded IPv4 tail (::ffff:1.2.3.4 is handled above; 64:ff9b::1.2.3.4 is not) takes two groups
  const last = right.length ? right : left;
  const v4 = last.length && last[last.length - 1]!.includes('.') ? last.pop()! : undefined;
  if (v4) {
    const [a = 0, b = 0, c = 0, d = 0] = v4.split('.').map(Number);
    last.push(((a << 8) | b).toString(16), ((c << 8) | d).toString(16));
  }
  const missing = tail === undefined ? 0 : 8 - left.length - right.length;
  return [...left, ...Array<string>(missing).fill('0'), ...right].map((g) =>
    (parseInt(g, 16) || 0).toString(16),
  );
}

/** An IP address (v4 or v6), the form smtp-server's `useProxy` list takes. */
export function isIpAddress(value: string): boolean {
  return isIP(value) !== 0;
}

/** An address or a CIDR block (10.0.0.0/8, fd00::/8), the forms Express's `trust proxy` takes. */
export function isIpOrCidr(value: string): boolean {
  const slash = value.indexOf('/');
  if (slash < 0) return isIpAddress(value);
  const ip = value.slice(0, slash);
  const bits = value.slice(slash + 1);
  const family = isIP(ip);
  if (family === 0 || !/^\d{1,3}$/.test(bits)) return false;
  return Number(bits) <= (family === 4 ? 32 : 128);
}
