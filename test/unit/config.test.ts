import assert from 'node:assert/strict';
import { ConfigError, loadConfig, redactedConfig } from '../../core/config.ts';

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
});
