import assert from 'node:assert/strict';
import { parseConfig } from '../../core/config.ts';
import type { EvidenceAnswer, SentAnswer } from '../../webmail/contract/console-sent.ts';
import { createRelayTransport, type OutgoingMessage } from '../../worker/transport.ts';
import { consoleFetch, consoleSignIn } from '../helpers/console.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { startSink, type Sink } from '../helpers/sink.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/**
 * The TLS version of each delivery (issue 13: "delivered with the receiving server's reply and TLS
 * version"; the evidence record's "delivery time and TLS"): the pooled relay transport reports the protocol
 * of the connection that carried each message (worker/tls-pool.ts), the worker records it with the delivery
 * (outbound.remote_tls), and her sent list and evidence record show it.
 */
const config = parseConfig({ hostname: 'mx.sealpost.test', delivery: { connectionTimeoutSeconds: 5 } });
const msg = (n: number): OutgoingMessage => ({
  id: `m${n}`,
  envelope: { from: 'a@example.org', to: 'b@example.net' },
  raw: Buffer.from(`From: a@example.org\r\nTo: b@example.net\r\nSubject: x\r\n\r\nhello ${n}\r\n`),
});
const COLLEAGUE = 'kollegin@klinik.example';

describe('delivery TLS: the protocol of the connection that carried each message', () => {
  let sink: Sink | undefined;
  afterEach(async () => {
    await sink?.close();
    sink = undefined;
  });

  it('STARTTLS: TLSv1.3 for each message of a pooled connection', async () => {
    sink = await startSink();
    const transport = createRelayTransport(config, sink.relayUrl);
    try {
      const first = await transport.send(msg(1));
      const second = await transport.send(msg(2)); // the same pooled connection
      assert.equal(first?.tls, 'TLSv1.3');
      assert.equal(second?.tls, 'TLSv1.3');
      assert.match(first?.reply ?? '', /^250 /);
    } finally {
      transport.close();
    }
    const got = await sink.waitFor(2);
    assert.ok(
      got.every((m) => m.secure),
      'the sink saw TLS too',
    );
  });

  it('implicit TLS (smtps://): TLSv1.3', async () => {
    sink = await startSink({ secure: true });
    const transport = createRelayTransport(config, sink.relayUrl);
    try {
      assert.equal((await transport.send(msg(1)))?.tls, 'TLSv1.3');
    } finally {
      transport.close();
    }
  });

  it("a plain relay (?tls=none, no STARTTLS offered): 'none'", async () => {
    sink = await startSink({ starttls: false });
    const transport = createRelayTransport(config, sink.relayUrl.replace('?', '?tls=none&'));
    try {
      assert.equal((await transport.send(msg(1)))?.tls, 'none');
    } finally {
      transport.close();
    }
    const [got] = await sink.waitFor(1);
    assert.equal(got?.secure, false);
  });
});

for (const kind of testDbKinds()) {
  describe(`delivery TLS in her sent list and evidence record (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    beforeEach(async () => {
      stack = await startStack({ kind });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('records TLSv1.3 with the delivery and shows it in the list and the evidence JSON', async () => {
      await stack.gw.addRecipient(COLLEAGUE);
      await stack.gw.transport().sendMail({ from: SENDER, to: COLLEAGUE, subject: 'x', text: 'Hallo.' });
      await stack.sink.waitFor(1);
      const anna = await consoleSignIn(stack.web);
      let list: SentAnswer | undefined;
      for (let i = 0; i < 50; i++) {
        list = (await (await consoleFetch(anna, 'GET', '/api/console/sent')).json()) as SentAnswer;
        if (list.messages[0]?.recipients[0]?.delivery.state === 'delivered') break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const r = list!.messages[0]!.recipients[0]!;
      assert.equal(r.delivery.state, 'delivered');
      assert.equal(r.delivery.tls, 'TLSv1.3');
      const ev = await consoleFetch(anna, 'GET', `/api/console/sent/${list!.messages[0]!.id}/evidence`);
      const evidence = (await ev.json()) as EvidenceAnswer;
      assert.equal(evidence.recipients[0]!.delivery.tls, 'TLSv1.3');
      const stores = stack.gw.sealpost.deps.db.stores;
      const owner = await stores.users.ownerOf(SENDER);
      const row = await stores.sent.recipient(owner!.id, r.id);
      const [state] = await stores.outbound.states([row!.outbound_id!]);
      assert.equal(state?.remote_tls, 'TLSv1.3');
    });
  });
}
