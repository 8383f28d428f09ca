import assert from 'node:assert/strict';
import { testDbKinds } from '../helpers/db.ts';
import { ANNA, failure, startTestInbound, type TestInbound } from '../helpers/inbound.ts';
import { peer, pgpMimeMail } from '../helpers/peers.ts';

/**
 * Compression bomb: a few hundred bytes (bzip2) or kilobytes (zlib) of ciphertext that decompress to
 * 256 MiB. Sealpost stops at inbound.decompressLimitBytes and refuses the message (552) without holding
 * the whole — the resident memory of this process (where the listener runs) must stay far below the
 * bomb's size while it is refused.
 */
const BOMB_BYTES = 256 * 1024 * 1024;
const LIMIT = 4 * 1024 * 1024;

for (const kind of testDbKinds()) {
  describe(`security: a compression bomb is refused without exhausting memory (${kind})`, function () {
    this.timeout(180_000);
    let gw: TestInbound | undefined;
    afterEach(async () => {
      await gw?.close();
      gw = undefined;
    });

    for (const compress of ['bzip2', 'zlib'] as const) {
      it(`${compress}: 256 MiB of zeros, limit 4 MiB → 552 5.3.4`, async () => {
        gw = await startTestInbound({ kind, config: { inbound: { decompressLimitBytes: LIMIT } } });
        const armored = await peer.gpg.encrypt({
          data: Buffer.alloc(BOMB_BYTES),
          to: gw.publicKeys[ANNA]!,
          compress,
        });
        const mail = pgpMimeMail({ armored, from: 'colleague@clinic.example', to: ANNA });
        assert.ok(mail.length < 2 * 1024 * 1024, `the bomb itself is small (${mail.length} bytes)`);
        global.gc?.();
        const before = process.memoryUsage().rss;
        let peak = before;
        const timer = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 2);
        try {
          await assert.rejects(gw.send({ from: 'colleague@clinic.example', to: [ANNA] }, mail), (err) => {
            assert.match(failure(err).response ?? '', /^552 5\.3\.4 .*\[IN_DECOMPRESSION_LIMIT\]$/);
            return true;
          });
        } finally {
          clearInterval(timer);
        }
        const grown = peak - before;
        assert.ok(grown < BOMB_BYTES / 4, `resident memory grew by ${(grown / 1048576).toFixed(0)} MiB`);
        assert.equal(gw.sink.messages.length, 0);
      });
    }

    it('the same content below the limit is decrypted (the control)', async () => {
      gw = await startTestInbound({ kind, config: { inbound: { decompressLimitBytes: LIMIT } } });
      const data = Buffer.concat([
        Buffer.from('Content-Type: text/plain\r\n\r\n'),
        Buffer.alloc(LIMIT / 2, 0x41),
      ]);
      const armored = await peer.gpg.encrypt({ data, to: gw.publicKeys[ANNA]!, compress: 'bzip2' });
      await gw.send(
        { from: 'colleague@clinic.example', to: [ANNA] },
        pgpMimeMail({ armored, from: 'colleague@clinic.example', to: ANNA }),
      );
      const [got] = await gw.sink.waitFor(1);
      assert.ok(got!.raw.includes(Buffer.alloc(LIMIT / 2, 0x41)));
    });
  });
}
