import assert from 'node:assert/strict';
import * as openpgp from 'openpgp';
import type { Clock } from '../../core/clock.ts';
import {
  KeyDiscovery,
  discoverySettings,
  type DiscoveryResult,
  type DiscoverySettings,
} from '../../keys/discovery/index.ts';
import { retryAfterMs } from '../../keys/discovery/vks-gate.ts';
import { parseConfig } from '../../core/config.ts';
import { binaryPublic, checkParsedKey, keyFacts, readAnyKey } from '../../keys/openpgp/index.ts';
import { generateTestCa, startKeyDirectory, type KeyDirectory } from '../helpers/key-directory.ts';
import { FIXTURE_NOW, fixturePublicKey } from '../helpers/keys.ts';
import { captureLog } from '../helpers/log.ts';

/**
 * Key discovery against a real HTTPS WKD server and a real HTTP VKS on loopback (test CA, injected
 * resolver): issue #4's list. Timings are asserted only as upper bounds with generous slack.
 */
const DOMAIN = 'kollege.example';
const BOB = `bob@${DOMAIN}`;
const MiB = 1024 * 1024;

class MovableClock implements Clock {
  private at = FIXTURE_NOW.getTime();
  now(): Date {
    return new Date(this.at);
  }
  advance(seconds: number): void {
    this.at += seconds * 1000;
  }
}

async function keyFor(
  emails: string[],
): Promise<{ armored: string; binary: Uint8Array; fingerprint: string }> {
  const { publicKey } = await openpgp.generateKey({
    type: 'ecc',
    curve: 'curve25519Legacy',
    userIDs: emails.map((email) => ({ email })),
    date: new Date(FIXTURE_NOW.getTime() - 86_400_000),
    format: 'armored',
  });
  const key = await readAnyKey(publicKey);
  return { armored: publicKey, binary: binaryPublic(key), fingerprint: key.getFingerprint().toUpperCase() };
}

async function binaryOf(armored: string): Promise<Uint8Array> {
  return binaryPublic(await readAnyKey(armored));
}

interface Setup {
  dir: KeyDirectory;
  kd: KeyDiscovery;
  clock: MovableClock;
  events: () => Record<string, unknown>[];
  codes: () => string[];
  logText: () => string;
}

describe('key discovery (WKD, VKS)', function () {
  this.timeout(60_000);
  let dirs: KeyDirectory[] = [];

  afterEach(async () => {
    await Promise.all(dirs.map((d) => d.close()));
    dirs = [];
  });

  async function setup(
    settings: Partial<DiscoverySettings> = {},
    options: { domains?: string[]; withoutAdvancedHost?: string[]; ca?: string } = {},
  ): Promise<Setup> {
    const dir = await startKeyDirectory({
      domains: options.domains ?? [DOMAIN, 'example.org'],
      ...(options.withoutAdvancedHost ? { withoutAdvancedHost: options.withoutAdvancedHost } : {}),
    });
    dirs.push(dir);
    const clock = new MovableClock();
    const capture = captureLog();
    const kd = new KeyDiscovery({
      settings: {
        sources: ['wkd', 'vks'],
        sourceTimeoutMs: 5000,
        budgetMs: 10_000,
        vksUrl: dir.vksUrl,
        positiveTtlSeconds: 3600,
        negativeTtlSeconds: 900,
        maxKeyBytes: MiB,
        ...settings,
      },
      clock,
      log: capture.log,
      net: { ...dir.net, ...(options.ca ? { ca: options.ca } : {}) },
    });
    const events = (): Record<string, unknown>[] =>
      capture.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    return {
      dir,
      kd,
      clock,
      events,
      codes: () => events().map((e) => String(e.code)),
      logText: capture.text,
    };
  }

  /** not-found, with the refused keys' (source, problem, fingerprint) */
  function assertRefused(result: DiscoveryResult, expected: [string, string][], fingerprint?: string): void {
    assert.equal(result.state, 'not-found', JSON.stringify(result));
    assert.ok(result.state === 'not-found');
    assert.deepEqual(
      (result.rejected ?? []).map((r) => [r.via, r.problem]),
      expected,
    );
    for (const r of result.rejected ?? []) {
      if (fingerprint) assert.equal(r.fingerprint, fingerprint);
      assert.ok(r.binary.length > 0);
    }
  }

  function assertFound(result: DiscoveryResult, via: string, fingerprint: string): Uint8Array {
    assert.equal(result.state, 'found', JSON.stringify(result));
    assert.ok(result.state === 'found');
    assert.equal(result.via, via);
    assert.equal(result.fingerprint, fingerprint);
    return result.binary;
  }

  it('builds its settings from config.discovery', () => {
    const s = discoverySettings(parseConfig({}).discovery);
    assert.deepEqual(s.sources, ['wkd', 'vks']);
    assert.equal(s.vksUrl, 'https://keys.openpgp.org');
    assert.equal(s.maxKeyBytes, MiB);
  });

  it('finds a key by the advanced method and asks nothing further', async () => {
    const s = await setup();
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary, { method: 'both' });
    const result = await s.kd.lookup(BOB);
    assertFound(result, 'wkd-advanced', key.fingerprint);
    assert.ok(result.state === 'found');
    assert.match(
      result.url,
      /^https:\/\/openpgpkey\.kollege\.example\/\.well-known\/openpgpkey\/kollege\.example\/hu\//,
    );
    assert.equal(result.expires, null);
    assert.equal(s.dir.count('wkd-advanced'), 1);
    assert.equal(s.dir.count('wkd-direct'), 0);
    assert.equal(s.dir.count('vks'), 0);
    assert.ok(s.codes().includes('KD_FOUND'));
    assert.doesNotMatch(s.logText(), /BEGIN PGP|binary/);
  });

  it('finds a key by the direct method when the advanced one has none', async () => {
    const s = await setup();
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary, { method: 'direct' });
    assertFound(await s.kd.lookup(BOB), 'wkd-direct', key.fingerprint);
    assert.equal(s.dir.count('wkd-advanced'), 1);
    assert.equal(s.dir.count('vks'), 0);
  });

  it('finds a key by the direct method when openpgpkey.<domain> does not exist', async () => {
    const s = await setup({}, { withoutAdvancedHost: [DOMAIN] });
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary, { method: 'direct' });
    assertFound(await s.kd.lookup(BOB), 'wkd-direct', key.fingerprint);
    assert.equal(s.dir.count('wkd-advanced'), 0);
  });

  it('accepts an armored key from WKD and matches the address case-insensitively', async () => {
    const s = await setup();
    const key = await keyFor([BOB]);
    s.dir.publishWkd('Bob@Kollege.Example', key.armored);
    assertFound(await s.kd.lookup('Bob@Kollege.Example'), 'wkd-advanced', key.fingerprint);
  });

  it('answers not-found when every source says 404, after asking each once', async () => {
    const s = await setup();
    assert.deepEqual(await s.kd.lookup(BOB), { state: 'not-found' });
    assert.equal(s.dir.count('wkd-advanced'), 1);
    assert.equal(s.dir.count('wkd-direct'), 1);
    assert.equal(s.dir.count('vks'), 1);
    assert.ok(s.codes().includes('KD_NOT_FOUND'));
  });

  it('answers not-found for a domain nobody serves (no such host)', async () => {
    const s = await setup();
    assert.deepEqual(await s.kd.lookup('someone@nowhere.example'), { state: 'not-found' });
  });

  it('finds a key at the VKS when WKD has none', async () => {
    const s = await setup();
    const key = await keyFor([BOB]);
    s.dir.setVks(BOB, key.armored);
    const result = await s.kd.lookup(BOB);
    assertFound(result, 'vks', key.fingerprint);
    assert.ok(result.state === 'found');
    assert.equal(result.url, `${s.dir.vksUrl}/vks/v1/by-email/bob%40kollege.example`);
  });

  it('asks only the configured sources, in their order', async () => {
    const s = await setup({ sources: ['vks'] });
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary);
    s.dir.setVks(BOB, key.armored);
    assertFound(await s.kd.lookup(BOB), 'vks', key.fingerprint);
    assert.equal(s.dir.count('wkd-advanced') + s.dir.count('wkd-direct'), 0);
  });

  it('gives up on a slow server: unavailable (timeout) within the budget', async () => {
    const s = await setup({ sourceTimeoutMs: 400, budgetMs: 1000 });
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary);
    s.dir.setBehaviour(BOB, 'all', { delayMs: 30_000 });
    const started = performance.now();
    const result = await s.kd.lookup(BOB);
    const elapsed = performance.now() - started;
    assert.deepEqual(result, { state: 'unavailable', reason: 'timeout' });
    assert.ok(elapsed < 1000 + 2000, `took ${elapsed} ms`);
    assert.ok(s.codes().includes('KD_UNAVAILABLE'));
    // Not cached: the next lookup asks again.
    s.dir.setBehaviour(BOB, 'all', null);
    assertFound(await s.kd.lookup(BOB), 'wkd-advanced', key.fingerprint);
  });

  it('keeps to the budget when one slow source would exceed it, and honours a per-lookup budget', async () => {
    const s = await setup({ sourceTimeoutMs: 20_000, budgetMs: 20_000 });
    s.dir.setBehaviour(BOB, 'wkd-advanced', { delayMs: 30_000 });
    const started = performance.now();
    const result = await s.kd.lookup(BOB, { budgetMs: 500 });
    const elapsed = performance.now() - started;
    assert.deepEqual(result, { state: 'unavailable', reason: 'timeout' });
    assert.ok(elapsed < 500 + 2000, `took ${elapsed} ms`);
    assert.equal(s.dir.count('vks'), 0, 'no time was left for the VKS');
  });

  it('counts a server error as unavailable (error), a later source still wins', async () => {
    const s = await setup();
    s.dir.setBehaviour(BOB, 'wkd-advanced', { status: 503 });
    assert.deepEqual(await s.kd.lookup(BOB), { state: 'unavailable', reason: 'error' });
    const event = s.events().find((e) => e.code === 'KD_SOURCE_ERROR');
    assert.equal(event?.status, 503);
    assert.equal(event?.problem, 'error');
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary, { method: 'direct' });
    assertFound(await s.kd.lookup(BOB), 'wkd-direct', key.fingerprint);
  });

  it('ignores a key with only a foreign User ID and tries the next source', async () => {
    const s = await setup();
    const foreign = await keyFor(['mallory@evil.example']);
    const real = await keyFor([BOB]);
    s.dir.publishWkd(BOB, foreign.binary);
    s.dir.setVks(BOB, real.armored);
    assertFound(await s.kd.lookup(BOB), 'vks', real.fingerprint);
    const rejected = s.events().filter((e) => e.code === 'KD_KEY_REJECTED');
    assert.deepEqual(
      rejected.map((e) => [e.source, e.problem]),
      [
        ['wkd-advanced', 'no-user-id'],
        ['wkd-direct', 'no-user-id'],
      ],
    );
  });

  it('narrows a key with a foreign and the matching User ID to the matching one', async () => {
    const s = await setup();
    const key = await keyFor(['mallory@evil.example', BOB, 'bob.private@home.example']);
    s.dir.publishWkd(BOB, key.binary);
    const binary = assertFound(await s.kd.lookup(BOB), 'wkd-advanced', key.fingerprint);
    const facts = await keyFacts(await readAnyKey(binary));
    assert.deepEqual(facts.emails, [BOB]);
  });

  it('takes the first usable key of a block that holds several', async () => {
    const s = await setup();
    const foreign = await keyFor(['mallory@evil.example']);
    const real = await keyFor([BOB]);
    s.dir.publishWkd(BOB, Buffer.concat([foreign.binary, real.binary]));
    assertFound(await s.kd.lookup(BOB), 'wkd-advanced', real.fingerprint);
  });

  it('ignores an expired key', async () => {
    const s = await setup();
    const address = 'expired@example.org';
    const armored = fixturePublicKey('expired');
    s.dir.publishWkd(address, await binaryOf(armored));
    const fingerprint = (await keyFacts(await readAnyKey(armored))).fingerprint;
    assertRefused(
      await s.kd.lookup(address),
      [
        ['wkd-advanced', 'expired'],
        ['wkd-direct', 'expired'],
      ],
      fingerprint,
    );
    const reasons = s
      .events()
      .filter((e) => e.code === 'KD_KEY_REJECTED')
      .map((e) => e.problem);
    assert.deepEqual(reasons, ['expired', 'expired']);
  });

  it('ignores a key that expired by the clock, and a cached key once it expires', async () => {
    const s = await setup();
    const { publicKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ email: BOB }],
      date: FIXTURE_NOW,
      keyExpirationTime: 7200,
      format: 'armored',
    });
    s.dir.publishWkd(BOB, await binaryOf(publicKey));
    const found = await s.kd.lookup(BOB);
    assert.equal(found.state, 'found');
    assert.ok(found.state === 'found');
    assert.equal(found.expires?.getTime(), FIXTURE_NOW.getTime() + 7200_000);
    s.clock.advance(1800);
    assert.equal((await s.kd.lookup(BOB)).state, 'found');
    assert.equal(s.dir.count('wkd-advanced'), 1, 'cached');
    s.clock.advance(7200);
    assertRefused(await s.kd.lookup(BOB), [
      ['wkd-advanced', 'expired'],
      ['wkd-direct', 'expired'],
    ]);
    assert.equal(s.dir.count('wkd-advanced'), 2, 'an expired key is not served from the cache');
  });

  it('ignores a revoked key', async () => {
    const s = await setup();
    const address = 'revoked@example.org';
    s.dir.publishWkd(address, await binaryOf(fixturePublicKey('revoked')));
    s.dir.setVks(address, fixturePublicKey('revoked'));
    const result = await s.kd.lookup(address);
    assertRefused(result, [
      ['wkd-advanced', 'revoked'],
      ['wkd-direct', 'revoked'],
      ['vks', 'revoked'],
    ]);
    // The refused copy carries the revocation (a refresh merges it) and only the address's User ID.
    assert.ok(result.state === 'not-found');
    const refused = await readAnyKey(result.rejected![0]!.binary);
    assert.deepEqual((await keyFacts(refused)).emails, [address]);
    assert.equal((await checkParsedKey(refused, FIXTURE_NOW)).usable, false);
    const reasons = s
      .events()
      .filter((e) => e.code === 'KD_KEY_REJECTED')
      .map((e) => e.problem);
    assert.deepEqual(reasons, ['revoked', 'revoked', 'revoked']);
  });

  it('ignores a weak key and a private key', async () => {
    const s = await setup();
    s.dir.publishWkd('weak@example.org', await binaryOf(fixturePublicKey('weak')));
    assertRefused(await s.kd.lookup('weak@example.org'), [
      ['wkd-advanced', 'weak'],
      ['wkd-direct', 'weak'],
    ]);
    const { privateKey } = await openpgp.generateKey({
      type: 'ecc',
      curve: 'curve25519Legacy',
      userIDs: [{ email: BOB }],
      date: FIXTURE_NOW,
      format: 'binary',
    });
    s.dir.publishWkd(BOB, privateKey);
    assert.deepEqual(await s.kd.lookup(BOB), { state: 'not-found' });
    const reasons = s
      .events()
      .filter((e) => e.code === 'KD_KEY_REJECTED')
      .map((e) => e.problem);
    assert.deepEqual(reasons, ['weak', 'weak', 'private-key', 'private-key']);
  });

  for (const chunked of [false, true]) {
    it(`ignores and logs a body over maxKeyBytes (${chunked ? 'chunked' : 'with Content-Length'})`, async () => {
      const s = await setup();
      const key = await keyFor([BOB]);
      const huge = Buffer.concat([key.binary, Buffer.alloc(MiB + 1000, 0xb4)]);
      s.dir.publishWkd(BOB, key.binary);
      s.dir.setBehaviour(BOB, 'wkd-advanced', { body: huge, chunked });
      s.dir.setBehaviour(BOB, 'wkd-direct', { body: huge, chunked });
      assert.deepEqual(await s.kd.lookup(BOB), { state: 'not-found' });
      const tooLarge = s.events().filter((e) => e.code === 'KD_KEY_TOO_LARGE');
      assert.equal(tooLarge.length, 2);
      assert.ok(Number(tooLarge[0]!.bytes) > MiB);
    });
  }

  it('ignores and logs garbage bytes', async () => {
    const s = await setup();
    s.dir.setBehaviour(BOB, 'wkd-advanced', { body: Buffer.from('<html>not a key</html>') });
    s.dir.setBehaviour(BOB, 'wkd-direct', { body: new Uint8Array([0x99, 0x01, 0xff, 0x00, 0x42]) });
    s.dir.setBehaviour(BOB, 'vks', {
      body: '-----BEGIN PGP PUBLIC KEY BLOCK-----\n\nAAAA\n-----END PGP PUBLIC KEY BLOCK-----\n',
    });
    assert.deepEqual(await s.kd.lookup(BOB), { state: 'not-found' });
    const reasons = s
      .events()
      .filter((e) => e.code === 'KD_KEY_REJECTED')
      .map((e) => e.problem);
    assert.deepEqual(reasons, ['unreadable', 'unreadable', 'unreadable']);
  });

  it('caches a found key: the second lookup makes no request; fresh bypasses; the TTL ends it', async () => {
    const s = await setup({ positiveTtlSeconds: 600 });
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary);
    await s.kd.lookup(BOB);
    assertFound(await s.kd.lookup('BOB@kollege.example'), 'wkd-advanced', key.fingerprint);
    assert.equal(s.dir.requests.length, 1);
    assertFound(await s.kd.lookup(BOB, { fresh: true }), 'wkd-advanced', key.fingerprint);
    assert.equal(s.dir.requests.length, 2);
    s.clock.advance(599);
    await s.kd.lookup(BOB);
    assert.equal(s.dir.requests.length, 2);
    s.clock.advance(2);
    await s.kd.lookup(BOB);
    assert.equal(s.dir.requests.length, 3);
  });

  it('caches not-found for negativeTtlSeconds; fresh bypasses it', async () => {
    const s = await setup({ negativeTtlSeconds: 300 });
    assert.deepEqual(await s.kd.lookup(BOB), { state: 'not-found' });
    assert.equal(s.dir.requests.length, 3);
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary);
    assert.deepEqual(await s.kd.lookup(BOB), { state: 'not-found' });
    assert.equal(s.dir.requests.length, 3);
    s.clock.advance(301);
    assertFound(await s.kd.lookup(BOB), 'wkd-advanced', key.fingerprint);
    s.dir.unpublish(BOB);
    assert.deepEqual(await s.kd.lookup(BOB, { fresh: true }), { state: 'not-found' });
  });

  it('backs off the VKS after a 429 until Retry-After has passed, logging it once', async () => {
    const s = await setup();
    s.dir.setBehaviour('*', 'vks', { status: 429, retryAfter: '120' });
    assert.deepEqual(await s.kd.lookup(BOB), { state: 'unavailable', reason: 'error' });
    assert.equal(s.dir.count('vks'), 1);
    s.dir.setBehaviour('*', 'vks', null);
    const other = `carol@${DOMAIN}`;
    const key = await keyFor([other]);
    s.dir.setVks(other, key.armored);
    assert.deepEqual(await s.kd.lookup(other), { state: 'unavailable', reason: 'error' });
    assert.equal(s.dir.count('vks'), 1, 'no request while backing off');
    s.clock.advance(121);
    assertFound(await s.kd.lookup(other), 'vks', key.fingerprint);
    assert.equal(s.dir.count('vks'), 2);
    assert.equal(s.codes().filter((c) => c === 'KD_RATE_LIMITED').length, 1);
  });

  it('reads Retry-After as seconds or an HTTP date, 60 s when absent or unreadable', () => {
    const now = Date.parse('2025-06-01T12:00:00Z');
    assert.equal(retryAfterMs('30', now), 30_000);
    assert.equal(retryAfterMs('Sun, 01 Jun 2025 12:02:00 GMT', now), 120_000);
    assert.equal(retryAfterMs('Sun, 01 Jun 2025 11:00:00 GMT', now), 0);
    assert.equal(retryAfterMs(undefined, now), 60_000);
    assert.equal(retryAfterMs('soon', now), 60_000);
  });

  it('shares one request among concurrent lookups of the same address', async () => {
    const s = await setup();
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary);
    s.dir.setBehaviour(BOB, 'wkd-advanced', { delayMs: 300 });
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => s.kd.lookup(i % 2 ? BOB : 'Bob@Kollege.Example')),
    );
    for (const r of results) assertFound(r, 'wkd-advanced', key.fingerprint);
    assert.equal(s.dir.requests.length, 1);
  });

  it('does not trust a certificate from an unknown CA', async () => {
    const other = await generateTestCa();
    const s = await setup({}, { ca: other.cert });
    const key = await keyFor([BOB]);
    s.dir.publishWkd(BOB, key.binary);
    assert.deepEqual(await s.kd.lookup(BOB), { state: 'unavailable', reason: 'error' });
    const errors = s.events().filter((e) => e.code === 'KD_SOURCE_ERROR');
    assert.equal(errors.length, 2);
    for (const e of errors) assert.match(String(e.errName), /CERT|SIGNATURE|VERIFY|ISSUER/i);
    assert.equal(s.dir.count('wkd-advanced'), 0, 'no request was sent over the untrusted connection');
  });

  it('rejects unknown lookup options loudly', async () => {
    const s = await setup();
    assert.throws(() => s.kd.lookup(BOB, { fersh: true } as never), /unknown lookup option/);
  });
});
