import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { isMasterKey } from './seal.ts';
import { metricsAllowSchema } from './metrics-access.ts';
import { httpProxiesFromEnv, trustProxySchema } from './trust-proxy.ts';

/**
 * Configuration: validated once at start (zod), deeply frozen, passed down. Sources, later wins:
 * built-in defaults ← JSON file named by SEALPOST_CONFIG ← environment variables.
 * docs/configuration.md is the reference; keep it in step with this schema.
 */
const port = z.coerce.number().int().min(0).max(65535);
const seconds = z.coerce.number().int().positive();

/** A domain name, stored lower-case (the inbound listener compares RCPT domains with it). */
const domain = z
  .string()
  .regex(/^[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$/, 'must be a domain name like praxis.example')
  .transform((d) => d.toLowerCase());

const hostname = z
  .string()
  .regex(/^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$/, 'a host name (letters, digits, dots, hyphens)');

/** 32 bytes as 64 hex digits or base64 (core/seal.ts parseMasterKey). */
const masterKey = z.string().refine(isMasterKey, 'must be 32 bytes, as 64 hex digits or base64');

const relayUrl = z
  .string()
  .url()
  .refine((u) => /^smtps?:\/\//.test(u), 'must start with smtp:// or smtps://');

export const configSchema = z
  .object({
    dataDir: z.string().min(1).default('./data'),
    databaseUrl: z.string().optional(),
    redisUrl: z.string().optional(),
    // Goes into every header Sealpost writes (Message-ID, Received, DSN From): a DNS name, nothing else.
    // Unset: the host of publicUrl (see withHostname below), so a notification never names localhost.
    hostname: hostname.optional(),
    listenHost: z.string().min(1).default('0.0.0.0'),
    smtpPort: port.default(2587),
    smtpsPort: port.default(2465),
    httpPort: port.default(8080),
    // The /healthz, /readyz, /metrics port of a process without the webmail; unset: httpPort. `sealpost
    // start` (the supervisor) gives its gateway and worker processes 0 (a free port each, in their log).
    opsPort: port.optional(),
    inboundPort: port.default(2525),
    publicUrl: z.string().url().default('http://localhost:8080'),
    relay: relayUrl.optional(),
    inboundRelay: relayUrl.optional(),
    masterKey: masterKey.optional(),
    // The master key read from a file (a container secret, /run/secrets/…): instead of masterKey.
    masterKeyFile: z.string().min(1).optional(),
    // Keys of before a rotation: still opened, never used to seal (docs/backup.md "Rotating the master key").
    masterKeyPrevious: z.array(masterKey).default([]),
    masterKeyPreviousFile: z.string().min(1).optional(),
    tlsCert: z.string().optional(),
    tlsKey: z.string().optional(),
    practiceName: z.string().min(1).default('Sealpost'),
    // The operator block on every pickup page (German law asks a practice's web presence for both links).
    practiceAddress: z.string().min(1).max(300).optional(),
    practicePhone: z.string().min(1).max(60).optional(),
    imprintUrl: z.string().url().optional(),
    privacyUrl: z.string().url().optional(),
    // A word the practice chooses, shown in every notification and on every pickup page, so a client can
    // tell a real notification from a phishing copy. Not a secret, not a password.
    securityWord: z.string().min(1).max(60).optional(),
    // The From of notifications and receipts; unset: noreply@<domain of the sending practitioner>.
    notifyFrom: z.string().email().optional(),
    // DKIM-signs notifications and receipts (mailauth) when both are set: the selector and a PEM private key
    // file (RSA or Ed25519) of `domain` (unset: the domain of the notification's From).
    dkim: z
      .object({
        selector: z.string().regex(/^[A-Za-z0-9._-]+$/),
        keyFile: z.string().min(1),
        domain: domain.optional(),
      })
      .strict()
      .optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    limits: z
      .object({
        maxMessageBytes: z.coerce
          .number()
          .int()
          .positive()
          .default(35 * 1024 * 1024),
        maxRecipients: z.coerce.number().int().positive().default(100),
        // Failed logins (SMTP AUTH and the admin API, counted together in Redis; docs/gateway.md "Login limits").
        // From one address for one account: this many are free, then each further one waits a growing delay.
        authFailuresPerAccountIp: z.coerce.number().int().positive().default(5),
        authDelaySeconds: seconds.default(15), // the first delay; it doubles with every further failure
        authMaxDelaySeconds: seconds.default(900),
        // From one address, over all accounts, per window: then the address is refused until the window ends.
        authFailuresPerIp: z.coerce.number().int().positive().default(20),
        // For one account, from all addresses, per window: then only addresses it logged in from lately get in.
        authFailuresPerAccount: z.coerce.number().int().positive().default(50),
        authFailureWindowSeconds: seconds.default(900),
        // Concurrent SMTP connections per listener, and from one address (an IPv6 /64) per listener.
        maxConnections: z.coerce.number().int().positive().default(200),
        maxConnectionsPerIp: z.coerce.number().int().positive().default(20),
      })
      .strict()
      .refine((l) => l.maxConnectionsPerIp <= l.maxConnections, {
        message: 'maxConnectionsPerIp must not exceed maxConnections',
        path: ['maxConnectionsPerIp'],
      })
      .refine((l) => l.authDelaySeconds <= l.authMaxDelaySeconds, {
        message: 'authDelaySeconds must not exceed authMaxDelaySeconds',
        path: ['authDelaySeconds'],
      })
      .default({
        maxMessageBytes: 35 * 1024 * 1024,
        maxRecipients: 100,
        authFailuresPerAccountIp: 5,
        authDelaySeconds: 15,
        authMaxDelaySeconds: 900,
        authFailuresPerIp: 20,
        authFailuresPerAccount: 50,
        authFailureWindowSeconds: 900,
        maxConnections: 200,
        maxConnectionsPerIp: 20,
      }),
    // Reverse proxies whose word on the client's address is taken (off by default: nobody's).
    trustProxy: trustProxySchema,
    // Who may read /metrics besides loopback: addresses and CIDR blocks (core/metrics-access.ts).
    metrics: z.object({ allow: metricsAllowSchema }).strict().default({ allow: [] }),
    delivery: z
      .object({
        giveUpAfterSeconds: seconds.default(5 * 24 * 3600),
        concurrency: z.coerce.number().int().positive().default(8),
        connectionTimeoutSeconds: seconds.default(30),
        reconcileEverySeconds: seconds.default(60),
        // A worker holds a job's lock this long; a crashed worker's job is retried after about twice this.
        lockSeconds: seconds.default(30),
      })
      .strict()
      .default({
        giveUpAfterSeconds: 5 * 24 * 3600,
        concurrency: 8,
        connectionTimeoutSeconds: 30,
        reconcileEverySeconds: 60,
        lockSeconds: 30,
      }),
    pickup: z
      .object({
        // Off: a recipient without a usable key is refused at RCPT (550) as before pickup existed.
        enabled: z.boolean().default(true),
        // Pickups (and their ciphertext) are deleted this many days after they were stored.
        retentionDays: z.coerce.number().int().positive().max(3650).default(30),
        // The language of notification and receipt mails; the pickup pages follow the browser.
        language: z.enum(['de', 'en']).default('de'),
        // 'auto': with inboundRelay set, the worker decrypts replies with the sender's key and delivers them
        // to the practice's own server with the inbound verdict (as a colleague's encrypted reply); without
        // one, as 'pgp'. 'pgp': replies reach the sender as PGP/MIME. 'decrypt': always decrypted, to the
        // inbound relay when set, else over the delivery relay (over TLS, like every delivery).
        replyDelivery: z.enum(['auto', 'pgp', 'decrypt']).default('auto'),
        // A reply's OpenPGP message (attachments included), in bytes; and replies per contact per day.
        maxReplyBytes: z.coerce
          .number()
          .int()
          .positive()
          .default(25 * 1024 * 1024),
        maxRepliesPerDay: z.coerce.number().int().positive().default(50),
        // A session after unlock ends after this many minutes without a request (and after 12 hours).
        sessionIdleMinutes: z.coerce.number().int().positive().default(15),
        // Wrong codes per address (IPv6: /64) per 15 minutes, over all contacts; then every unlock from that
        // address waits until the 15 minutes have passed (the per-contact lock after 5 wrong codes is separate).
        unlockAttemptsPerIp: z.coerce.number().int().positive().default(30),
        // The envelope sender of notifications and replies; default noreply@<hostname>.
        fromAddress: z.string().email().optional(),
      })
      .strict()
      .default({
        enabled: true,
        retentionDays: 30,
        language: 'de',
        replyDelivery: 'auto',
        maxReplyBytes: 25 * 1024 * 1024,
        maxRepliesPerDay: 50,
        sessionIdleMinutes: 15,
        unlockAttemptsPerIp: 30,
      }),
    discovery: z
      .object({
        // Look keys up on the network (WKD, then VKS) for recipients without a usable stored key.
        enabled: z.boolean().default(true),
        // In this order; 'wkd' tries the advanced, then the direct method.
        sources: z.array(z.enum(['wkd', 'vks'])).default(['wkd', 'vks']),
        // One source (one HTTP request) may take this long; all sources of one RCPT together the budget.
        sourceTimeoutMs: z.coerce.number().int().positive().default(3000),
        budgetMs: z.coerce.number().int().positive().default(5000),
        // What a lookup that timed out (or whose source failed) leads to: 451 (the client retries) or pickup.
        onTimeout: z.enum(['defer', 'pickup']).default('defer'),
        // A known address presenting a different key: held for the admin (pickup meanwhile) or taken and logged.
        keyChange: z.enum(['hold', 'accept-and-log']).default('hold'),
        // The Verifying Keyserver's base URL (by-email lookups).
        vksUrl: z.string().url().default('https://keys.openpgp.org'),
        // Found keys, and "no key anywhere", are remembered this long per process.
        positiveTtlSeconds: seconds.default(3600),
        negativeTtlSeconds: seconds.default(900),
        // A published key bigger than this is ignored (logged KD_KEY_REJECTED).
        maxKeyBytes: z.coerce
          .number()
          .int()
          .positive()
          .default(1024 * 1024),
        // The worker re-checks every discovered key this often (expiry, revocation, new subkeys, changes).
        refreshEveryHours: z.coerce.number().int().positive().default(24),
      })
      .strict()
      .default({
        enabled: true,
        sources: ['wkd', 'vks'],
        sourceTimeoutMs: 3000,
        budgetMs: 5000,
        onTimeout: 'defer',
        keyChange: 'hold',
        vksUrl: 'https://keys.openpgp.org',
        positiveTtlSeconds: 3600,
        negativeTtlSeconds: 900,
        maxKeyBytes: 1024 * 1024,
        refreshEveryHours: 24,
      }),
    queuePrefix: z.string().min(1).default('sealpost'),
    // Worker threads for CPU-heavy crypto (a new pickup contact's key and Argon2id, 64 MiB each); unset: the
    // cores, at most 4. Never more than the cores.
    cryptoThreads: z.coerce.number().int().positive().max(64).optional(),
    inbound: z
      .object({
        // Mail is accepted for these domains only (and there only for known addresses); unset: the domains
        // of the senders' addresses (user_addresses).
        localDomains: z.array(domain).min(1).optional(),
        // A decrypted message may decompress to at most this many bytes: a compression bomb is refused.
        decompressLimitBytes: z.coerce
          .number()
          .int()
          .positive()
          .default(64 * 1024 * 1024),
        // Connecting to, and each step of the dialogue with, the practice's mail server (SEALPOST_INBOUND_RELAY).
        relayTimeoutSeconds: seconds.default(60),
        // The language of the visible line and its header comment; unset: pickup.language.
        language: z.enum(['de', 'en']).optional(),
      })
      .strict()
      .default({ decompressLimitBytes: 64 * 1024 * 1024, relayTimeoutSeconds: 60 }),
  })
  .strict()
  .refine((c) => !(c.masterKey && c.masterKeyFile), {
    message: 'set SEALPOST_MASTER_KEY or SEALPOST_MASTER_KEY_FILE, not both',
    path: ['masterKeyFile'],
  })
  .transform((c) => ({ ...c, hostname: c.hostname ?? hostOf(c.publicUrl) }));

/** The host of the public URL when it is a host name (an IPv6 literal is not): the default hostname. */
function hostOf(publicUrl: string): string {
  const host = new URL(publicUrl).hostname;
  return hostname.safeParse(host).success ? host : 'localhost';
}

export type ConfigInput = z.input<typeof configSchema>;
type Mutable = z.output<typeof configSchema>;
export type Config = DeepReadonly<Mutable>;
type DeepReadonly<T> = { readonly [K in keyof T]: T[K] extends object ? DeepReadonly<T[K]> : T[K] };

const ENV: Record<string, (c: Record<string, unknown>, v: string) => void> = {
  SEALPOST_DATA_DIR: (c, v) => (c.dataDir = v),
  DATABASE_URL: (c, v) => (c.databaseUrl = v),
  REDIS_URL: (c, v) => (c.redisUrl = v),
  SEALPOST_HOSTNAME: (c, v) => (c.hostname = v),
  SEALPOST_LISTEN_HOST: (c, v) => (c.listenHost = v),
  SEALPOST_SMTP_PORT: (c, v) => (c.smtpPort = v),
  SEALPOST_SMTPS_PORT: (c, v) => (c.smtpsPort = v),
  SEALPOST_HTTP_PORT: (c, v) => (c.httpPort = v),
  SEALPOST_INBOUND_PORT: (c, v) => (c.inboundPort = v),
  SEALPOST_OPS_PORT: (c, v) => (c.opsPort = v),
  SEALPOST_PUBLIC_URL: (c, v) => (c.publicUrl = v),
  SEALPOST_RELAY: (c, v) => (c.relay = v),
  SEALPOST_INBOUND_RELAY: (c, v) => (c.inboundRelay = v),
  SEALPOST_MASTER_KEY: (c, v) => (c.masterKey = v),
  SEALPOST_MASTER_KEY_FILE: (c, v) => (c.masterKeyFile = v),
  SEALPOST_MASTER_KEY_PREVIOUS: (c, v) => (c.masterKeyPrevious = list(v)),
  SEALPOST_MASTER_KEY_PREVIOUS_FILE: (c, v) => (c.masterKeyPreviousFile = v),
  SEALPOST_TLS_CERT: (c, v) => (c.tlsCert = v),
  SEALPOST_TLS_KEY: (c, v) => (c.tlsKey = v),
  SEALPOST_PRACTICE_NAME: (c, v) => (c.practiceName = v),
  SEALPOST_PRACTICE_ADDRESS: (c, v) => (c.practiceAddress = v),
  SEALPOST_PRACTICE_PHONE: (c, v) => (c.practicePhone = v),
  SEALPOST_IMPRINT_URL: (c, v) => (c.imprintUrl = v),
  SEALPOST_PRIVACY_URL: (c, v) => (c.privacyUrl = v),
  SEALPOST_SECURITY_WORD: (c, v) => (c.securityWord = v),
  SEALPOST_NOTIFY_FROM: (c, v) => (c.notifyFrom = v),
  SEALPOST_DKIM_SELECTOR: (c, v) => (sub(c, 'dkim').selector = v),
  SEALPOST_DKIM_KEY_FILE: (c, v) => (sub(c, 'dkim').keyFile = v),
  SEALPOST_DKIM_DOMAIN: (c, v) => (sub(c, 'dkim').domain = v),
  SEALPOST_LOG_LEVEL: (c, v) => (c.logLevel = v),
  SEALPOST_MAX_MESSAGE_BYTES: (c, v) => (sub(c, 'limits').maxMessageBytes = v),
  SEALPOST_MAX_RECIPIENTS: (c, v) => (sub(c, 'limits').maxRecipients = v),
  SEALPOST_MAX_CONNECTIONS_PER_IP: (c, v) => (sub(c, 'limits').maxConnectionsPerIp = v),
  SEALPOST_TRUST_PROXY: (c, v) => (sub(c, 'trustProxy').http = httpProxiesFromEnv(v)),
  SEALPOST_TRUST_PROXY_SMTP: (c, v) => (sub(c, 'trustProxy').smtp = list(v)),
  SEALPOST_METRICS_ALLOW: (c, v) => (sub(c, 'metrics').allow = list(v)),
  SEALPOST_DELIVERY_GIVE_UP_SECONDS: (c, v) => (sub(c, 'delivery').giveUpAfterSeconds = v),
  SEALPOST_DELIVERY_CONCURRENCY: (c, v) => (sub(c, 'delivery').concurrency = v),
  SEALPOST_QUEUE_PREFIX: (c, v) => (c.queuePrefix = v),
  SEALPOST_CRYPTO_THREADS: (c, v) => (c.cryptoThreads = v),
  SEALPOST_PICKUP: (c, v) => (sub(c, 'pickup').enabled = v !== 'off' && v !== 'false' && v !== '0'),
  SEALPOST_PICKUP_RETENTION_DAYS: (c, v) => (sub(c, 'pickup').retentionDays = v),
  SEALPOST_PICKUP_LANGUAGE: (c, v) => (sub(c, 'pickup').language = v),
  SEALPOST_PICKUP_REPLY_DELIVERY: (c, v) => (sub(c, 'pickup').replyDelivery = v),
  SEALPOST_DISCOVERY: (c, v) => (sub(c, 'discovery').enabled = v !== 'off' && v !== 'false' && v !== '0'),
  SEALPOST_DISCOVERY_SOURCES: (c, v) =>
    (sub(c, 'discovery').sources = v
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean)),
  SEALPOST_DISCOVERY_ON_TIMEOUT: (c, v) => (sub(c, 'discovery').onTimeout = v),
  SEALPOST_DISCOVERY_KEY_CHANGE: (c, v) => (sub(c, 'discovery').keyChange = v),
  SEALPOST_VKS_URL: (c, v) => (sub(c, 'discovery').vksUrl = v),
  SEALPOST_INBOUND_LOCAL_DOMAINS: (c, v) =>
    (sub(c, 'inbound').localDomains = v
      .split(',')
      .map((d) => d.trim())
      .filter(Boolean)),
  SEALPOST_INBOUND_DECOMPRESS_LIMIT_BYTES: (c, v) => (sub(c, 'inbound').decompressLimitBytes = v),
  SEALPOST_INBOUND_LANGUAGE: (c, v) => (sub(c, 'inbound').language = v),
};

function list(v: string): string[] {
  return v
    .split(',')
    .map((d) => d.trim())
    .filter(Boolean);
}

function sub(c: Record<string, unknown>, key: string): Record<string, unknown> {
  const existing = c[key];
  if (existing && typeof existing === 'object') return existing as Record<string, unknown>;
  const fresh: Record<string, unknown> = {};
  c[key] = fresh;
  return fresh;
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Validate a configuration object (for tests and the file source); throws ConfigError with all issues. */
export function parseConfig(input: unknown): Config {
  const result = configSchema.safeParse(input);
  if (!result.success) {
    const lines = result.error.issues.map((i) => `  ${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ConfigError(`invalid configuration:\n${lines.join('\n')}`);
  }
  const out = result.data;
  out.dataDir = path.resolve(out.dataDir);
  return deepFreeze(out);
}

/** Read the environment (and the optional SEALPOST_CONFIG file). Only main and the CLI call this. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  let base: Record<string, unknown> = {};
  const file = env.SEALPOST_CONFIG;
  if (file) {
    try {
      base = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError(`cannot read SEALPOST_CONFIG ${file}: ${(err as Error).message}`);
    }
    if (!base || typeof base !== 'object' || Array.isArray(base)) {
      throw new ConfigError(`SEALPOST_CONFIG ${file} must hold a JSON object`);
    }
  }
  for (const [name, apply] of Object.entries(ENV)) {
    const value = env[name];
    if (value !== undefined && value !== '') apply(base, value);
  }
  return parseConfig(base);
}

const SECRET_KEYS = new Set(['masterKey', 'masterKeyPrevious']);

/** The configuration as `sealpost config show` prints it: secrets and URL passwords redacted. */
export function redactedConfig(config: Config): Record<string, unknown> {
  const walk = (value: unknown, key: string): unknown => {
    if (SECRET_KEYS.has(key)) return value === undefined ? undefined : '[redacted]';
    if (typeof value === 'string' && /^[a-z][a-z0-9+.-]*:\/\//i.test(value)) return redactUrl(value);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v, k)]));
    }
    return value;
  };
  return walk(config, '') as Record<string, unknown>;
}

export function redactUrl(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = 'redacted';
    return url.toString();
  } catch {
    return value;
  }
}
