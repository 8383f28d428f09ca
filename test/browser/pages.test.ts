import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { PICKUP_CSP, pickupPages } from '../../webmail/pages.ts';
import { ensureBundle, PICKUP_DIST } from '../helpers/browser.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * webmail/pages.ts over HTTP: the page with its CSP and never cached, Subresource Integrity that matches
 * the bytes served, hashed assets cached forever, nothing outside the assets folder, 503 before a build.
 */
async function serve(distDir: string): Promise<{ base: string; close(): Promise<void> }> {
  const app = express();
  app.use(pickupPages({ distDir }));
  app.use((_req, res) => void res.status(404).json({ code: 'WEB_NOT_FOUND' }));
  const server = http.createServer(app).listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    base: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('pickup pages (webmail/pages.ts)', () => {
  before(async () => {
    await ensureBundle();
  });

  it('serves the app with the CSP, no caching, and integrity hashes that match the assets', async () => {
    const web = await serve(PICKUP_DIST);
    try {
      const res = await fetch(`${web.base}/p/AAAAAAAAAAAAAAAAAAAAAA`);
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-security-policy'), PICKUP_CSP);
      assert.match(PICKUP_CSP, /default-src 'none'/);
      assert.doesNotMatch(PICKUP_CSP, /script-src[^;]*'unsafe-inline'/);
      assert.equal(res.headers.get('cache-control'), 'no-store');
      const html = await res.text();
      assert.doesNotMatch(html, /<script(?![^>]*\ssrc=)[^>]*>/, 'no inline script');
      const tags = [...html.matchAll(/<(?:script|link)[^>]*(?:src|href)="(\/assets\/[^"]+)"[^>]*>/g)];
      assert.ok(tags.length >= 2, 'the script and the stylesheet');
      for (const [tag, file] of tags) {
        const integrity = /integrity="(sha384-[^"]+)"/.exec(tag)?.[1];
        assert.ok(integrity, `integrity on ${file}`);
        const asset = await fetch(`${web.base}${file}`);
        assert.equal(asset.status, 200);
        assert.equal(asset.headers.get('cache-control'), 'public, max-age=31536000, immutable');
        assert.equal(asset.headers.get('content-security-policy'), PICKUP_CSP, 'a worker runs under it');
        const bytes = Buffer.from(await asset.arrayBuffer());
        assert.equal(`sha384-${createHash('sha384').update(bytes).digest('base64')}`, integrity, file);
      }
    } finally {
      await web.close();
    }
  });

  it('answers 404 (not cached) for a missing asset and never leaves the assets folder', async () => {
    const web = await serve(PICKUP_DIST);
    try {
      const missing = await fetch(`${web.base}/assets/nope-123.js`);
      assert.equal(missing.status, 404);
      assert.equal(missing.headers.get('cache-control'), 'no-store');
      for (const path of ['/assets/../index.html', '/assets/%2e%2e/index.html', '/assets/..%2findex.html']) {
        const res = await fetch(`${web.base}${path}`);
        assert.notEqual(res.status, 200, path);
      }
    } finally {
      await web.close();
    }
  });

  it('answers 503 PU_UNAVAILABLE while the app is not built', async () => {
    const empty = tmpDir('sealpost-nodist-');
    const web = await serve(empty.dir);
    try {
      const res = await fetch(`${web.base}/p/AAAAAAAAAAAAAAAAAAAAAA`);
      assert.equal(res.status, 503);
      assert.equal(((await res.json()) as { code: string }).code, 'PU_UNAVAILABLE');
    } finally {
      await web.close();
      empty.cleanup();
    }
  });
});
