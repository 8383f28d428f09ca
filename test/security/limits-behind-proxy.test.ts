import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  rawSmtp,
  replyCode,
  SENDER,
  startTestGateway,
  tryLogin,
  type TestGateway,
} from '../helpers/gateway.ts';
import { authKeyFor, linkId, postUnlock } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';
import { consoleCode } from '../helpers/console.ts';

/**
 * Issue 11 finding 5: behind a reverse proxy the per-address limits saw one address. `trustProxy` (off by
 * default) names the proxies whose word on the client's address is taken: Express `trust proxy` for the
 * webmail (X-Forwarded-For), the PROXY protocol for SMTP. Nobody else's word is taken: a client that sends
 * X-Forwarded-For or a PROXY line itself is counted by its own address.
 */
const PROXY = '127.0.0.2';
const OTHER = '127.0.0.3';

async function newPickup(s: Stack): Promise<{ id: string; right: Buffer }> {
  await s.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 'Befund', text: 'Hallo.' });
  const msgs = await s.sink.waitFor(2);
  const id = await linkId(msgs.find((m) => m.to[0] === 'max@example.org')!.raw);
  const code = await consoleCode(s.web, 'max@example.org');
  return { id, right: await authKeyFor(s.web, id, code) };
}

const wrong = () => randomBytes(32);
const xff = (client: string) => ({ 'x-forwarded-for': client });

describe('security: per-address limits behind a reverse proxy (trustProxy)', function () {
  this.timeout(120_000);
  let stack: Stack | undefined;
  let gw: TestGateway | undefined;
  afterEach(async () => {
    await stack?.close();
    await gw?.close();
    stack = undefined;
    gw = undefined;
  });

  it('webmail, trustProxy off: X-Forwarded-For is ignored, the socket’s address counts', async () => {
    stack = await startStack({ kind: 'sqlite', config: { pickup: { unlockAttemptsPerIp: 2 } } });
    const { id, right } = await newPickup(stack);
    for (const client of ['198.51.100.1', '198.51.100.2']) {
      const r = await postUnlock(stack.web, id, wrong(), { localAddress: PROXY, headers: xff(client) });
      assert.equal(r.status, 401);
    }
    const refused = await postUnlock(stack.web, id, right, {
      localAddress: PROXY,
      headers: xff('198.51.100.3'),
    });
    assert.equal(refused.status, 429);
    assert.equal(refused.body.code, 'PU_TOO_MANY_WRONG_CODES');
    assert.equal((await postUnlock(stack.web, id, right, { localAddress: OTHER })).status, 200);
  });

  it('webmail, behind the proxy either way: right codes never count, so N+1 clients all get in', async () => {
    for (const trustProxy of [undefined, { http: [PROXY] }]) {
      const pickup = { unlockAttemptsPerIp: 2 };
      stack = await startStack({ kind: 'sqlite', config: trustProxy ? { trustProxy, pickup } : { pickup } });
      const { id, right } = await newPickup(stack);
      for (let i = 0; i < 3; i++) {
        const r = await postUnlock(stack.web, id, right, {
          localAddress: PROXY,
          headers: xff('198.51.100.1'),
        });
        assert.equal(r.status, 200, `trustProxy ${JSON.stringify(trustProxy ?? 'off')}, client ${i + 1}`);
      }
      await stack.close();
      stack = undefined;
    }
  });

  it('webmail, trustProxy.http names the proxy: its X-Forwarded-For counts, nobody else’s', async () => {
    stack = await startStack({
      kind: 'sqlite',
      config: { trustProxy: { http: [PROXY] }, pickup: { unlockAttemptsPerIp: 2 } },
    });
    const { id, right } = await newPickup(stack);
    for (let i = 0; i < 2; i++) {
      const r = await postUnlock(stack.web, id, wrong(), {
        localAddress: PROXY,
        headers: xff('198.51.100.1'),
      });
      assert.equal(r.status, 401);
    }
    const limited = await postUnlock(stack.web, id, right, {
      localAddress: PROXY,
      headers: xff('198.51.100.1'),
    });
    assert.equal(limited.body.code, 'PU_TOO_MANY_WRONG_CODES', 'the client behind the proxy is limited');
    const neighbour = await postUnlock(stack.web, id, right, {
      localAddress: PROXY,
      headers: xff('198.51.100.2'),
    });
    assert.equal(neighbour.status, 200, 'another client behind the same proxy is not');
    // 127.0.0.3 is no proxy of ours: what it claims is not believed, its own address counts
    for (const client of ['198.51.100.5', '198.51.100.6']) {
      const r = await postUnlock(stack.web, id, wrong(), { localAddress: OTHER, headers: xff(client) });
      assert.equal(r.status, 401);
    }
    const spoofed = await postUnlock(stack.web, id, right, {
      localAddress: OTHER,
      headers: xff('198.51.100.7'),
    });
    assert.equal(spoofed.body.code, 'PU_TOO_MANY_WRONG_CODES');
  });

  it('SMTP, trustProxy off: a PROXY header is refused from anyone, never believed', async () => {
    gw = await startTestGateway({ kind: 'sqlite' });
    await refusesProxyHeader(gw, PROXY);
  });

  it('SMTP, trustProxy.smtp names the proxy: its PROXY header says who the client is, for logins and connections', async () => {
    gw = await startTestGateway({
      kind: 'sqlite',
      config: { trustProxy: { smtp: [PROXY] } },
      limits: { authFailuresPerIp: 2, maxConnectionsPerIp: 3 },
    });
    const via = (client: string) => ({
      localAddress: PROXY,
      proxyHeader: `PROXY TCP4 ${client} 127.0.0.1 40000 587`,
    });
    for (const user of ['a@praxis.example', 'b@praxis.example']) {
      assert.equal(
        (await tryLogin(gw, { user, pass: 'guess-1', ...via('198.51.100.7') })).code,
        'GW_AUTH_FAILED',
      );
    }
    assert.match(gw.logText(), /"code":"GW_AUTH_FAILED"[^\n]*"remote":"198\.51\.100\.7"/);
    assert.equal(
      (await tryLogin(gw, via('198.51.100.7'))).code,
      'GW_AUTH_RATE_LIMITED',
      'that client is limited',
    );
    assert.equal(
      (await tryLogin(gw, via('198.51.100.8'))).code,
      'OK',
      'another behind the same proxy is not',
    );
    assert.equal((await tryLogin(gw, { ...via('198.51.100.9'), port: 'smtps' })).code, 'OK', 'on 465 too');
    // connections: counted by the client the proxy names, not by the proxy (which carries them all)
    const greetings: string[] = [];
    const held: { close(): void }[] = [];
    try {
      for (const client of ['198.51.100.20', '198.51.100.20', '198.51.100.20', '198.51.100.20']) {
        const smtp = await rawSmtp(gw.ports.submissionPort, via(client));
        held.push(smtp);
        greetings.push(smtp.greeting);
      }
      assert.deepEqual(
        greetings.map((g) => g.slice(0, 3)),
        ['220', '220', '220', '421'],
      );
      assert.equal(replyCode(greetings[3]), 'GW_TOO_MANY_CONNECTIONS');
      for (let i = 21; i < 25; i++) {
        const smtp = await rawSmtp(gw.ports.submissionPort, via(`198.51.100.${i}`));
        held.push(smtp);
        assert.match(smtp.greeting, /^220 /, 'eight connections from the proxy, four of them one client');
      }
    } finally {
      for (const h of held) h.close();
    }
    // and the proxy's word is taken from the proxy alone
    await refusesProxyHeader(gw, OTHER);
  });
});

/** A PROXY line from `from` ends in 421 (sent before the greeting) or a 5xx (as an unknown command). */
async function refusesProxyHeader(gw: TestGateway, from: string): Promise<void> {
  const smtp = await rawSmtp(gw.ports.submissionPort, {
    localAddress: from,
    proxyHeader: 'PROXY TCP4 198.51.100.99 127.0.0.1 40000 587',
  });
  try {
    if (smtp.greeting.startsWith('220 ')) {
      // a slow machine greeted first: the line is then a command, and its reply comes before NOOP's
      assert.match(await smtp.command('NOOP'), /^5\d\d /);
    } else {
      assert.match(smtp.greeting, /^421 /);
    }
  } finally {
    smtp.close();
  }
  assert.doesNotMatch(gw.logText(), /198\.51\.100\.99/);
}
