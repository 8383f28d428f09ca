import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  CODE_ALPHABET,
  deriveKeys,
  formatAccessCode,
  lockPrivateKey,
  newAccessCode,
  newKdf,
  normaliseAccessCode,
  unlockPrivateKey,
} from '../../keys/access-code.ts';

describe('access codes (docs/pickup.md)', () => {
  it('are 10 Crockford characters from the whole alphabet, shown as 4-4-2', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 400; i++) {
      const code = newAccessCode();
      assert.match(code, /^[0-9A-HJKMNP-TV-Z]{10}$/);
      for (const ch of code) seen.add(ch);
    }
    assert.equal(seen.size, CODE_ALPHABET.length, 'every letter of the alphabet occurs');
    assert.equal(formatAccessCode('7F3KQ9XD2M'), '7F3K-Q9XD-2M');
  });

  const cases: [string, string | undefined][] = [
    ['7F3K-Q9XD-2M', '7F3KQ9XD2M'],
    ['7f3k q9xd 2m', '7F3KQ9XD2M'],
    [' 7F3K–Q9XD–2M ', '7F3KQ9XD2M'], // en dashes from a phone keyboard
    ['OOOO-IIII-LL', '0000111111'],
    ['7F3K-Q9XD-2', undefined], // too short
    ['7F3K-Q9XD-2MM', undefined], // too long
    ['7F3K-Q9XD-2U', undefined], // U is not Crockford
    ['ÄF3K-Q9XD-2M', undefined],
  ];
  for (const [input, want] of cases) {
    it(`normalises ${JSON.stringify(input)} → ${want ?? 'refused'}`, () => {
      assert.equal(normaliseAccessCode(input), want);
    });
  }

  it('derives 32+32 bytes, deterministic per salt, different per salt and secret', async () => {
    const kdf = newKdf();
    const a = await deriveKeys('7F3KQ9XD2M', kdf);
    const b = await deriveKeys('7F3KQ9XD2M', kdf);
    assert.equal(a.authKey.length, 32);
    assert.equal(a.lockKey.length, 32);
    assert.ok(a.authKey.equals(b.authKey) && a.lockKey.equals(b.lockKey));
    assert.ok(!a.authKey.equals(a.lockKey));
    assert.ok(!(await deriveKeys('7F3KQ9XD2N', kdf)).authKey.equals(a.authKey));
    assert.ok(!(await deriveKeys('7F3KQ9XD2M', newKdf())).authKey.equals(a.authKey));
  });

  it('pins the derivation with a known vector (the browser must give the same bytes)', async () => {
    const kdf = {
      alg: 'argon2id' as const,
      salt: Buffer.from('sealpost-vector!').toString('base64'),
      memoryKiB: 65536,
      iterations: 3,
      parallelism: 1,
    };
    const { authKey, lockKey } = await deriveKeys('7F3KQ9XD2M', kdf);
    // From the reference implementation (Debian's argon2 CLI), not from the library under test:
    //   echo -n 7F3KQ9XD2M | argon2 'sealpost-vector!' -id -t 3 -k 65536 -p 1 -l 64 -r
    assert.equal(Buffer.concat([authKey, lockKey]).toString('hex'), KNOWN_VECTOR);
  });

  it('locks a private key so that only the lock key and the contact id open it', () => {
    const key = randomBytes(300);
    const lockKey = randomBytes(32);
    const locked = lockPrivateKey(key, lockKey, 'contact-1');
    assert.equal(locked.length, 12 + 300 + 16);
    assert.ok(unlockPrivateKey(locked, lockKey, 'contact-1').equals(key));
    assert.throws(() => unlockPrivateKey(locked, randomBytes(32), 'contact-1'));
    assert.throws(() => unlockPrivateKey(locked, lockKey, 'contact-2'), 'bound to the contact');
    const tampered = Buffer.from(locked);
    tampered[20]! ^= 1;
    assert.throws(() => unlockPrivateKey(tampered, lockKey, 'contact-1'));
  });
});

const KNOWN_VECTOR =
  '79f8a614da6c7fcba81a16b5a039eba07c621f6bc23f93d3411c7013986971fa' +
  '5c1e5b6d9a560f1359c59d61031525a3c44bd0f99025bb96fd92af667452bbe8';
