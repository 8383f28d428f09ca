import type SMTPPool from 'nodemailer/lib/smtp-pool/index.js';

/**
 * The relay URL rules shared by outbound delivery (SEALPOST_RELAY) and the inbound relay to the practice's
 * own mail server (SEALPOST_INBOUND_RELAY): TLS is required unless the URL says `?tls=none`.
 */
export interface RelayOptions {
  host: string;
  port: number;
  /** smtps:// — TLS from the first byte. */
  implicitTls: boolean;
  /** smtp:// — STARTTLS required unless `?tls=none`. */
  requireTls: boolean;
  /** `?tlsVerify=false` accepts any certificate (test sinks with self-signed certificates only). */
  verifyCertificate: boolean;
  auth: { user: string; pass: string } | null;
}

const KNOWN_PARAMS = new Set(['tls', 'tlsVerify']);

/** Parse a relay URL; unknown options are refused (at start), not ignored. `name` labels the messages. */
export function parseRelayUrl(relay: string, name = 'SEALPOST_RELAY'): RelayOptions {
  const url = new URL(relay);
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new Error(`${name} must start with smtp:// or smtps://`);
  }
  for (const key of url.searchParams.keys()) {
    if (!KNOWN_PARAMS.has(key)) throw new Error(`${name} has an unknown option "${key}"`);
  }
  const tls = url.searchParams.get('tls') ?? 'required';
  if (tls !== 'required' && tls !== 'none') throw new Error(`${name} option tls must be required|none`);
  const verify = url.searchParams.get('tlsVerify') ?? 'true';
  if (verify !== 'true' && verify !== 'false') throw new Error(`${name} option tlsVerify must be true|false`);
  const implicitTls = url.protocol === 'smtps:';
  if (implicitTls && tls === 'none') throw new Error(`${name}: smtps:// cannot be combined with tls=none`);
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : implicitTls ? 465 : 587,
    implicitTls,
    requireTls: !implicitTls && tls === 'required',
    verifyCertificate: verify === 'true',
    auth: url.username
      ? { user: decodeURIComponent(url.username), pass: decodeURIComponent(url.password) }
      : null,
  };
}

/**
 * nodemailer's pooled SMTP client for a parsed relay URL, as both relays use it: pooled (one TLS handshake
 * serves many messages), TLS per the URL, at least TLS 1.2, no nodemailer logging (it would print
 * addresses and replies). `socketTimeoutMs` bounds idle time; connecting and the greeting get `timeoutMs`.
 */
export function relayPoolOptions(
  options: RelayOptions,
  input: { hostname: string; maxConnections: number; timeoutMs: number; socketTimeoutMs: number },
): SMTPPool.Options {
  return {
    pool: true,
    maxConnections: input.maxConnections,
    maxMessages: 100,
    host: options.host,
    port: options.port,
    secure: options.implicitTls,
    requireTLS: options.requireTls,
    ignoreTLS: !options.implicitTls && !options.requireTls,
    name: input.hostname,
    ...(options.auth ? { auth: options.auth } : {}),
    tls: { rejectUnauthorized: options.verifyCertificate, minVersion: 'TLSv1.2' },
    connectionTimeout: input.timeoutMs,
    greetingTimeout: input.timeoutMs,
    socketTimeout: input.socketTimeoutMs,
    logger: false,
    debug: false,
  };
}
