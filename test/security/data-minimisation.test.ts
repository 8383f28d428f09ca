import assert from 'node:assert/strict';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createApp } from '../../webmail/app.ts';
import { captureLog } from '../helpers/log.ts';
import { openTestDb, type TestDb } from '../helpers/db.ts';

/**
 * Invariant 5, data minimisation: no tracking, no third-party resources, no cookie but one session cookie
 * (and none at all where there is no session), no referrer leaves our pages. The pickup pages arrive with
 * the pickup issue; what the webmail serves today is held to the same headers.
 */
describe('security: data minimisation', () => {
  let testDb: TestDb;
  let base: string;
  let close: () => Promise<void>;

  beforeEach(async () => {
    testDb = await openTestDb('sqlite');
    const server = createApp({ db: testDb.db, log: captureLog().log }).listen(0, '127.0.0.1');
    await once(server, 'listening');
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => new Promise((resolve) => server.close(() => resolve()));
  });

  afterEach(async () => {
    await close();
    await testDb.cleanup();
  });

  for (const path of ['/healthz', '/does-not-exist']) {
    it(`sets no cookie and sends the privacy headers on ${path}`, async () => {
      const res = await fetch(base + path);
      assert.equal(res.headers.get('set-cookie'), null);
      assert.equal(res.headers.get('referrer-policy'), 'no-referrer');
      assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
      assert.equal(res.headers.get('x-powered-by'), null);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /default-src 'none'/);
      assert.doesNotMatch(csp, /https?:/, 'no third-party origin is allowed');
      assert.match(csp, /frame-ancestors 'none'/);
    });
  }
});
