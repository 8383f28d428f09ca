import assert from 'node:assert/strict';
import { once } from 'node:events';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { newPage, pickupLink, screenshot, unlockInBrowser, withBrowserStack } from '../helpers/browser.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import type { Stack } from '../helpers/stack.ts';

/**
 * Attack: an HTML message that tries to phone home (remote images, CSS url(), srcset, a stylesheet link,
 * a meta refresh), to run code (script, event handlers, javascript: links, SVG), to collect input (a form)
 * or to embed another page (iframe, object). In the pickup app it must render inert: the "remote" server —
 * a real one on loopback — receives no request at all, and no script runs.
 */
const MAX = 'max@example.org';

function hostileHtml(remote: string): string {
  return `<!doctype html><html><head>
<meta http-equiv="refresh" content="0;url=${remote}/refresh">
<link rel="stylesheet" href="${remote}/style.css">
<style>@import url(${remote}/import.css); body { background: url(${remote}/body-bg.png) }</style>
<base href="${remote}/base/">
<script>fetch('${remote}/script');</script>
</head><body onload="fetch('${remote}/onload')">
<h1 id="hello">Hallo Max</h1>
<p style="color: #800">Ihr Befund liegt bei.</p>
<img src="${remote}/pixel.gif" alt="tracker" width="1" height="1">
<img srcset="${remote}/a.png 1x, ${remote}/b.png 2x" alt="srcset">
<img src="x" onerror="fetch('${remote}/onerror')">
<div style="background-image: url('${remote}/div-bg.png')">bg</div>
<table background="${remote}/table-bg.png"><tr><td>t</td></tr></table>
<video poster="${remote}/poster.png"></video>
<svg><image href="${remote}/svg.png"></image><script>fetch('${remote}/svg-script')</script></svg>
<form action="${remote}/form" method="post"><input name="pin" value="1234"><button id="go">Senden</button></form>
<iframe src="${remote}/frame"></iframe>
<object data="${remote}/object"></object>
<a id="link" href="${remote}/link">Termin bestätigen</a>
<a id="js" href="javascript:fetch('${remote}/js')">JS</a>
</body></html>`;
}

const [kind] = testDbKinds();

describe('security: hostile HTML in a pickup renders inert', function () {
  this.timeout(120_000);
  let browser: Browser;
  let stack: Stack;
  let remote: http.Server;
  const hits: string[] = [];

  withBrowserStack(
    () => ({ kind: kind! }),
    (env) => ({ browser, stack } = env),
  );
  before(async () => {
    remote = http.createServer((req, res) => {
      hits.push(req.url ?? '');
      res.end('x');
    });
    remote.listen(0, '127.0.0.1');
    await once(remote, 'listening');
  });
  after(async () => {
    remote.closeAllConnections();
    await new Promise((r) => remote.close(r));
  });

  it('loads nothing remote, runs no script, submits nothing, and says that images were blocked', async () => {
    // "localhost" is a different origin from the app's 127.0.0.1 but the same loopback server.
    const origin = `http://localhost:${(remote.address() as AddressInfo).port}`;
    await stack.gw.transport().sendMail({
      from: SENDER,
      to: MAX,
      subject: 'HTML',
      html: hostileHtml(origin),
      text: 'Hallo Max',
    });
    const { link, code } = await pickupLink(stack, MAX);
    const { page, problems } = await newPage(browser);
    await unlockInBrowser(page, link, code!);
    await page.getByTestId('remote-blocked').waitFor();

    const frameElement = page.locator('iframe[title="Nachrichtentext"]');
    assert.equal(await frameElement.getAttribute('sandbox'), '', 'sandbox with no allowances');
    const frame = page.frameLocator('iframe[title="Nachrichtentext"]');
    await frame.locator('#hello').waitFor();
    assert.equal(await frame.locator('#hello').innerText(), 'Hallo Max', 'the content itself is shown');
    // What is left in the frame: no active or remote element, no handler, no link target.
    assert.equal(
      await frame
        .locator(
          'script, form, input, button, iframe, object, embed, svg, link, meta[http-equiv="refresh"], base, style',
        )
        .count(),
      0,
    );
    const attrs = await frame
      .locator('body *')
      .evaluateAll((els: { attributes: ArrayLike<{ name: string; value: string }> }[]) =>
        els.flatMap((e) => Array.from(e.attributes, (a) => `${a.name}=${a.value}`)),
      );
    for (const a of attrs) {
      assert.ok(!/^on/i.test(a), `no event handler: ${a}`);
      assert.ok(!a.includes('localhost'), `no remote reference: ${a}`);
      assert.ok(!/^(href|src|srcset|background|poster|action)=/i.test(a) || /=data:/.test(a), `inert: ${a}`);
    }
    assert.match(await frame.locator('body').innerText(), /Termin bestätigen <http:\/\/localhost:\d+\/link>/);
    await frame.locator('#link').click(); // waits for a navigation it would start
    // A round trip to the app's own server after everything above: a request the page had started would
    // have reached the loopback "remote" before this answer comes back.
    await page.evaluate("fetch('/api/pickup/session').then((r) => r.status)");
    await screenshot(page, 'html-inert');
    assert.deepEqual(hits, [], 'the remote server got no request');
    assert.ok(
      !problems.requests.some((u) => u.includes('localhost')),
      'the browser requested nothing remote',
    );
    assert.equal(await page.evaluate('location.pathname'), new URL(link).pathname, 'no navigation');
  });
});
