import type { IncomingMessage } from 'node:http';
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import { isIpOrCidr, plainAddress } from './net-address.ts';

/**
 * Who may read `/metrics` (docs/configuration.md `SEALPOST_METRICS_ALLOW`): loopback always, and the
 * addresses and CIDR blocks of `metrics.allow`. Metrics tell how much mail a practice sends and when; they
 * are for the operator's scraper, not for the internet.
 *
 * Every address a request names must be allowed: the TCP peer, and each address in `X-Forwarded-For`,
 * `X-Real-IP` and `Forwarded: for=`. A TLS proxy on the same host connects from loopback; the client behind
 * it is named in those headers (and refused), whatever `trustProxy` says. A client that adds such a header
 * itself only makes the check stricter. A name that is not an address (`for=unknown`) is refused.
 */
export const metricsAllowSchema = z
  .array(z.string().refine(isIpOrCidr, 'must be an IP address or a CIDR block (10.0.0.0/8, fd00::/8)'))
  .default([]);

const LOOPBACK = ['127.0.0.0/8', '::1/128'];

export function metricsAccess(allow: readonly string[]): (req: IncomingMessage) => boolean {
  const list = new BlockList();
  for (const entry of [...LOOPBACK, ...allow]) {
    const [ip = '', bits] = entry.split('/');
    const type = isIP(ip) === 4 ? 'ipv4' : 'ipv6';
    if (bits === undefined) list.addAddress(ip, type);
    else list.addSubnet(ip, Number(bits), type);
  }
  const allowed = (address: string): boolean => {
    const plain = plainAddress(address);
    const family = isIP(plain);
    return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  };
  return (req) => {
    const named = [req.socket.remoteAddress ?? '', ...forwardedAddresses(req)];
    return named.every(allowed);
  };
}

/** The client addresses a request's proxy headers name (as written: ports and brackets taken off). */
function forwardedAddresses(req: IncomingMessage): string[] {
  const out: string[] = [];
  const values = (name: string): string[] => {
    const v = req.headers[name];
    return v === undefined ? [] : Array.isArray(v) ? v : [v];
  };
  for (const v of [...values('x-forwarded-for'), ...values('x-real-ip')]) {
    out.push(...v.split(',').map((a) => a.trim()));
  }
  for (const v of values('forwarded')) {
    for (const m of v.matchAll(/for\s*=\s*("[^"]*"|[^;,\s]*)/gi)) out.push(unbracket(m[1] ?? ''));
  }
  return out;
}

/** `"[2001:db8::1]:443"` → `2001:db8::1`, `"192.0.2.1:80"` → `192.0.2.1` (RFC 7239 node names). */
function unbracket(node: string): string {
  const v = node.replace(/^"|"$/g, '');
  const v6 = /^\[([^\]]+)\]/.exec(v);
  if (v6) return v6[1] ?? '';
  return /^[\d.]+:\d+$/.test(v) ? v.slice(0, v.indexOf(':')) : v;
}
