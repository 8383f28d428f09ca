import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { sealpostCli } from '../helpers/cli.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * Review of issue 16: `sealpost master-key rotate` run where no current master key is given (no
 * SEALPOST_MASTER_KEY, no _FILE, no master.key in its data folder — e.g. a CLI container beside a
 * PostgreSQL deployment) must not make a new random key and re-seal every row with it: the services do
 * not have that key. It refuses (a configuration error, exit 78) and writes no key file.
 */
describe('security: master-key rotate never makes a key of its own', function () {
  this.timeout(60_000);
  const tmp = tmpDir('sealpost-rotate-nokey-');
  after(() => tmp.cleanup());

  it('refuses without a current key and leaves the data folder without master.key', async () => {
    const r = await sealpostCli(tmp.dir, ['master-key', 'rotate']);
    assert.equal(r.code, 78, r.stderr); // EX_CONFIG
    assert.match(r.stderr, /no current master key/);
    assert.equal(existsSync(path.join(tmp.dir, 'master.key')), false);
    assert.doesNotMatch(r.stdout, /resealed=/);
  });
});
