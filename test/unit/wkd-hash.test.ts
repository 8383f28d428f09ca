import assert from 'node:assert/strict';
import { wkdHash, wkdPaths, wkdUrls } from '../../keys/discovery/index.ts';

/** draft-koch-openpgp-webkey-service §3.1: the hashed local part and both URL layouts. */
describe('WKD names', () => {
  it('hashes the lower-cased local part (the draft example Joe.Doe@Example.ORG)', () => {
    assert.equal(wkdHash('Joe.Doe'), 'iy9q119eutrkn8s1mk4r39qejnbu3n5q');
    assert.equal(wkdHash('joe.doe'), 'iy9q119eutrkn8s1mk4r39qejnbu3n5q');
  });

  it('builds the advanced and the direct URL with the local part as written in l=', () => {
    assert.deepEqual(wkdUrls('Joe.Doe@Example.ORG'), {
      advanced:
        'https://openpgpkey.example.org/.well-known/openpgpkey/example.org/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe',
      direct: 'https://example.org/.well-known/openpgpkey/hu/iy9q119eutrkn8s1mk4r39qejnbu3n5q?l=Joe.Doe',
    });
  });

  it('percent-encodes the l= parameter', () => {
    const { direct } = wkdPaths('a+b&c=d@example.org');
    assert.match(direct, /\?l=a%2Bb%26c%3Dd$/);
  });

  it('always gives 32 z-base-32 characters', () => {
    for (const local of ['', 'x', 'anna', 'ü.ñ', 'a'.repeat(200)]) {
      assert.match(wkdHash(local), /^[ybndrfg8ejkmcpqxot1uwisza345h769]{32}$/);
    }
  });

  it('refuses what is not local@domain', () => {
    for (const bad of ['nobody', '@example.org', 'a@', 'a@exa mple.org', 'a@b/c']) {
      assert.throws(() => wkdUrls(bad), bad);
    }
  });
});
