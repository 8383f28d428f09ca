import assert from 'node:assert/strict';
import { parseConfig } from '../../core/config.ts';
import {
  effectiveSettings,
  resetSetting,
  SETTING_KEYS,
  setSetting,
  settingLines,
  SettingValueError,
} from '../../core/settings.ts';
import { SettingsStore } from '../../core/store/index.ts';
import { editableSettingKey } from '../../webmail/contract/console-settings.ts';
import { openTestDb, testDbKinds, type TestDb } from '../helpers/db.ts';

/**
 * The admin's settings (core/settings.ts, core/store/settings.ts) on SQLite and, with DATABASE_URL, on
 * PostgreSQL: the configuration's value until one is set, the set value in force after it, validation per
 * key, old -> new in the audit trail, reset, and a second process's cache agreeing within its cache time.
 */
const config = parseConfig({
  practiceName: 'Praxis Env',
  pickup: { language: 'de', retentionDays: 30 },
  discovery: { enabled: true, keyChange: 'hold' },
});
const now = new Date('2026-03-01T10:00:00Z');

describe('settings store: configuration defaults, admin overrides, audit', () => {
  it('the console contract lists exactly the keys core/settings.ts knows', () => {
    assert.deepEqual([...editableSettingKey.options], [...SETTING_KEYS]);
  });

  for (const kind of testDbKinds()) {
    describe(kind, () => {
      let t: TestDb;
      beforeEach(async () => (t = await openTestDb(kind)));
      afterEach(async () => t.cleanup());
      const deps = () => ({ config, stores: t.db.stores });
      const auditRows = async () =>
        (await t.db.stores.audit.page({ offset: 0, limit: 50 })).filter((r) =>
          r.action.startsWith('settings.'),
        );

      it('without a row every value is the configuration’s, source config', async () => {
        assert.deepEqual(await effectiveSettings({ config, db: t.db }), {
          practiceName: 'Praxis Env',
          language: 'de',
          retentionDays: 30,
          discovery: true,
          keyChange: 'hold',
        });
        const lines = await settingLines(config, t.db.stores.settings);
        assert.deepEqual(
          lines.map((l) => [l.key, l.source]),
          SETTING_KEYS.map((k) => [k, 'config']),
        );
      });

      it('a set value is in force at once, audited old -> new; reset goes back and is audited', async () => {
        const who = { actor: 'admin@praxis.example', ip: '192.0.2.7' };
        await setSetting(deps(), { key: 'practiceName', value: '  Praxis Neu  ' }, who, now);
        await setSetting(deps(), { key: 'language', value: 'en' }, who, now);
        await setSetting(deps(), { key: 'retentionDays', value: '090' }, who, now);
        await setSetting(deps(), { key: 'discovery', value: 'off' }, who, now);
        const line = await setSetting(deps(), { key: 'keyChange', value: 'accept-and-log' }, who, now);
        assert.equal(line.source, 'console');
        assert.equal(line.default, 'hold');
        assert.deepEqual(await effectiveSettings({ config, db: t.db }), {
          practiceName: 'Praxis Neu',
          language: 'en',
          retentionDays: 90,
          discovery: false,
          keyChange: 'accept-and-log',
        });
        const set = await auditRows();
        assert.deepEqual(set.map((r) => [r.action, r.subject, r.detail, r.actor, r.ip]).sort(), [
          ['settings.set', 'discovery', 'on -> off', who.actor, who.ip],
          ['settings.set', 'keyChange', 'hold -> accept-and-log', who.actor, who.ip],
          ['settings.set', 'language', 'de -> en', who.actor, who.ip],
          ['settings.set', 'practiceName', 'Praxis Env -> Praxis Neu', who.actor, who.ip],
          ['settings.set', 'retentionDays', '30 -> 90', who.actor, who.ip],
        ]);
        assert.equal(await resetSetting(deps(), { key: 'language' }, { actor: 'cli' }, now), true);
        assert.equal(await resetSetting(deps(), { key: 'language' }, { actor: 'cli' }, now), false);
        assert.equal((await effectiveSettings({ config, db: t.db })).language, 'de');
        const reset = (await auditRows()).filter((r) => r.action === 'settings.reset');
        assert.deepEqual(
          reset.map((r) => [r.subject, r.detail, r.actor]),
          [['language', 'en -> de', 'cli']],
        );
      });

      it('a change whose audit entry cannot be written is not in force (one transaction)', async () => {
        await t.db.kysely.schema.alterTable('audit').renameTo('audit_away').execute();
        try {
          await assert.rejects(setSetting(deps(), { key: 'language', value: 'en' }, { actor: 'cli' }, now));
          assert.equal((await effectiveSettings({ config, db: t.db })).language, 'de');
        } finally {
          await t.db.kysely.schema.alterTable('audit_away').renameTo('audit').execute();
        }
        await setSetting(deps(), { key: 'language', value: 'en' }, { actor: 'cli' }, now);
        await t.db.kysely.schema.alterTable('audit').renameTo('audit_away').execute();
        try {
          await assert.rejects(resetSetting(deps(), { key: 'language' }, { actor: 'cli' }, now));
          assert.equal((await effectiveSettings({ config, db: t.db })).language, 'en');
        } finally {
          await t.db.kysely.schema.alterTable('audit_away').renameTo('audit').execute();
        }
      });

      it('refuses values outside each key’s range and stores nothing', async () => {
        const bad: [string, string][] = [
          ['retentionDays', '0'],
          ['retentionDays', '3651'],
          ['retentionDays', '12.5'],
          ['retentionDays', 'abc'],
          ['language', 'fr'],
          ['practiceName', ''],
          ['practiceName', 'x'.repeat(121)],
          ['practiceName', 'Praxis\r\nBcc: a@b.example'],
          ['practiceName', 'Praxis\u0000'],
          ['discovery', 'yes'],
          ['keyChange', 'accept'],
          ['masterKey', 'x'],
        ];
        for (const [key, value] of bad) {
          await assert.rejects(
            setSetting(deps(), { key, value }, { actor: 'cli' }, now),
            SettingValueError,
            `${key}=${JSON.stringify(value)}`,
          );
        }
        assert.equal((await t.db.stores.settings.overrides()).size, 0);
        assert.equal((await auditRows()).length, 0);
        // The bounds themselves are allowed.
        await setSetting(deps(), { key: 'retentionDays', value: '3650' }, { actor: 'cli' }, now);
        await setSetting(deps(), { key: 'practiceName', value: 'ü'.repeat(120) }, { actor: 'cli' }, now);
      });

      it('another process (its own store and cache) agrees within the cache time, without a restart', async () => {
        let wall = 1_000_000;
        const other = new SettingsStore(t.db.kysely, 5_000, () => wall);
        const otherDeps = { config, db: { stores: { settings: other } } };
        assert.equal((await effectiveSettings(otherDeps)).practiceName, 'Praxis Env');
        await setSetting(deps(), { key: 'practiceName', value: 'Praxis Zwei' }, { actor: 'cli' }, now);
        wall += 4_999;
        assert.equal((await effectiveSettings(otherDeps)).practiceName, 'Praxis Env');
        wall += 1;
        assert.equal((await effectiveSettings(otherDeps)).practiceName, 'Praxis Zwei');
        // The writing process sees its own change at once.
        assert.equal((await effectiveSettings({ config, db: t.db })).practiceName, 'Praxis Zwei');
      });
    });
  }
});
