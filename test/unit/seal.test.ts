import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { Sealer } from '../../core/seal.ts';

describe('core/seal: Sealer', () => {
  const sealer = new Sealer(randomBytes(32));

  it('opens what it sealed, from one buffer or from parts, across chunk boundaries', () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const parts = [big.subarray(0, 5), big.subarray(5, 2_000_000), big.subarray(2_000_000)];
    for (const input of [big, parts]) {
      const sealed = sealer.seal('spool', input, 'row-1');
      assert.equal(sealed.length, big.length + 29);
      assert.ok(sealer.open('spool', sealed, 'row-1').equals(big));
    }
    assert.equal(sealer.open('spool', sealer.seal('spool', Buffer.alloc(0))).length, 0);
  });

  it('refuses another purpose, another associated data, another master key, a flipped bit', () => {
    const sealed = sealer.seal('spool', Buffer.from('canary'), 'row-1');
    assert.throws(() => sealer.open('sender-private-key', sealed, 'row-1'));
    assert.throws(() => sealer.open('spool', sealed, 'row-2'));
    assert.throws(() => new Sealer(randomBytes(32)).open('spool', sealed, 'row-1'));
    const flipped = Buffer.from(sealed);
    flipped[flipped.length - 1]! ^= 1;
    assert.throws(() => sealer.open('spool', flipped, 'row-1'));
    assert.throws(() => sealer.open('spool', sealed.subarray(0, 20), 'row-1'), /unknown format/);
  });

  it('never leaves the plaintext in the sealed bytes', () => {
    const sealed = sealer.seal('spool', [Buffer.from('Subject: canary-'), Buffer.from('4711')]);
    assert.ok(!sealed.toString('latin1').includes('canary'));
  });
});
