import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { createSealpost, SERVICES, type Sealpost } from '../../cli/sealpost.ts';
import { parseConfig } from '../../core/config.ts';
import { Sealer } from '../../core/seal.ts';
import { KeyStore, type Discoverer } from '../../keys/index.ts';
import { KeyDiscovery } from '../../keys/discovery/index.ts';
import { openTestDb, testDbKinds, type TestDb } from '../helpers/db.ts';
import { captureLog } from '../helpers/log.ts';
import { sharedRedis, uniquePrefix } from '../helpers/redis.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * One composition root (cli/sealpost.ts): `sealpost start` builds ONE key store and ONE discoverer and hands
 * the same ones to the gateway, the worker and the webmail (the worker used to build its own of each).
 */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (file.startsWith('webmail/pickup')) return [];
    return statSync(file).isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : [];
  });
}

describe('composition root', () => {
  it('is the only place a service gets its key store and discoverer from', () => {
    const building = ['gateway', 'worker', 'webmail']
      .flatMap(sources)
      .filter((file) => /new (KeyStore|KeyDiscovery)\(/.test(readFileSync(file, 'utf8')));
    assert.deepEqual(building, []);
  });

  for (const kind of testDbKinds()) {
    describe(`all three services in one process (${kind})`, function () {
      this.timeout(60_000);
      let testDb: TestDb;
      let tmp: { dir: string; cleanup: () => void };
      let sealpost: Sealpost | undefined;

      beforeEach(async () => {
        testDb = await openTestDb(kind);
        tmp = tmpDir('sealpost-compose-');
      });
      afterEach(async () => {
        await sealpost?.workers?.close();
        await sealpost?.gateway?.close();
        await sealpost?.close();
        await testDb.cleanup();
        tmp.cleanup();
      });

      it('builds one KeyStore and one discoverer, and starts with them', async () => {
        const made = { keyStores: [] as KeyStore[], discoverers: [] as Discoverer[] };
        const config = parseConfig({
          dataDir: tmp.dir,
          hostname: 'sealpost.test',
          listenHost: '127.0.0.1',
          smtpPort: 0,
          smtpsPort: 0,
          queuePrefix: uniquePrefix(),
          publicUrl: 'http://127.0.0.1',
        });
        assert.ok(config.discovery.enabled, 'discovery is on by default');
        sealpost = await createSealpost(config, {
          services: SERVICES,
          overrides: {
            log: captureLog().log,
            db: testDb.db,
            sealer: new Sealer(randomBytes(32)),
            redis: await sharedRedis(),
            newKeyStore: (deps) => {
              const keys = new KeyStore(deps);
              made.keyStores.push(keys);
              return keys;
            },
            newDiscoverer: (deps) => {
              const discovery = new KeyDiscovery(deps);
              made.discoverers.push(discovery);
              return discovery;
            },
          },
        });
        await sealpost.workers!.start();
        await sealpost.gateway!.listen();
        assert.ok(sealpost.app, 'the webmail is built');
        assert.equal(made.keyStores.length, 1, 'one KeyStore');
        assert.equal(made.discoverers.length, 1, 'one discoverer');
        assert.equal(sealpost.keys, made.keyStores[0]);
        assert.equal(sealpost.discovery, made.discoverers[0]);
        // The worker's key refresh runs with the process's discoverer and key store.
        const refreshed = await sealpost.workers!.refreshKeys();
        assert.ok(refreshed);
      });
    });
  }
});
