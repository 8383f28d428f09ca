import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { parseConfig } from '../../core/config.ts';
import { classify } from '../../worker/classify.ts';
import { createRelayTransport, parseRelayUrl, type OutgoingMessage } from '../../worker/transport.ts';
import { startRawRelay, type RawRelay } from '../helpers/raw-relay.ts';
import { startSink, type Sink } from '../helpers/sink.ts';

const config = parseConfig({ hostname: 'mx.sealpost.test', delivery: { connectionTimeoutSeconds: 5 } });
const msg = (): OutgoingMessage => ({
  id: 'm1',
  envelope: { from: 'a@example.org', to: 'b@example.net' },
  raw: Buffer.from('From: a@example.org\r\nTo: b@example.net\r\nSubject: x\r\n\r\nhello\r\n'),
});

async function failure(relay: string): Promise<unknown> {
  const transport = createRelayTransport(config, relay);
  try {
    await transport.send(msg());
  } catch (err) {
    return err;
  } finally {
    transport.close();
  }
  throw new Error('send unexpectedly succeeded');
}

describe('worker/transport: relay URL', () => {
  it('requires STARTTLS on smtp:// and defaults to 587', () => {
    assert.deepEqual(parseRelayUrl('smtp://relay.example.org'), {
      host: 'relay.example.org',
      port: 587,
      implicitTls: false,
      requireTls: true,
      verifyCertificate: true,
      auth: null,
    });
  });

  it('uses implicit TLS and credentials on smtps://', () => {
    const o = parseRelayUrl('smtps://u%40x:p%3Aw@relay.example.org');
    assert.equal(o.port, 465);
    assert.equal(o.implicitTls, true);
    assert.deepEqual(o.auth, { user: 'u@x', pass: 'p:w' });
  });

  it('takes the documented opt-outs and refuses anything else', () => {
    const o = parseRelayUrl('smtp://127.0.0.1:2525?tls=none&tlsVerify=false');
    assert.equal(o.requireTls, false);
    assert.equal(o.verifyCertificate, false);
    assert.throws(() => parseRelayUrl('smtp://h?requireTLS=false'), /unknown option "requireTLS"/);
    assert.throws(() => parseRelayUrl('smtp://h?tls=maybe'), /tls must be/);
    assert.throws(() => parseRelayUrl('smtps://h?tls=none'), /cannot be combined/);
  });
});

describe('worker/transport: against a real SMTP server', () => {
  let sink: Sink | undefined;
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
  });

  it('delivers over smtps:// with AUTH, bytes unchanged', async () => {
    sink = await startSink({ secure: true, auth: { user: 'relay', pass: 's3cret' } });
    const transport = createRelayTransport(config, sink.relayUrl);
    await transport.send(msg());
    transport.close();
    const [got] = await sink.waitFor(1);
    assert.deepEqual(got?.raw, msg().raw);
    assert.equal(got?.secure, true);
  });

  it('sends the null sender as MAIL FROM:<>', async () => {
    sink = await startSink();
    const transport = createRelayTransport(config, sink.relayUrl);
    await transport.send({ ...msg(), envelope: { from: '', to: 'b@example.net' } });
    transport.close();
    const [got] = await sink.waitFor(1);
    assert.equal(got?.from, '');
  });

  it('fails closed (DLV_DEFER_TLS) when the relay offers no STARTTLS', async () => {
    sink = await startSink({ starttls: false });
    const err = await failure(sink.relayUrl);
    assert.equal(classify(err).code, 'DLV_DEFER_TLS');
    assert.equal(sink.messages.length, 0);
  });

  it('sends in clear only with the explicit tls=none opt-out', async () => {
    sink = await startSink({ starttls: false });
    const transport = createRelayTransport(config, `smtp://127.0.0.1:${sink.port}?tls=none`);
    await transport.send(msg());
    transport.close();
    const [got] = await sink.waitFor(1);
    assert.equal(got?.secure, false);
  });

  it('refuses an unverified certificate by default (DLV_DEFER_TLS)', async () => {
    sink = await startSink();
    const err = await failure(`smtp://127.0.0.1:${sink.port}`);
    assert.equal(classify(err).code, 'DLV_DEFER_TLS');
    assert.equal(sink.messages.length, 0);
  });

  it('defers with DLV_DEFER_AUTH when the relay refuses the credentials', async () => {
    sink = await startSink({ secure: true, auth: { user: 'relay', pass: 's3cret' } });
    const err = await failure(`smtps://relay:wrong@127.0.0.1:${sink.port}?tlsVerify=false`);
    assert.deepEqual([classify(err).action, classify(err).code], ['defer', 'DLV_DEFER_AUTH']);
  });

  it('defers with DLV_DEFER_NETWORK when nothing listens', async () => {
    sink = await startSink();
    const port = sink.port;
    await sink.close();
    sink = undefined;
    const err = await failure(`smtp://127.0.0.1:${port}`);
    assert.equal(classify(err).code, 'DLV_DEFER_NETWORK');
  });
});

describe('worker/transport: a streamed body that fails half way (a spool chunk that does not open)', () => {
  let relay: RawRelay | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  it('cuts the DATA phase: the relay has the first part, never the final dot; the send fails', async () => {
    const raw = (relay = await startRawRelay());
    const transport = createRelayTransport(config, raw.url);
    const first = Buffer.from(`From: a@example.org\r\nSubject: x\r\n\r\n${'a'.repeat(70_000)}\r\n`);
    async function* body(): AsyncGenerator<Buffer> {
      yield first;
      // The next chunk fails only once the relay holds the first one: the DATA phase has begun.
      while (!(raw.sessions[0]?.data.length ?? 0)) await new Promise((resolve) => setTimeout(resolve, 10));
      throw new Error('chunk 1 of 2 does not open');
    }
    try {
      await assert.rejects(
        transport.send({ ...msg(), raw: Readable.from(body(), { objectMode: false }) }),
        /does not open/,
      );
      assert.equal(raw.sessions.length, 1);
      assert.ok(raw.sessions[0]!.data.length > 0, 'the DATA phase had begun');
      assert.equal(raw.sessions[0]!.complete, false, 'the relay got the final dot');
      // The same pool dropped that connection: the next message never lands inside the cut DATA phase.
      await transport.send(msg());
    } finally {
      transport.close();
    }
    assert.equal(raw.sessions.length, 2);
    assert.equal(raw.sessions[1]!.complete, true);
    assert.ok(raw.sessions[1]!.data.equals(msg().raw as Buffer), 'the next message alone, whole');
  });
});
