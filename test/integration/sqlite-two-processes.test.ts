import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import { openDb } from '../../core/db/index.ts';
import { tmpDir } from '../helpers/tmp.ts';

const run = promisify(execFile);

/**
 * `npm start` runs the gateway and the worker as two processes on one SQLite file (cli/supervisor.ts). A
 * transaction that reads and then writes must wait for the other process's commit, not fail with
 * SQLITE_BUSY (which the gateway answers with 451): core/db/index.ts begins every transaction IMMEDIATE.
 * Deferred transactions fail this test within a few rounds.
 */
describe('SQLite: two processes writing one file (the split services of npm start)', function () {
  this.timeout(120_000);
  const tmp = tmpDir('sealpost-two-writers-');
  after(() => tmp.cleanup());

  it('read-then-write transactions of two processes all commit, none gets SQLITE_BUSY', async () => {
    const file = path.join(tmp.dir, 'sealpost.db');
    await (await openDb({ sqliteFile: file })).close(); // migrated once, as the supervisor does
    const writer = (name: string) =>
      run(process.execPath, ['--import', 'tsx', 'test/helpers/sqlite-writer.ts', file, name, '300']);
    const results = await Promise.all([writer('gateway'), writer('worker')]);
    assert.deepEqual(
      results.map((r) => r.stdout.trim()),
      ['ok', 'ok'],
    );
    const db = await openDb({ sqliteFile: file });
    try {
      const { rows } = await sql<{ n: number }>`select count(*) as n from two_writers`.execute(db.kysely);
      assert.equal(rows[0]?.n, 600, 'every transaction committed');
    } finally {
      await db.close();
    }
  });
});
