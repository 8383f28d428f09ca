import assert from 'node:assert/strict';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * Invariant 5, data minimisation: no tracking, no third-party resources, no cookie but one session cookie
 * (and none at all where there is no session), no referrer leaves our pages. The session cookie itself is
 * tested with the pickup API (pickup-api.test.ts); the pages with the browser tests.
 */
describe('security: data minimisation', () => {
  let stack: Stack;
  let base: string;

  beforeEach(async () => {
    stack = await startStack({ kind: 'sqlite' });
    base = stack.web;
  });

  afterEach(async () => {
    await stack.close();
  });

  for (const path of ['/healthz', '/does-not-exist', '/api/pickup/AAAAAAAAAAAAAAAAAAAAAA']) {
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
