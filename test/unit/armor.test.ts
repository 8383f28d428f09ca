import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { armorCrlf } from '../../keys/openpgp/encrypt.ts';
import { KEY_CONFIG, openpgp } from '../../keys/openpgp/boundary.ts';

/**
 * A large outgoing message is armored by our own code (keys/openpgp/encrypt.ts `armorCrlf`, to keep the
 * armor off the JavaScript heap): it must be byte for byte what openpgp.js writes for the same packets
 * (with CRLF line ends), whatever the length and however the packets arrive in chunks.
 */
async function* inPieces(data: Uint8Array, sizes: () => number): AsyncGenerator<Uint8Array> {
  for (let at = 0; at < data.length;) {
    const n = Math.max(1, sizes());
    yield data.subarray(at, at + n);
    at += n;
  }
}

async function ours(data: Uint8Array, sizes: () => number): Promise<string> {
  const out: Buffer[] = [];
  for await (const b of armorCrlf(inPieces(data, sizes))) out.push(b);
  return Buffer.concat(out).toString('latin1');
}

function theirs(data: Uint8Array): string {
  const text = openpgp.armor(
    openpgp.enums.armor.message,
    data,
    undefined,
    undefined,
    undefined,
    true,
    KEY_CONFIG,
  );
  return text.replace(/\r/g, '').replace(/\n/g, '\r\n');
}

describe('keys/openpgp: our streaming armor is the armor openpgp.js writes', () => {
  for (const length of [0, 1, 2, 3, 44, 45, 46, 89, 90, 91, 1000, 262_144, 1_000_003]) {
    it(`${length} bytes, in chunks of random sizes and in one`, async () => {
      const data = randomBytes(length);
      const expected = theirs(data);
      assert.equal(await ours(data, () => Math.floor(Math.random() * 70_000)), expected);
      if (length < 100_000) assert.equal(await ours(data, () => Math.floor(Math.random() * 50)), expected);
      assert.equal(await ours(data, () => length || 1), expected);
    });
  }
});
