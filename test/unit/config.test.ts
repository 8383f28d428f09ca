import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigError, loadConfig, redactedConfig } from '../../core/config.ts';
import { sealerFromConfig } from '../../core/master-key.ts';
import { Sealer } from '../../core/seal.ts';
import { captureLog } from '../helpers/log.ts';
import { tmpDir } from '../helpers/tmp.ts';

describe('config', () => {
  it('applies defaults from an empty environment and freezes the result', () => {
    const config = loadConfig({});
    assert.equal(config.smtpPort, 2587);
    assert.equal(config.smtpsPort, 2465);
    assert.equal(config.httpPort, 8080);
    assert.equal(config.inboundPort, 2525);
    assert.equal(config.delivery.giveUpAfterSeconds, 5 * 24 * 3600);
    assert.ok(Object.isFrozen(config) && Object.isFrozen(config.limits));
  });

  it('reads the environment variables of the contract', () => {
    const config = loadConfig({
      SEALPOST_SMTP_PORT: '1587',
      SEALPOST_RELAY: 'smtps://u:secret@relay.example:465',
      SEALPOST_MAX_MESSAGE_BYTES: '1000',
    });
    assert.equal(config.smtpPort, 1587);
    assert.equal(config.relay, 'smtps://u:secret@relay.example:465');
    assert.equal(config.limits.maxMessageBytes, 1000);
  });

  it('rejects bad values with the name of the setting', () => {
    assert.throws(
      () => loadConfig({ SEALPOST_SMTP_PORT: 'abc' }),
      (err: Error) => {
        return err instanceof ConfigError && err.message.includes('smtpPort');
      },
    );
    assert.throws(() => loadConfig({ SEALPOST_RELAY: 'http://x' }), ConfigError);
  });

  it('redacts the master key and URL passwords in config show', () => {
    const shown = JSON.stringify(
      redactedConfig(
        loadConfig({
          SEALPOST_MASTER_KEY: 'a'.repeat(64),
          SEALPOST_RELAY: 'smtps://u:topsecret@relay.example:465',
          DATABASE_URL: 'postgres://u:pgsecret@h/db',
        }),
      ),
    );
    assert.ok(!shown.includes('aaaaaaaa'));
    assert.ok(!shown.includes('topsecret'));
    assert.ok(!shown.includes('pgsecret'));
    assert.ok(shown.includes('relay.example'));
  });

  it('trusts no proxy by default, and takes the named ones from the environment', () => {
    assert.deepEqual(loadConfig({}).trustProxy, { http: false, smtp: [] });
    const table: [env: Record<string, string>, http: unknown, smtp: string[]][] = [
      [{ SEALPOST_TRUST_PROXY: 'loopback, 10.0.0.0/8,fd00::/8' }, ['loopback', '10.0.0.0/8', 'fd00::/8'], []],
      [{ SEALPOST_TRUST_PROXY: '1' }, 1, []],
      [{ SEALPOST_TRUST_PROXY: 'off' }, false, []],
      [{ SEALPOST_TRUST_PROXY_SMTP: '192.0.2.7,2001:db8::7' }, false, ['192.0.2.7', '2001:db8::7']],
    ];
    for (const [env, http, smtp] of table) {
      const config = loadConfig(env);
      assert.deepEqual(config.trustProxy.http, http, JSON.stringify(env));
      assert.deepEqual(config.trustProxy.smtp, smtp, JSON.stringify(env));
    }
    assert.equal(loadConfig({ SEALPOST_MAX_CONNECTIONS_PER_IP: '7' }).limits.maxConnectionsPerIp, 7);
  });

  it('refuses proxies it cannot match, an SMTP proxy given as a block, and a per-address limit over the total', () => {
    const bad: Record<string, string>[] = [
      { SEALPOST_TRUST_PROXY: '10.0.0.0/33' },
      { SEALPOST_TRUST_PROXY: 'proxy.example' },
      { SEALPOST_TRUST_PROXY: '99' },
      { SEALPOST_TRUST_PROXY: ',' },
      { SEALPOST_TRUST_PROXY_SMTP: '10.0.0.0/8' },
      { SEALPOST_TRUST_PROXY_SMTP: '*' },
      { SEALPOST_MAX_CONNECTIONS_PER_IP: '500' },
    ];
    for (const env of bad) assert.throws(() => loadConfig(env), ConfigError, JSON.stringify(env));
  });

  it('takes SEALPOST_METRICS_ALLOW as addresses and CIDR blocks, and refuses anything else', () => {
    assert.deepEqual(loadConfig({}).metrics.allow, []);
    assert.deepEqual(loadConfig({ SEALPOST_METRICS_ALLOW: '10.0.0.0/8, fd00::/8,192.0.2.7' }).metrics.allow, [
      '10.0.0.0/8',
      'fd00::/8',
      '192.0.2.7',
    ]);
    for (const v of ['10.0.0.0/33', 'prometheus.internal', '*', 'loopback']) {
      assert.throws(() => loadConfig({ SEALPOST_METRICS_ALLOW: v }), ConfigError, v);
    }
  });

  describe('master key from a file, previous keys (rotation)', () => {
    const tmp = tmpDir('sealpost-config-');
    after(() => tmp.cleanup());
    const a = randomBytes(32);
    const b = randomBytes(32);
    const c = randomBytes(32);

    it('takes SEALPOST_MASTER_KEY_FILE and the previous keys from the list and from a file', () => {
      const current = path.join(tmp.dir, 'current.key');
      const previous = path.join(tmp.dir, 'previous.keys');
      writeFileSync(current, `${b.toString('base64')}\n`);
      writeFileSync(previous, `# rotated 2026-12\n${c.toString('hex')}\n\n`);
      const config = loadConfig({
        SEALPOST_DATA_DIR: tmp.dir,
        SEALPOST_MASTER_KEY_FILE: current,
        SEALPOST_MASTER_KEY_PREVIOUS: ` ${a.toString('hex')} ,`,
        SEALPOST_MASTER_KEY_PREVIOUS_FILE: previous,
      });
      const sealer = sealerFromConfig(config, captureLog().log);
      assert.equal(sealer.keyId, new Sealer(b).keyId, 'the file is the current key');
      for (const old of [a, c]) {
        assert.equal(
          sealer.open('spool', new Sealer(old).seal('spool', Buffer.from('x'), 'r'), 'r').toString(),
          'x',
        );
      }
      const shown = JSON.stringify(redactedConfig(config));
      assert.ok(!shown.includes(a.toString('hex')), 'previous keys are redacted');
    });

    it('refuses both SEALPOST_MASTER_KEY and _FILE, a malformed previous key, an unreadable or bad file', () => {
      const file = path.join(tmp.dir, 'k');
      writeFileSync(file, a.toString('base64'));
      assert.throws(
        () => loadConfig({ SEALPOST_MASTER_KEY: b.toString('hex'), SEALPOST_MASTER_KEY_FILE: file }),
        /not both/,
      );
      assert.throws(
        () => loadConfig({ SEALPOST_MASTER_KEY_PREVIOUS: `${a.toString('hex')},short` }),
        ConfigError,
      );
      const missing = loadConfig({ SEALPOST_DATA_DIR: tmp.dir, SEALPOST_MASTER_KEY_FILE: `${file}.none` });
      assert.throws(
        () => sealerFromConfig(missing, captureLog().log),
        /SEALPOST_MASTER_KEY_FILE: cannot read/,
      );
      const bad = path.join(tmp.dir, 'bad');
      writeFileSync(bad, 'not a key\n');
      const malformed = loadConfig({ SEALPOST_DATA_DIR: tmp.dir, SEALPOST_MASTER_KEY_PREVIOUS_FILE: bad });
      assert.throws(
        () => sealerFromConfig(malformed, captureLog().log),
        (err: unknown) => err instanceof ConfigError && !err.message.includes('not a key'),
        'the error names the file and the line, never its text',
      );
    });
  });
});
