import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { fixedClock } from '../../core/clock.ts';
import { parseConfig, type ConfigInput } from '../../core/config.ts';
import { LimitStore } from '../../core/limit-store.ts';
import { PolicyRuleStore } from '../../core/policy-rules.ts';
import { Sealer } from '../../core/seal.ts';
import { UserStore } from '../../core/users.ts';
import { explain, KeyStore, RecipientKeys } from '../../keys/index.ts';
import { generateKeyPair } from '../../keys/openpgp/index.ts';
import { createApp } from '../../webmail/app.ts';
import { openTestDb, type TestDb, type TestDbKind } from './db.ts';
import { FIXTURE_NOW } from './keys.ts';
import { captureLog } from './log.ts';
import { sharedRedis, uniquePrefix } from './redis.ts';
import { tmpDir } from './tmp.ts';

/**
 * The webmail app on 127.0.0.1:0 over a fresh test database, for the admin API: an admin (ADMIN), a sender
 * who is no admin (SENDER, with a sender key), a KeyStore under the `hold` key-change policy, and the real
 * explain (keys/policy/explain.ts) without network discovery. The clock is fixed; the login limits count in the
 * shared test Redis (real time), under a prefix of the app's own.
 *
 *   const a = await startAdminApp({ kind });
 *   const r = await a.request('GET', '/api/admin/key-changes', { auth: [ADMIN, ADMIN_PASSWORD] });
 */
export const ADMIN = 'admin@praxis.example';
export const ADMIN_PASSWORD = 'admin-password-0815';
export const SENDER = 'anna@praxis.example';
export const SENDER_PASSWORD = 'anna-password-4711';

export interface AdminAnswer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Record<string, unknown>;
}

export interface AdminApp {
  readonly base: string;
  /** The app itself, to serve it elsewhere too (e.g. on a Unix socket, with or without TLS). */
  readonly app: http.RequestListener;
  readonly testDb: TestDb;
  readonly keys: KeyStore;
  readonly users: UserStore;
  readonly logText: () => string;
  request(
    method: string,
    path: string,
    options?: {
      auth?: [string, string];
      headers?: Record<string, string>;
      body?: string;
      localAddress?: string;
    },
  ): Promise<AdminAnswer>;
  /** A key change held for the admin: `address` had a WKD key, the directory now serves another. */
  holdKeyChange(address: string): Promise<{ id: string; oldFingerprint: string; newFingerprint: string }>;
  close(): Promise<void>;
}

export function basic(login: string, password: string): string {
  return `Basic ${Buffer.from(`${login}:${password}`, 'utf8').toString('base64')}`;
}

export async function startAdminApp(options: {
  kind: TestDbKind;
  limits?: NonNullable<ConfigInput['limits']>;
  /** Give the app the explain function (default true; false: as before the composition root wires it). */
  explain?: boolean;
  /** Where the login limits count; default: the app's own on the shared test Redis (a given one is the
   * caller's to close). */
  limitStore?: LimitStore;
}): Promise<AdminApp> {
  const testDb = await openTestDb(options.kind);
  const tmp = tmpDir('sealpost-admin-');
  const clock = fixedClock(FIXTURE_NOW);
  const capture = captureLog('debug');
  const log = capture.log;
  const sealer = new Sealer(randomBytes(32));
  const keys = new KeyStore({ db: testDb.db.kysely, sealer, clock, log, keyChange: 'hold' });
  const users = new UserStore(testDb.db.kysely);
  await users.add({ login: ADMIN, password: ADMIN_PASSWORD, isAdmin: true }, clock.now());
  await users.add({ login: SENDER, password: SENDER_PASSWORD }, clock.now());
  await keys.generateSenderKey(SENDER);
  const config = parseConfig({
    dataDir: tmp.dir,
    publicUrl: 'http://127.0.0.1',
    discovery: { enabled: false },
    ...(options.limits ? { limits: options.limits } : {}),
  });
  const recipients = new RecipientKeys({ keys, log, clock });
  const rules = new PolicyRuleStore(testDb.db.kysely);
  // The login limits count in the shared test Redis, under a prefix of this app's own.
  const limitStore = options.limitStore ?? (await LimitStore.open(await sharedRedis(), uniquePrefix()));
  const app = createApp({
    config,
    db: testDb.db,
    log,
    clock,
    sealer,
    redis: {},
    keys,
    limitStore,
    enqueue: async () => undefined,
    ...(options.explain === false
      ? {}
      : { explain: (input) => explain({ keys, recipients, rules, config, log }, input) }),
  });
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;

  return {
    base: `http://127.0.0.1:${port}`,
    app,
    testDb,
    keys,
    users,
    logText: capture.text,
    request: (method, path, o = {}) =>
      new Promise<AdminAnswer>((resolve, reject) => {
        const headers: Record<string, string> = { ...o.headers };
        if (o.auth) headers.authorization = basic(...o.auth);
        const from = o.localAddress ? { localAddress: o.localAddress, agent: false } : {};
        const req = http.request({ host: '127.0.0.1', port, path, method, headers, ...from }, (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: text ? (JSON.parse(text) as Record<string, unknown>) : {},
            });
          });
        });
        req.on('error', reject);
        req.end(o.body);
      }),
    holdKeyChange: async (address) => {
      const first = await generateKeyPair({ address, now: clock.now() });
      const second = await generateKeyPair({ address, now: clock.now() });
      const url = `https://openpgpkey.example/${address}`;
      const stored = await keys.recordFetched({
        address,
        key: first.publicKey,
        source: 'wkd-advanced',
        sourceUrl: url,
      });
      const held = await keys.recordFetched({
        address,
        key: second.publicKey,
        source: 'wkd-advanced',
        sourceUrl: url,
      });
      if (stored.outcome !== 'stored' || held.outcome !== 'held' || !held.changeId)
        throw new Error(`expected stored then held, got ${stored.outcome}, ${held.outcome}`);
      return { id: held.changeId, oldFingerprint: first.fingerprint, newFingerprint: second.fingerprint };
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      if (!options.limitStore) await limitStore.close();
      await testDb.cleanup();
      tmp.cleanup();
    },
  };
}
