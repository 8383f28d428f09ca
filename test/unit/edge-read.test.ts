import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import type { SMTPServerDataStream } from 'smtp-server';
import { readCapped } from '../../gateway/edge.ts';

/**
 * DATA is read into one buffer that grows in place (gateway/edge.ts `readCapped`, issue 17): the bytes must
 * be exactly the stream's, however it is cut into chunks; the cap must hold; and `release()` must give the
 * memory back (every view of the message reads as empty afterwards), so it may only be called once nothing
 * reads the message. The stream is a Node stream of the chunks, with the two fields smtp-server adds.
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
  for (const length of [0, 1, 4095, 65_536, 1_000_003]) {
    it(`${length} bytes in chunks of uneven sizes come out byte for byte`, async () => {
      const data = randomBytes(length);
      const read = await readCapped(dataStream(cut(data, [1, 16_384, 7, 65_536, 0, 3])), 2_000_000);
      assert.equal(read.exceeded, false);
      assert.ok(read.raw.equals(data));
    });
  }

  it('keeps a message of exactly the cap and refuses one byte more', async () => {
    const data = randomBytes(10_000);
    const exact = await readCapped(dataStream(cut(data, [4096])), 10_000);
    assert.equal(exact.exceeded, false);
    assert.ok(exact.raw.equals(data));
    const over = await readCapped(dataStream(cut(Buffer.concat([data, Buffer.from('x')]), [4096])), 10_000);
    assert.equal(over.exceeded, true);
    assert.equal(over.raw.length, 0);
  });

  it("takes smtp-server's own size verdict", async () => {
    const read = await readCapped(dataStream([Buffer.from('a\r\n')], true), 10_000);
    assert.equal(read.exceeded, true);
  });

  it('release() empties every view of the message, and may be called twice', async () => {
    const data = randomBytes(300_000);
    const read = await readCapped(dataStream(cut(data, [65_536])), 1_000_000);
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
