import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { SMTPServerDataStream } from 'smtp-server';
import { IN_PLACE_ABOVE, readCapped } from '../../gateway/edge.ts';

/**
 * DATA above IN_PLACE_ABOVE is read into one buffer that grows in place (gateway/edge.ts `readCapped`, issue
 * 17), below it the chunks are joined: either way the bytes must be exactly the stream's, however it is cut
 * into chunks, and the cap must hold; `release()` must give a large message's memory back (every view of it
 * reads as empty afterwards), so it may only be called once nothing reads the message. The stream is a Node stream of the chunks, with the two fields smtp-server adds.
 */
function dataStream(chunks: readonly Buffer[], sizeExceeded = false): SMTPServerDataStream {
  const byteLength = chunks.reduce((n, c) => n + c.length, 0);
  return Object.assign(Readable.from(chunks, { objectMode: false }), {
    sizeExceeded,
    byteLength,
  }) as unknown as SMTPServerDataStream;
}

function cut(data: Buffer, sizes: readonly number[]): Buffer[] {
  const out: Buffer[] = [];
  let at = 0;
  for (let i = 0; at < data.length; i++) {
    const n = sizes[i % sizes.length]!;
    out.push(data.subarray(at, at + n));
    at += n;
  }
  return out;
}

describe('gateway/edge: DATA read into one buffer', () => {
  const sizes = [0, 1, 4095, 65_536, IN_PLACE_ABOVE, IN_PLACE_ABOVE + 1, 3_000_017];
  for (const length of sizes) {
    it(`${length} bytes in chunks of uneven sizes come out byte for byte`, async () => {
      const data = randomBytes(length);
      const read = await readCapped(dataStream(cut(data, [1, 16_384, 7, 65_536, 0, 3])), 4_000_000);
      assert.equal(read.exceeded, false);
      assert.ok(read.raw.equals(data));
    });
  }

  for (const cap of [10_000, 2_500_000]) {
    it(`keeps a message of exactly the cap (${cap}) and refuses one byte more`, async () => {
      const data = randomBytes(cap);
      const exact = await readCapped(dataStream(cut(data, [4096, 65_536])), cap);
      assert.equal(exact.exceeded, false);
      assert.ok(exact.raw.equals(data));
      const more = Buffer.concat([data, Buffer.from('x')]);
      const over = await readCapped(dataStream(cut(more, [4096, 65_536])), cap);
      assert.equal(over.exceeded, true);
      assert.equal(over.raw.length, 0);
    });
  }

  it("takes smtp-server's own size verdict", async () => {
    const read = await readCapped(dataStream([Buffer.from('a\r\n')], true), 10_000);
    assert.equal(read.exceeded, true);
  });

  it('release() empties every view of a large message, and may be called twice', async () => {
    const data = randomBytes(IN_PLACE_ABOVE + 300_000);
    const read = await readCapped(dataStream(cut(data, [65_536])), 2 * IN_PLACE_ABOVE);
    const view = read.raw.subarray(10, 20);
    assert.equal(view.length, 10);
    read.release();
    assert.equal(read.raw.length, 0);
    assert.equal(view.length, 0);
    read.release();
  });

  it('a stream that fails rejects (the caller answers with an error, nothing is kept)', async () => {
    const failing = Object.assign(
      new Readable({
        read() {
          this.push(Buffer.from('From: <a@b.example>\r\n'));
          this.destroy(new Error('peer went away'));
        },
      }),
      { sizeExceeded: false, byteLength: 0 },
    ) as unknown as SMTPServerDataStream;
    await assert.rejects(readCapped(failing, 10_000), /peer went away/);
  });
});
