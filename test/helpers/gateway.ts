import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import type { Router } from 'express';
import type { Selectable } from 'kysely';
import nodemailer, { type Transporter } from 'nodemailer';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { generate } from 'selfsigned';
import type { Clock } from '../../core/clock.ts';
import { systemClock } from '../../core/clock.ts';
import { parseConfig, type ConfigInput } from '../../core/config.ts';
import type { Database, OutboundTable } from '../../core/db/schema.ts';
import { LimitStore } from '../../core/limit-store.ts';
import type { RedisTarget } from '../../core/redis.ts';
import { Sealer } from '../../core/seal.ts';
import type { UserStore } from '../../core/users.ts';
import type { Gateway, GatewayDeps } from '../../gateway/index.ts';
import type { KeyStore } from '../../keys/index.ts';
import { createSealpost, type Sealpost, type Service } from '../../cli/sealpost.ts';
import { generateKeyPair, parseSigningKey, type SigningKey } from '../../keys/openpgp/index.ts';
import { openTestDb, type TestDb, type TestDbKind } from './db.ts';
import { sharedRedis, uniquePrefix } from './redis.ts';
import { testCryptoPool } from './crypto-pool.ts';
import { captureLog } from './log.ts';
import { tmpDir } from './tmp.ts';

/**
 * A real gateway on 127.0.0.1, ports 0, over a fresh test database, with a self-signed certificate, a real
 * KeyStore and one sender: anna@praxis.example (password SENDER_PASSWORD, a generated sender key).
 * `enqueue` only records the ids unless one is given (the worker's tests pass the real queue).
 *
 *   const gw = await startTestGateway({ kind });
 *   try { await gw.transport().sendMail({...}) } finally { await gw.close(); }
 */
export const SENDER = 'anna@praxis.example';
export const SENDER_PASSWORD = 'correct-horse-battery';

export interface TestGatewayOptions {
  kind: TestDbKind;
  /** Overrides of config.limits (e.g. a small maxMessageBytes). */
  limits?: NonNullable<ConfigInput['limits']>;
  config?: Omit<ConfigInput, 'limits'>;
  clock?: Clock;
  redis?: RedisTarget;
  /** Default: record the ids in `enqueued`. */
  enqueue?: GatewayDeps['enqueue'];
  buildPgpMime?: GatewayDeps['buildPgpMime'];
  /** Give anna a sender key (default true). */
  senderKey?: boolean;
  /** Key discovery (a KeyDiscovery against test/helpers/key-directory.ts); default none (stored keys only). */
  discovery?: GatewayDeps['discovery'];
  /** Where the login limits count; default: a fresh one on the shared test Redis with its own prefix (not on
   * `redis`, which tests of the queue stop and flush), closed with the gateway. A given one is the caller's
   * to close (e.g. one shared by two gateways, or one on a Redis the test stops). */
  limitStore?: LimitStore;
  /** Default: the test process's crypto pool (test/helpers/crypto-pool.ts). */
  crypto?: GatewayDeps['crypto'];
  /** What else the composition root builds beside the gateway, from the same parts (test/helpers/stack.ts). */
  services?: readonly Service[];
  /** For the webmail (services): the pickup app's pages. */
  pages?: Router;
}

export interface TestGateway {
  readonly deps: GatewayDeps;
  readonly testDb: TestDb;
  readonly keys: KeyStore;
  readonly users: UserStore;
  /** The gateway's log lines (a real pino in memory), to scan for content. */
  readonly logText: () => string;
  readonly gateway: Gateway;
  /** The composition (cli/sealpost.ts) the gateway — and the `services` asked for — came from. */
  readonly sealpost: Sealpost;
  readonly ports: { submissionPort: number; smtpsPort: number };
  /** Every id passed to the default enqueue, in order. */
  readonly enqueued: string[];
  /** A nodemailer transport (requireTLS, self-signed accepted). `port: 'smtps'` uses implicit TLS;
   * `localAddress` connects from another loopback address (127.0.0.2, …), as another client would. */
  transport(options?: {
    port?: 'submission' | 'smtps';
    user?: string;
    pass?: string;
    localAddress?: string;
  }): Transporter;
  /** One connected SMTP session (STARTTLS done on submission), for several messages on one connection. */
  session(options?: SessionOptions): Promise<SmtpSession>;
  /** Generate a key pair for `address`, pin its public key; returns the private key to decrypt with. */
  addRecipient(address: string): Promise<{ fingerprint: string; privateKey: SigningKey }>;
  outbound(): Promise<Selectable<OutboundTable>[]>;
  /** The outgoing bytes of a spooled row (unsealed with the master key). */
  openBody(row: Selectable<OutboundTable>): Buffer;
  close(): Promise<void>;
}

export async function startTestGateway(options: TestGatewayOptions): Promise<TestGateway> {
  const testDb = await openTestDb(options.kind);
  const tmp = tmpDir('sealpost-gw-');
  const clock = options.clock ?? systemClock;
  const capture = captureLog('debug');
  const config = parseConfig({
    dataDir: tmp.dir,
    hostname: 'sealpost.test',
    listenHost: '127.0.0.1',
    smtpPort: 0,
    smtpsPort: 0,
    ...options.config,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const sealer = new Sealer(randomBytes(32));
  const enqueued: string[] = [];
  const pems = await generate([{ name: 'commonName', value: 'sealpost.test' }], {
    keyType: 'ec',
    curve: 'P-256',
  });
  const ownLimits = !options.limitStore;
  const limitStore = options.limitStore ?? (await LimitStore.open(await sharedRedis(), uniquePrefix()));
  const services = options.services ?? ['gateway'];
  // The default records the ids; a stack with a worker (services) delivers through the root's own queue.
  const recordIds = async (ids: string[]) => void enqueued.push(...ids);
  const enqueue = options.enqueue ?? (services.includes('worker') ? undefined : recordIds);
  const crypto = options.crypto ?? testCryptoPool();
  const tls = { key: pems.private, cert: pems.cert };
  const sealpost = await createSealpost(config, {
    services: services.includes('gateway') ? services : ['gateway', ...services],
    overrides: {
      log: capture.log,
      clock,
      db: testDb.db,
      sealer,
      redis: options.redis ?? {},
      limitStore,
      crypto,
      tls,
      discovery: options.discovery ?? null,
      ...(enqueue ? { enqueue } : {}),
      ...(options.buildPgpMime ? { buildPgpMime: options.buildPgpMime } : {}),
      ...(options.pages ? { pages: options.pages } : {}),
    },
  });
  const { keys } = sealpost;
  const users = testDb.db.stores.users;
  await users.add({ login: SENDER, password: SENDER_PASSWORD }, clock.now());
  if (options.senderKey ?? true) await keys.generateSenderKey(SENDER);
  const deps: GatewayDeps = {
    ...sealpost.deps,
    keys,
    limitStore,
    crypto,
    tls,
    enqueue: sealpost.enqueue,
    ...(options.buildPgpMime ? { buildPgpMime: options.buildPgpMime } : {}),
    ...(options.discovery ? { discovery: options.discovery } : {}),
  };
  const gateway = sealpost.gateway!;
  const ports = await gateway.listen();
  const portOf = (which: 'submission' | 'smtps' = 'submission') =>
    which === 'smtps' ? ports.smtpsPort : ports.submissionPort;

  return {
    deps,
    testDb,
    keys,
    users,
    logText: capture.text,
    gateway,
    sealpost,
    ports,
    enqueued,
    transport: (o = {}) =>
      nodemailer.createTransport({
        host: '127.0.0.1',
        port: portOf(o.port),
        secure: o.port === 'smtps',
        requireTLS: true,
        tls: { rejectUnauthorized: false },
        auth: { user: o.user ?? SENDER, pass: o.pass ?? SENDER_PASSWORD },
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      }),
    session: (o = {}) => openSession(portOf(o.port), o.port === 'smtps', o),
    addRecipient: async (address) => {
      const pair = await generateKeyPair({ address, now: clock.now() });
      await keys.importKeys(pair.publicKey);
      return { fingerprint: pair.fingerprint, privateKey: await parseSigningKey(pair.privateKey) };
    },
    outbound: () => testDb.db.kysely.selectFrom('outbound').selectAll().orderBy('recipient').execute(),
    openBody: (row) => sealer.open('spool', row.body, row.id),
    close: async () => {
      await gateway.close();
      await sealpost.close();
      if (ownLimits) await limitStore.close();
      await testDb.cleanup();
      tmp.cleanup();
    },
  };
}

/** A promise-shaped nodemailer SMTPConnection: one TCP session, many transactions. */
export interface SmtpSession {
  login(user?: string, pass?: string): Promise<void>;
  send(
    envelope: { from: string; to: string[] },
    raw: string | Buffer,
  ): Promise<SMTPConnection.SentMessageInfo>;
  close(): void;
}

/** Where a test session comes from: another loopback address, and/or through a PROXY-protocol proxy. */
export interface SessionOptions {
  port?: 'submission' | 'smtps';
  localAddress?: string;
  /** A PROXY protocol v1 line sent first, as a proxy does (e.g. 'PROXY TCP4 198.51.100.7 127.0.0.1 40000 587'). */
  proxyHeader?: string;
}

async function openSession(port: number, secure: boolean, o: SessionOptions): Promise<SmtpSession> {
  const local = o.localAddress ? { localAddress: o.localAddress } : {};
  let connection: net.Socket | undefined;
  if (o.proxyHeader) {
    connection = net.connect({ port, host: '127.0.0.1', ...local });
    await once(connection, 'connect');
    connection.write(`${o.proxyHeader}\r\n`);
  }
  const conn = new SMTPConnection({
    host: '127.0.0.1',
    port,
    secure,
    requireTLS: !secure,
    tls: { rejectUnauthorized: false },
    ...(connection ? { connection } : local),
  });
  conn.on('error', () => undefined); // errors reach the callbacks below
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  return {
    login: (user = SENDER, pass = SENDER_PASSWORD) =>
      new Promise((resolve, reject) => conn.login({ user, pass }, (err) => (err ? reject(err) : resolve()))),
    send: (envelope, raw) =>
      new Promise((resolve, reject) =>
        conn.send(envelope, raw, (err, info) => (err ? reject(err) : resolve(info))),
      ),
    close: () => conn.close(),
  };
}

/**
 * A plain-text SMTP dialogue (no TLS) for tests of what the server says before STARTTLS.
 * `command` sends one line and resolves with the whole (multi-line) reply.
 */
export async function rawSmtp(
  port: number,
  options: { localAddress?: string; proxyHeader?: string } = {},
): Promise<{
  greeting: string;
  command(line: string): Promise<string>;
  close(): void;
}> {
  const socket = net.connect({
    port,
    host: '127.0.0.1',
    ...(options.localAddress ? { localAddress: options.localAddress } : {}),
  });
  // A PROXY protocol line goes first, before the server says anything (as a proxy sends it).
  if (options.proxyHeader) socket.write(`${options.proxyHeader}\r\n`);
  let buffer = '';
  let waiting: ((reply: string) => void) | undefined;
  const take = () => {
    const match = /(^|\n)(\d{3}) [^\n]*\n/.exec(buffer);
    if (!match || !waiting) return;
    const end = match.index + match[0].length;
    const reply = buffer.slice(0, end);
    buffer = buffer.slice(end);
    const done = waiting;
    waiting = undefined;
    done(reply.replace(/\r/g, '').trimEnd());
  };
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => {
    buffer += chunk;
    take();
  });
  const next = () =>
    new Promise<string>((resolve, reject) => {
      waiting = resolve;
      socket.once('error', reject);
      take();
    });
  const greeting = await next();
  return {
    greeting,
    command: (line) => {
      const reply = next();
      socket.write(`${line}\r\n`);
      return reply;
    },
    close: () => socket.destroy(),
  };
}

/** The code in brackets at the end of a Sealpost reply, e.g. 'GW_NO_KEY'. */
export function replyCode(response: string | undefined): string | undefined {
  return /\[([A-Z_]+)\]\s*$/.exec(response ?? '')?.[1];
}

const TABLES: (keyof Database)[] = [
  'users',
  'user_addresses',
  'sender_keys',
  'recipient_keys',
  'policy_rules',
  'outbound',
  'outbound_chunks',
  'audit',
  'contacts',
  'pickups',
  'pickup_tombstones',
  'pickup_sessions',
  'pickup_replies',
  'key_changes',
  'console_keys',
  'console_codes',
  'console_sessions',
  'console_totp',
  'console_replies',
];

/**
 * Whether `needle` appears anywhere in the database: in every column of every table (text and blobs), and
 * for SQLite also in the raw file and its WAL (free pages, journal). For at-rest checks (invariant 2).
 */
export async function dbContains(testDb: TestDb, needle: string): Promise<boolean> {
  const bytes = Buffer.from(needle, 'utf8');
  for (const table of TABLES) {
    const rows = (await testDb.db.kysely.selectFrom(table).selectAll().execute()) as Record<
      string,
      unknown
    >[];
    for (const row of rows) {
      for (const value of Object.values(row)) {
        if (typeof value === 'string' && value.includes(needle)) return true;
        if (value instanceof Uint8Array && Buffer.from(value).includes(bytes)) return true;
      }
    }
  }
  if (testDb.file) {
    for (const file of [testDb.file, `${testDb.file}-wal`]) {
      if (existsSync(file) && readFileSync(file).includes(bytes)) return true;
    }
  }
  return false;
}

/**
 * One AUTH on a fresh connection (STARTTLS first on submission), from `localAddress` when given: 'OK', or the
 * code in brackets of the refusal (GW_AUTH_FAILED, GW_AUTH_RATE_LIMITED, …), with the SMTP reply code.
 */
export async function tryLogin(
  gw: TestGateway,
  o: { user?: string; pass?: string } & SessionOptions = {},
): Promise<{ code: string; smtp?: number; response?: string }> {
  const { user, pass, ...where } = o;
  const session = await gw.session(where);
  try {
    await session.login(user ?? SENDER, pass ?? SENDER_PASSWORD);
    return { code: 'OK' };
  } catch (err) {
    const e = err as { responseCode?: number; response?: string };
    return {
      code: replyCode(e.response) ?? `unknown: ${e.response}`,
      smtp: e.responseCode,
      response: e.response,
    };
  } finally {
    session.close();
  }
}
