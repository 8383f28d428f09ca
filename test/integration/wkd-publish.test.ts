import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import * as openpgp from 'openpgp';
import { fixedClock } from '../../core/clock.ts';
import { parseConfig } from '../../core/config.ts';
import { LimitStore } from '../../core/limit-store.ts';
import { Sealer } from '../../core/seal.ts';
import { wkdHash } from '../../keys/discovery/wkd.ts';
import { KeyStore } from '../../keys/index.ts';
import { createApp } from '../../webmail/app.ts';
import { openTestDb, testDbKinds, type TestDb, type TestDbKind } from '../helpers/db.ts';
import {
  gpgLocateKeys,
  gpgWkdUnavailable,
  gpgWksCheck,
  startWkdFront,
  type WkdFront,
} from '../helpers/gpg-wkd.ts';
import { FIXTURE_NOW } from '../helpers/keys.ts';
import { captureLog } from '../helpers/log.ts';
import { sharedRedis, uniquePrefix } from '../helpers/redis.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * WKD publishing (docs/discovery.md "Publishing (WKD)"): the webmail serves each active sender key at both
 * WKD paths, as binary, narrowed to the User IDs of the address asked for, readable from any origin; and
 * GnuPG's own WKD client finds it there over HTTPS.
 */
const ANNA = 'anna@praxis.example';
const PRIVATE = 'private@elsewhere.example';
const BOB = 'bob@praxis.example';
const advanced = (domain: string, local: string) =>
  `/.well-known/openpgpkey/${domain}/hu/${wkdHash(local)}?l=${local}`;
const direct = (local: string) => `/.well-known/openpgpkey/hu/${wkdHash(local)}?l=${local}`;

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
}

interface Served {
  testDb: TestDb;
  app: ReturnType<typeof createApp>;
  port: number;
  /** anna's and private's key (one key, two User IDs), bob's active key, bob's replaced one. */
  fingerprints: { anna: string; bob: string; bobOld: string };
  keys: KeyStore;
  /** A request with the Host header the direct method needs (http.request: fetch cannot set Host). */
  get(path: string, options?: { host?: string; method?: string }): Promise<Answer>;
  close(): Promise<void>;
}

async function serve(kind: TestDbKind): Promise<Served> {
  const testDb = await openTestDb(kind);
  const tmp = tmpDir('sealpost-wkd-');
  const clock = fixedClock(FIXTURE_NOW);
  const log = captureLog().log;
  const sealer = new Sealer(randomBytes(32));
  const keys = new KeyStore({ db: testDb.db.kysely, sealer, clock, log });
  // One imported key with two User IDs: the sender key of both addresses.
  const twoIds = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: [
      { name: 'Anna Praxis', email: ANNA },
      { name: 'Anna Privat', email: PRIVATE },
    ],
    date: FIXTURE_NOW,
    format: 'armored',
  });
  const [imported] = await keys.importKeys(twoIds.privateKey);
  const bobOld = await keys.generateSenderKey(BOB);
  const bob = await keys.generateSenderKey(BOB);
  const config = parseConfig({ dataDir: tmp.dir, publicUrl: 'http://127.0.0.1' });
  const limitStore = await LimitStore.open(await sharedRedis(), uniquePrefix());
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
  });
  const server = http.createServer(app);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as AddressInfo).port;
  return {
    testDb,
    app,
    port,
    fingerprints: { anna: imported!.fingerprint, bob: bob.fingerprint, bobOld: bobOld.fingerprint },
    keys,
    get: (path, options = {}) =>
      new Promise<Answer>((resolve, reject) => {
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path,
            method: options.method ?? 'GET',
            headers: { host: options.host ?? `127.0.0.1:${port}` },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
            );
          },
        );
        req.on('error', reject);
        req.end();
      }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await limitStore.close();
      await testDb.cleanup();
      tmp.cleanup();
    },
  };
}

/** The served bytes as a key: binary (not armored), public, with exactly these User ID addresses. */
async function servedKey(answer: Answer): Promise<{ fingerprint: string; emails: string[] }> {
  assert.equal(answer.status, 200, answer.body.toString('utf8'));
  assert.equal(answer.headers['content-type'], 'application/octet-stream');
  assert.equal(answer.headers['access-control-allow-origin'], '*');
  assert.equal(answer.headers['cross-origin-resource-policy'], 'cross-origin');
  assert.ok(!answer.body.toString('latin1').includes('-----BEGIN'), 'binary, not armored');
  const key = await openpgp.readKey({ binaryKey: answer.body });
  assert.equal(key.isPrivate(), false);
  const emails = key.users.map((u) => u.userID?.email ?? '(attribute)');
  return { fingerprint: key.getFingerprint().toUpperCase(), emails };
}

for (const kind of testDbKinds()) {
  describe(`WKD publishing: other mail programs find our senders' keys (${kind})`, function () {
    this.timeout(120_000);
    let s: Served;
    beforeEach(async () => {
      s = await serve(kind);
    });
    afterEach(async () => {
      await s.close();
    });

    it('serves the advanced method: the binary key with only the User ID of that address', async () => {
      const anna = await servedKey(await s.get(advanced('praxis.example', 'anna')));
      assert.equal(anna.fingerprint, s.fingerprints.anna);
      assert.deepEqual(anna.emails, [ANNA]);
      const other = await servedKey(await s.get(advanced('elsewhere.example', 'private')));
      assert.equal(other.fingerprint, s.fingerprints.anna, 'the same key');
      assert.deepEqual(other.emails, [PRIVATE]);
    });

    it('serves the direct method by the Host header (port dropped, any case), with or without ?l=', async () => {
      const viaHost = await servedKey(await s.get(direct('anna'), { host: `Praxis.Example:${s.port}` }));
      assert.equal(viaHost.fingerprint, s.fingerprints.anna);
      assert.deepEqual(viaHost.emails, [ANNA]);
      const noL = await s.get(`/.well-known/openpgpkey/hu/${wkdHash('private')}`, {
        host: 'elsewhere.example',
      });
      assert.deepEqual((await servedKey(noL)).emails, [PRIVATE]);
      const wrongHost = await s.get(direct('anna'), { host: 'elsewhere.example' });
      assert.equal(wrongHost.status, 404, 'anna is not at elsewhere.example');
    });

    it("serves a sender's active key, not the one it replaced", async () => {
      const bob = await servedKey(await s.get(advanced('praxis.example', 'bob')));
      assert.equal(bob.fingerprint, s.fingerprints.bob);
      assert.notEqual(bob.fingerprint, s.fingerprints.bobOld);
      assert.deepEqual(bob.emails, [BOB]);
    });

    it('serves a revoked key with its revocation, beside the key that replaces it (not a rotated one)', async () => {
      const revoked = await s.keys.revokeSenderKey(BOB);
      assert.equal(revoked.fingerprint, s.fingerprints.bob);
      const alone = await openpgp.readKeys({
        binaryKeys: (await s.get(advanced('praxis.example', 'bob'))).body,
      });
      assert.deepEqual(
        alone.map((k) => k.getFingerprint().toUpperCase()),
        [s.fingerprints.bob],
        'the revoked key, the earlier rotated one not',
      );
      assert.ok(await alone[0]!.isRevoked(undefined, undefined, FIXTURE_NOW));
      const next = await s.keys.generateSenderKey(BOB);
      const both = await openpgp.readKeys({
        binaryKeys: (await s.get(advanced('praxis.example', 'bob'))).body,
      });
      assert.deepEqual(
        both.map((k) => k.getFingerprint().toUpperCase()),
        [next.fingerprint, s.fingerprints.bob],
        'the active key first',
      );
      assert.equal(await both[0]!.isRevoked(undefined, undefined, FIXTURE_NOW), false);
    });

    it('answers HEAD like GET, without the body', async () => {
      const head = await s.get(advanced('praxis.example', 'anna'), { method: 'HEAD' });
      assert.equal(head.status, 200);
      assert.equal(head.headers['content-type'], 'application/octet-stream');
      assert.ok(Number(head.headers['content-length']) > 0);
      assert.equal(head.body.length, 0);
    });

    it('answers 404 for an unknown hash, a domain we do not publish, and malformed paths', async () => {
      const paths = [
        advanced('praxis.example', 'nobody'),
        advanced('unknown.example', 'anna'),
        `/.well-known/openpgpkey/praxis.example/hu/${wkdHash('anna').slice(1)}`, // 31 characters
        `/.well-known/openpgpkey/praxis.example/hu/${'l'.repeat(32)}`, // l is not z-base-32
        `/.well-known/openpgpkey/praxis.example/hu/${wkdHash('anna').toUpperCase()}`,
        `/.well-known/openpgpkey/praxis_example/hu/${wkdHash('anna')}`,
        `/.well-known/openpgpkey/%25.example/hu/${wkdHash('anna')}`, // a LIKE wildcard
        `/.well-known/openpgpkey/praxis.example/hu/${wkdHash('anna')}?l=${'a'.repeat(300)}`,
      ];
      for (const path of paths) {
        const answer = await s.get(path);
        assert.equal(answer.status, 404, path);
        assert.equal(answer.headers['access-control-allow-origin'], '*', path);
        assert.equal(JSON.parse(answer.body.toString('utf8')).code, 'WEB_NOT_FOUND', path);
      }
      assert.equal((await s.get(direct('anna'), { host: 'unknown.example' })).status, 404);
      assert.equal((await s.get(direct('anna'), { host: '127.0.0.1' })).status, 404);
    });

    it('serves an empty policy file for a domain we publish for (both methods), 404 for others', async () => {
      for (const answer of [
        await s.get('/.well-known/openpgpkey/praxis.example/policy'),
        await s.get('/.well-known/openpgpkey/policy', { host: `praxis.example:${s.port}` }),
        await s.get('/.well-known/openpgpkey/elsewhere.example/policy'),
      ]) {
        assert.equal(answer.status, 200);
        assert.equal(answer.body.length, 0);
        assert.equal(answer.headers['content-type'], 'application/octet-stream');
        assert.equal(answer.headers['access-control-allow-origin'], '*');
        assert.equal(answer.headers['cross-origin-resource-policy'], 'cross-origin');
      }
      assert.equal((await s.get('/.well-known/openpgpkey/unknown.example/policy')).status, 404);
      assert.equal((await s.get('/.well-known/openpgpkey/policy', { host: 'unknown.example' })).status, 404);
    });

    it('keeps the same-origin resource policy everywhere else', async () => {
      const health = await s.get('/healthz');
      assert.equal(health.headers['cross-origin-resource-policy'], 'same-origin');
      assert.equal(health.headers['access-control-allow-origin'], undefined);
    });

    describe('read back with GnuPG (dirmngr over HTTPS on port 443, in private namespaces)', () => {
      let front: WkdFront | undefined;
      beforeEach(async function () {
        const unavailable = gpgWkdUnavailable();
        // In CI (root, .ci/run installs the tools) the read-back is required: missing tools fail, not skip.
        if (unavailable && process.env.CI) throw new Error(`gpg WKD read-back impossible: ${unavailable}`);
        if (unavailable) {
          // mocha's skip takes no reason: the title carries it into the report.
          this.currentTest!.title += ` — skipped: ${unavailable}`;
          this.skip();
        }
        front = await startWkdFront(s.app, ['praxis.example', 'elsewhere.example']);
      });
      afterEach(async () => {
        await front?.close();
        front = undefined;
      });

      for (const method of ['advanced', 'direct'] as const) {
        it(`gpg --locate-external-keys finds anna's key by the ${method} method; the fingerprint matches`, async () => {
          const found = await gpgLocateKeys(front!, { address: ANNA, method });
          assert.equal(found.locate.code, 0, found.locate.stderr);
          assert.equal(found.keys.length, 1, found.locate.stderr);
          assert.equal(found.keys[0]!.fingerprint, s.fingerprints.anna);
          // (gpg itself keeps only the matching User IDs of a WKD key: the narrowing is proven above)
          assert.deepEqual(found.keys[0]!.userIds, [`Anna Praxis <${ANNA}>`]);
          const asked = front!.requests.filter((r) => r.url.includes('/hu/'));
          assert.deepEqual(
            asked.map((r) => [r.host, r.url]),
            [
              method === 'advanced'
                ? ['openpgpkey.praxis.example', advanced('praxis.example', 'anna')]
                : ['praxis.example', direct('anna')],
            ],
          );
        });
      }

      it('gpg-wks-client --check sees each address with only its own User ID (it filters nothing)', async () => {
        const cases = [
          { address: ANNA, method: 'advanced', userId: `Anna Praxis <${ANNA}>` },
          { address: PRIVATE, method: 'direct', userId: `Anna Privat <${PRIVATE}>` },
        ] as const;
        for (const c of cases) {
          const check = await gpgWksCheck(front!, { address: c.address, method: c.method });
          assert.equal(check.result.code, 0, check.result.stderr);
          assert.equal(check.fingerprint, s.fingerprints.anna, check.result.stderr);
          assert.deepEqual(check.userIds, [c.userId], check.result.stderr);
        }
      });
    });
  });
}
