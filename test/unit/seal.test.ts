import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createCipheriv, hkdfSync } from 'node:crypto';
import { Sealer, UnknownSealKeyError } from '../../core/seal.ts';

describe('core/seal: Sealer', () => {
  const sealer = new Sealer(randomBytes(32));

  it('opens what it sealed, from one buffer or from parts, across chunk boundaries', () => {
    const big = randomBytes(3 * 1024 * 1024 + 17);
    const parts = [big.subarray(0, 5), big.subarray(5, 2_000_000), big.subarray(2_000_000)];
    for (const input of [big, parts]) {
      const sealed = sealer.seal('spool', input, 'row-1');
      assert.equal(sealed.length, big.length + 37);
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

  it('seals version 2 naming the current key: the first 8 bytes of HKDF(master, sealpost/key-id)', () => {
    const master = randomBytes(32);
    const sealed = new Sealer(master).seal('spool', Buffer.from('x'), 'row-1');
    const id = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), 'sealpost/key-id', 32)).subarray(0, 8);
    assert.equal(sealed[0], 2);
    assert.ok(sealed.subarray(1, 9).equals(id));
    assert.equal(new Sealer(master).keyId, id.toString('hex'));
  });
});

/** A version-1 blob as Sealpost wrote it before key ids: 1 ‖ iv ‖ tag ‖ ct, the purpose key from HKDF. */
function sealV1(master: Buffer, purpose: string, plain: Buffer, aad: string): Buffer {
  const key = Buffer.from(hkdfSync('sha256', master, Buffer.alloc(0), `sealpost/${purpose}/v1`, 32));
  const iv = randomBytes(12);
  const cipher = createCipheriv('aes-256-gcm', key, iv);
  cipher.setAAD(Buffer.from(aad));
  const ct = Buffer.concat([cipher.update(plain), cipher.final()]);
  return Buffer.concat([Buffer.from([1]), iv, cipher.getAuthTag(), ct]);
}

describe('core/seal: Sealer with previous keys (rotation)', () => {
  const a = randomBytes(32);
  const b = randomBytes(32);
  const plain = Buffer.from('Befund 4711');

  it('opens version-1 blobs with the current key, and with a previous key', () => {
    const v1 = sealV1(a, 'pickup', plain, 'p1');
    assert.ok(new Sealer(a).open('pickup', v1, 'p1').equals(plain));
    assert.ok(new Sealer(b, [a]).open('pickup', v1, 'p1').equals(plain));
    assert.throws(() => new Sealer(b).open('pickup', v1, 'p1'), 'no key of it configured: refused');
    assert.throws(() => new Sealer(b, [a]).open('pickup', v1, 'p2'), 'another aad: refused');
  });

  it('opens version-2 blobs by their key id: a previous key, never the current key for an old blob', () => {
    const old = new Sealer(a).seal('console', plain, 'c1');
    const rotated = new Sealer(b, [a]);
    assert.ok(rotated.open('console', old, 'c1').equals(plain));
    assert.ok(!rotated.isCurrent(old));
    const fresh = rotated.seal('console', plain, 'c1');
    assert.ok(rotated.isCurrent(fresh), 'sealed with the current key, never a previous one');
    assert.ok(fresh.subarray(1, 9).equals(Buffer.from(new Sealer(b).keyId, 'hex')));
    assert.ok(new Sealer(b).open('console', fresh, 'c1').equals(plain));
  });

  it('refuses a key id no configured key has, naming the id (fail closed)', () => {
    const old = new Sealer(a).seal('spool', plain, 'r1');
    assert.throws(
      () => new Sealer(b).open('spool', old, 'r1'),
      (err: unknown) => err instanceof UnknownSealKeyError && err.keyId === new Sealer(a).keyId,
    );
    assert.throws(
      () => new Sealer(a).open('spool', new Sealer(b).seal('spool', plain, 'r1'), 'r1'),
      UnknownSealKeyError,
    );
  });

  it('refuses a tampered key id, iv, tag or ciphertext of a version-2 blob', () => {
    const sealer = new Sealer(b, [a]);
    const sealed = sealer.seal('spool', plain, 'r1');
    for (const at of [1, 9, 21, 37, sealed.length - 1]) {
      const bad = Buffer.from(sealed);
      bad[at]! ^= 1;
      assert.throws(() => sealer.open('spool', bad, 'r1'), `byte ${at} flipped`);
    }
    // Relabelled as version 1 (a downgrade): the layout no longer matches, the tag check fails.
    const downgraded = Buffer.from(sealed);
    downgraded[0] = 1;
    assert.throws(() => sealer.open('spool', downgraded, 'r1'));
  });

  it('opens a large body across chunk boundaries with a previous key', () => {
    const big = randomBytes(2 * 1024 * 1024 + 5);
    const sealed = new Sealer(a).seal('spool', [big.subarray(0, 7), big.subarray(7)], 'r1');
    assert.ok(new Sealer(b, [a]).open('spool', sealed, 'r1').equals(big));
  });
});
