import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import net from 'node:net';
import { testDbKinds } from '../helpers/db.ts';
import { dbContains } from '../helpers/gateway.ts';
import { ANNA, failure, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { peer, pgpMimeMail } from '../helpers/peers.ts';

/**
 * No spool, so no loss: when the practice's server cannot take the message, the sending MTA must keep it
 * (4xx) — and Sealpost must not have kept anything: no file, no row, no log line with content.
 */
const SECRET = 'Gutachten 4711 streng vertraulich';

/** A port on which nothing listens (bound, then closed). */
async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => e.name);
}

for (const kind of testDbKinds()) {
  describe(`security: downstream unavailable → 4xx and nothing on disk (${kind})`, function () {
    this.timeout(60_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    const encrypted = async () => {
      const inner = Buffer.from(`Subject: x\r\nContent-Type: text/plain\r\n\r\n${SECRET}\r\n`);
      const armored = await peer.gpg.encrypt({ data: inner, to: gw!.publicKeys[ANNA]! });
      return pgpMimeMail({ armored, from: 'colleague@clinic.example', to: ANNA, subject: SECRET });
    };

    const expectReply = async (code: RegExp) => {
      await assert.rejects(
        gw!.send({ from: 'colleague@clinic.example', to: [ANNA] }, await encrypted()),
        (err) => {
          assert.match(failure(err).response ?? '', code);
          return true;
        },
      );
      assert.deepEqual(filesUnder(gw!.dataDir), [], 'nothing written to the data folder');
      assert.equal(await dbContains(gw!.testDb, SECRET), false, 'nothing in the database');
      assert.ok(
        !gw!.logText().includes(SECRET) && !gw!.logText().includes('Gutachten'),
        'nothing in the log',
      );
    };

    it('nothing listens: 451 4.4.1', async () => {
      gw = await startTestInbound({ kind, relay: `smtp://127.0.0.1:${await deadPort()}?tlsVerify=false` });
      await expectReply(/^451 4\.4\.1 .*\[IN_RELAY_UNAVAILABLE\]$/);
    });

    it('the server offers no STARTTLS: 4xx, never in clear', async () => {
      gw = await startTestInbound({ kind, sink: { starttls: false } });
      await expectReply(/^451 4\.4\.1 .*\[IN_RELAY_UNAVAILABLE\]$/);
      assert.equal(gw.sink.messages.length, 0);
    });

    it('the server answers 4xx: 451, and the next attempt goes through', async () => {
      gw = await startTestInbound({ kind });
      gw.sink.failNext({ code: 452, message: '4.2.2 Mailbox full, try later' }, 1, 'data');
      await expectReply(/^451 4\.0\.0 .*\[IN_RELAY_DEFERRED\]$/);
      const info = await gw.send({ from: 'colleague@clinic.example', to: [ANNA] }, await encrypted());
      assert.match(info.response, /^250 /);
      assert.equal((await gw.sink.waitFor(1)).length, 1);
    });

    it('the server refuses (5xx): 550 to the sender, so that it bounces', async () => {
      gw = await startTestInbound({ kind });
      gw.sink.failNext({ code: 550, message: '5.1.1 No such mailbox' });
      await expectReply(/^550 5\.0\.0 .*\[IN_RELAY_REJECTED\]$/);
    });
  });
}
