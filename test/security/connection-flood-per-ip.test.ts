import assert from 'node:assert/strict';
import { once } from 'node:events';
import net from 'node:net';
import { replyCode, SENDER, startTestGateway, tryLogin, type TestGateway } from '../helpers/gateway.ts';
import { ANNA, startTestInbound, type TestInbound } from '../helpers/inbound.ts';

/**
 * Issue 11 finding 5: 200 idle connections from one address gave 421 to everyone, on submission and on the
 * inbound MX. Now each listener takes at most `limits.maxConnectionsPerIp` from one address beside
 * `maxConnections` over all; the excess gets `421 4.7.0 … [GW_/IN_TOO_MANY_CONNECTIONS]` (on implicit TLS it
 * is closed, nothing can be said before the handshake). Here the whole listener is 30 connections, one
 * address may hold 10, and 127.0.0.2 opens 30 idle ones: 127.0.0.3 still gets its greeting and sends.
 */
const FLOODER = '127.0.0.2';
const CLIENT = '127.0.0.3';
const LIMITS = { maxConnections: 30, maxConnectionsPerIp: 10 };

interface Idle {
  socket: net.Socket;
  /** The first line the server sent, or 'closed' when it closed without a word. */
  first: Promise<string>;
}

/** A TCP connection that says nothing (not even a TLS ClientHello), as a flooder's does. */
async function idle(port: number): Promise<Idle> {
  const socket = net.connect({ port, host: '127.0.0.1', localAddress: FLOODER });
  socket.on('error', () => undefined);
  await once(socket, 'connect');
  const first = new Promise<string>((resolve) => {
    let text = '';
    socket.on('data', (chunk: Buffer) => {
      text += chunk.toString('latin1');
      if (text.includes('\n')) resolve(text.slice(0, text.indexOf('\n')).trim());
    });
    socket.on('close', () => resolve(text ? text.trim() : 'closed'));
  });
  return { socket, first };
}

async function flood(port: number, count: number): Promise<Idle[]> {
  const all: Idle[] = [];
  for (let i = 0; i < count; i++) all.push(await idle(port));
  return all;
}

function close(all: Idle[]): void {
  for (const c of all) c.socket.destroy();
}

/** Wait until `port` greets a new connection from the flooder again (its closed ones were counted down). */
async function greetsFlooderAgain(port: number): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const c = await idle(port);
    const line = await c.first;
    c.socket.destroy();
    if (line.startsWith('220 ')) return;
    assert.ok(Date.now() < deadline, `still refused: ${line}`);
  }
}

describe('security: idle connections from one address do not shut the listeners (connection flood)', function () {
  this.timeout(120_000);
  let gw: TestGateway | undefined;
  let inbound: TestInbound | undefined;
  let held: Idle[] = [];
  afterEach(async () => {
    close(held);
    held = [];
    await gw?.close();
    await inbound?.close();
    gw = undefined;
    inbound = undefined;
  });

  it('submission (587): the flooder holds 10, the rest get 421 4.7.0; another client is greeted and sends', async () => {
    gw = await startTestGateway({ kind: 'sqlite', limits: LIMITS });
    await gw.addRecipient('bob@clinic.example');
    held = await flood(gw.ports.submissionPort, 30);
    const lines = await Promise.all(held.map((c) => c.first));
    const greeted = lines.filter((l) => l.startsWith('220 '));
    const refused = lines.filter((l) => l.startsWith('421 '));
    assert.equal(greeted.length, 10, lines.join('\n'));
    assert.equal(refused.length, 20, lines.join('\n'));
    for (const line of refused) {
      assert.match(line, /^421 4\.7\.0 /);
      assert.equal(replyCode(line), 'GW_TOO_MANY_CONNECTIONS');
    }
    const info = await gw
      .transport({ localAddress: CLIENT })
      .sendMail({ from: SENDER, to: 'bob@clinic.example', subject: 'Termin', text: 'Bis morgen.' });
    assert.equal(replyCode(info.response), 'GW_ACCEPTED');
    assert.match(gw.logText(), /"code":"GW_TOO_MANY_CONNECTIONS"[^\n]*"remote":"127\.0\.0\.2"/);
    // once the flooder lets go, it is an ordinary client again
    close(held);
    held = [];
    await greetsFlooderAgain(gw.ports.submissionPort);
  });

  it('implicit TLS (465): idle sockets that never start TLS hold 10 places, no more; another client logs in and sends', async () => {
    gw = await startTestGateway({ kind: 'sqlite', limits: LIMITS });
    await gw.addRecipient('bob@clinic.example');
    held = await flood(gw.ports.smtpsPort, 30);
    // the excess is closed at once (nothing can be said before the handshake); 10 stay waiting for it
    const closed = await Promise.all(held.slice(10).map((c) => c.first));
    assert.deepEqual(new Set(closed), new Set(['closed']));
    assert.equal(held.slice(0, 10).filter((c) => c.socket.destroyed).length, 0);
    assert.equal((await tryLogin(gw, { localAddress: CLIENT, port: 'smtps' })).code, 'OK');
    const info = await gw
      .transport({ port: 'smtps', localAddress: CLIENT })
      .sendMail({ from: SENDER, to: 'bob@clinic.example', subject: 'Termin', text: 'Bis morgen.' });
    assert.equal(replyCode(info.response), 'GW_ACCEPTED');
  });

  it('inbound MX: the flooder holds 10, the rest get 421 4.7.0; another MTA is greeted and its mail relayed', async () => {
    inbound = await startTestInbound({ kind: 'sqlite', limits: LIMITS });
    held = await flood(inbound.port, 30);
    const lines = await Promise.all(held.map((c) => c.first));
    assert.equal(lines.filter((l) => l.startsWith('220 ')).length, 10, lines.join('\n'));
    const refused = lines.filter((l) => l.startsWith('421 '));
    assert.equal(refused.length, 20, lines.join('\n'));
    for (const line of refused) assert.equal(replyCode(line), 'IN_TOO_MANY_CONNECTIONS');
    const info = await inbound.send(
      { from: 'kollegin@clinic.example', to: [ANNA] },
      `From: kollegin@clinic.example\r\nTo: ${ANNA}\r\nSubject: Befund\r\n\r\nHallo.\r\n`,
      { localAddress: CLIENT },
    );
    assert.equal(replyCode(info.response), 'IN_RELAYED');
    assert.equal((await inbound.sink.waitFor(1)).length, 1);
    close(held);
    held = [];
    await greetsFlooderAgain(inbound.port);
  });
});
