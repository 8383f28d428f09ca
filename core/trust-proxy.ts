import { z } from 'zod';
import { isIpAddress, isIpOrCidr } from './net-address.ts';

/**
 * The `trustProxy` setting (docs/configuration.md "Behind a reverse proxy"): the reverse proxies whose word on
 * the client's address is taken. Off by default: nobody's.
 */

/** Express's named ranges (proxy-addr): 127.0.0.0/8 and ::1, 169.254.0.0/16 and fe80::/10, 10/8 … fc00::/7. */
const PROXY_PRESETS = ['loopback', 'linklocal', 'uniquelocal'];

const httpProxies = z.union([
  z.literal(false),
  // Trust the nearest N hops, whatever their address: only when nothing reaches the webmail but the proxy.
  z.number().int().min(1).max(10),
  z
    .array(
      z
        .string()
        .refine(
          (v) => PROXY_PRESETS.includes(v) || isIpOrCidr(v),
          'must be an IP address, a CIDR block or a preset',
        ),
    )
    .min(1),
]);

export const trustProxySchema = z
  .object({
    // Express `trust proxy` for the webmail: false, a hop count, or addresses / CIDR blocks / presets.
    http: httpProxies.default(false),
    // Peers that must open every SMTP connection (all listeners) with a PROXY protocol v1 header. Addresses,
    // not blocks: smtp-server's `useProxy` compares them exactly.
    smtp: z.array(z.string().refine(isIpAddress, 'must be an IP address')).default([]),
  })
  .strict()
  .default({ http: false, smtp: [] });

/** SEALPOST_TRUST_PROXY: `off` / `false` / `0`, a hop count, or a comma-separated list of addresses, blocks, presets. */
export function httpProxiesFromEnv(v: string): unknown {
  const value = v.trim();
  if (['off', 'false', '0'].includes(value)) return false;
  if (/^\d+$/.test(value)) return Number(value);
  return value
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
}
