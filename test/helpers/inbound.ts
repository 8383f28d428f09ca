import { randomBytes } from 'node:crypto';
import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';
import { generate } from 'selfsigned';
import { systemClock, type Clock } from '../../core/clock.ts';
import { parseConfig, type ConfigInput } from '../../core/config.ts';
import { Sealer } from '../../core/seal.ts';
import { UserStore } from '../../core/users.ts';
import {
  createInbound,
  type DnsResolver,
  type Inbound,
  type InboundDeps,
} from '../../gateway/inbound/index.ts';
import { KeyStore } from '../../keys/index.ts';
import { testCryptoPool } from './crypto-pool.ts';
import { openTestDb, type TestDb, type TestDbKind } from './db.ts';
import { captureLog } from './log.ts';
import { startSink, type Sink, type SinkOptions } from './sink.ts';
import { tmpDir } from './tmp.ts';

/**
 * A real inbound listener on 127.0.0.1 port 0 over a fresh test database, relaying to a real sink (the
 * practice's mail server) over STARTTLS. Local addresses: anna@ and bob@praxis.example, both with a sender
 * key (the keys colleagues encrypt their replies to).
 */
export const ANNA = 'anna@praxis.example';
export const BOB = 'bob@praxis.example';

export interface TestInboundOptions {
  kind: TestDbKind;
  config?: Omit<ConfigInput, 'limits'>;
  limits?: NonNullable<ConfigInput['limits']>;
  /** The relay URL; default: a sink started here (options in `sink`). */
  relay?: string;
  sink?: SinkOptions;
  clock?: Clock;
  /** DNS for DKIM keys (test/helpers/dkim.ts); default: a resolver that knows no name at all. */
  dns?: DnsResolver;
}

export interface TestInbound {
  readonly port: number;
  readonly sink: Sink;
  readonly keys: KeyStore;
  readonly testDb: TestDb;
  readonly dataDir: string;
  readonly deps: InboundDeps;
  readonly logText: () => string;
  /** Armored public sender keys, by address. */
  readonly publicKeys: Record<string, string>;
  /** One SMTP transaction over STARTTLS without AUTH, as a sending MTA does it (from `localAddress`, e.g.
   * 127.0.0.3, when given). */
  send(
    envelope: { from: string; to: string[] },
    raw: Buffer | string,
    options?: { localAddress?: string },
  ): Promise<SMTPConnection.SentMessageInfo>;
  close(): Promise<void>;
}

export async function startTestInbound(options: TestInboundOptions): Promise<TestInbound> {
  const testDb = await openTestDb(options.kind);
  const tmp = tmpDir('sealpost-in-');
  const clock = options.clock ?? systemClock;
  const capture = captureLog('debug');
  const sink = await startSink(options.sink);
  const config = parseConfig({
    dataDir: tmp.dir,
    hostname: 'sealpost.test',
    listenHost: '127.0.0.1',
    inboundPort: 0,
    inboundRelay: options.relay ?? sink.relayUrl,
    ...options.config,
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const sealer = new Sealer(randomBytes(32));
  const keys = new KeyStore({
    db: testDb.db.kysely,
    sealer,
    clock,
    log: capture.log,
    keyChange: config.discovery.keyChange,
  });
  const users = new UserStore(testDb.db.kysely);
  const publicKeys: Record<string, string> = {};
  for (const address of [ANNA, BOB]) {
    await users.add({ login: address, password: 'long-enough-password' }, clock.now());
    publicKeys[address] = (await keys.generateSenderKey(address)).publicKey;
  }
  const pems = await generate([{ name: 'commonName', value: 'sealpost.test' }], {
    keyType: 'ec',
    curve: 'P-256',
  });
  const deps: InboundDeps = {
    config,
    db: testDb.db,
    log: capture.log,
    clock,
    sealer,
    redis: {},
    keys,
    tls: { key: pems.private, cert: pems.cert },
    dns: options.dns ?? noDns,
    crypto: testCryptoPool(), // as in production: decryption in the pool's threads
  };
  const inbound: Inbound = createInbound(deps);
  const port = await inbound.listen();
  return {
    port,
    sink,
    keys,
    testDb,
    dataDir: tmp.dir,
    deps,
    logText: capture.text,
    publicKeys,
    send: (envelope, raw, o = {}) => sendOnce(port, envelope, raw, o.localAddress),
    close: async () => {
      await inbound.close();
      await sink.close();
      await testDb.cleanup();
      tmp.cleanup();
    },
  };
}

/** No test reaches the internet's DNS: every name is unknown unless a test serves it. */
const noDns: DnsResolver = async (name) => {
  throw Object.assign(new Error(`no such name: ${name}`), { code: 'ENOTFOUND' });
};

async function sendOnce(
  port: number,
  envelope: { from: string; to: string[] },
  raw: Buffer | string,
  localAddress?: string,
): Promise<SMTPConnection.SentMessageInfo> {
  const conn = new SMTPConnection({
    host: '127.0.0.1',
    port,
    requireTLS: true,
    tls: { rejectUnauthorized: false },
    name: 'mx.clinic.example',
    ...(localAddress ? { localAddress } : {}),
  });
  conn.on('error', () => undefined); // errors reach the callbacks below
  await new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve())));
  try {
    return await new Promise((resolve, reject) =>
      conn.send(envelope, raw, (err, info) => (err ? reject(err) : resolve(info))),
    );
  } finally {
    conn.close();
  }
}

/** The SMTP reply of a failed send: code and our code in brackets. */
export function failure(err: unknown): { responseCode?: number; response?: string } {
  return err as { responseCode?: number; response?: string };
}
