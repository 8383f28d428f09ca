import assert from 'node:assert/strict';
import path from 'node:path';
import { openDb } from '../../core/db/index.ts';
import { effectiveSettings } from '../../core/settings.ts';
import { parseConfig } from '../../core/config.ts';
import { sealpostCli } from '../helpers/cli.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * `sealpost settings [show | set KEY VALUE | reset KEY]` as an admin runs it (the real command in a child
 * process on a fresh SQLite data folder): the same functions as the console's settings screen — validated,
 * audited old -> new with actor 'cli', read back by effectiveSettings() as every service reads it.
 */
describe('cli: sealpost settings', function () {
  this.timeout(120_000);
  const tmp = tmpDir('sealpost-cli-');
  after(() => tmp.cleanup());

  it('shows, refuses a bad value, sets (audited), and resets', async () => {
    const shown = await sealpostCli(tmp.dir, ['settings']);
    assert.equal(shown.code, 0, shown.stderr);
    assert.match(shown.stdout, /^practiceName\s+Sealpost\s+from SEALPOST_PRACTICE_NAME$/m);
    assert.match(shown.stdout, /^discovery\s+off\s+from SEALPOST_DISCOVERY$/m);

    for (const [key, value] of [
      ['retentionDays', '0'],
      ['language', 'fr'],
      ['colour', 'blue'],
    ] as const) {
      const bad = await sealpostCli(tmp.dir, ['settings', 'set', key, value]);
      assert.equal(bad.code, 2, `${key}=${value}: a usage error`);
      assert.match(bad.stderr, new RegExp(`sealpost: .*${key === 'colour' ? 'unknown setting' : key}`));
    }

    const set = await sealpostCli(tmp.dir, ['settings', 'set', 'practiceName', 'Praxis Nord']);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /^practiceName\s+Praxis Nord\s+set in the console \(default Sealpost\)$/m);
    const again = await sealpostCli(tmp.dir, ['settings', 'show']);
    assert.match(again.stdout, /^practiceName\s+Praxis Nord\s+set in the console/m);

    const db = await openDb({ sqliteFile: path.join(tmp.dir, 'sealpost.db') });
    try {
      const config = parseConfig({});
      assert.equal((await effectiveSettings({ config, db })).practiceName, 'Praxis Nord');
      const audit = await db.stores.audit.page({ offset: 0, limit: 10, action: 'settings.set' });
      assert.deepEqual(
        audit.map((r) => [r.actor, r.subject, r.detail]),
        [['cli', 'practiceName', 'Sealpost -> Praxis Nord']],
      );
    } finally {
      await db.close();
    }

    const reset = await sealpostCli(tmp.dir, ['settings', 'reset', 'practiceName']);
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /practiceName: back to the configuration's value/);
    const last = await sealpostCli(tmp.dir, ['settings']);
    assert.match(last.stdout, /^practiceName\s+Sealpost\s+from SEALPOST_PRACTICE_NAME$/m);
  });
});
