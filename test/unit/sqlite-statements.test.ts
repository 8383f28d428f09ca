import assert from 'node:assert/strict';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { cachingStatements } from '../../core/db/index.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * core/db/index.ts keeps SQLite's prepared statements by SQL text (Kysely prepares every query anew). A
 * statement is shared only when it is free: one whose iterator is still open is never handed out again,
 * and a change of schema between two uses is seen by the kept statement.
 */
describe('core/db: prepared statements kept by SQL text', () => {
  let tmp: ReturnType<typeof tmpDir>;
  let sqlite: BetterSqlite3.Database;
  beforeEach(() => {
    tmp = tmpDir();
    sqlite = new BetterSqlite3(path.join(tmp.dir, 'db.sqlite'));
    sqlite.exec('create table t (a integer); insert into t values (1), (2), (3)');
  });
  afterEach(() => tmp.cleanup());

  it('reuses a statement, and gives a fresh one while the kept one is busy', () => {
    const db = cachingStatements(sqlite);
    const text = 'select a from t order by a';
    const first = db.prepare(text);
    assert.equal(db.prepare(text), first);
    const rows = first.iterate([]);
    assert.deepEqual(rows.next().value, { a: 1 });
    const other = db.prepare(text); // `first` is still iterating
    assert.notEqual(other, first);
    assert.deepEqual(other.all([]), [{ a: 1 }, { a: 2 }, { a: 3 }]);
    assert.deepEqual([...rows], [{ a: 2 }, { a: 3 }]);
    assert.equal(db.prepare(text), first); // free again
    db.close();
    assert.equal(sqlite.open, false);
  });

  it('a kept statement sees a column added after it was prepared', () => {
    const db = cachingStatements(sqlite);
    const text = 'select * from t where a = ?';
    assert.deepEqual(db.prepare(text).all([1]), [{ a: 1 }]);
    sqlite.exec("alter table t add column b text default 'x'");
    assert.deepEqual(db.prepare(text).all([1]), [{ a: 1, b: 'x' }]);
    db.close();
  });
});
