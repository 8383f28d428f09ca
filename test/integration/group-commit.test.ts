import assert from 'node:assert/strict';
import { GroupCommit, type Stores } from '../../core/store/index.ts';
import { openTestDb, testDbKinds, type TestDb } from '../helpers/db.ts';

/**
 * core/store/group-commit.ts (issue 17): jobs of one event-loop turn share one transaction, each promise
 * settles after the commit that holds it, and one failing job fails alone (the others commit).
 */
for (const kind of testDbKinds()) {
  describe(`store: group commit (${kind})`, () => {
    let t: TestDb;
    beforeEach(async () => {
      t = await openTestDb(kind);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    const rule = (match: string) => async (stores: Stores) => {
      await stores.rules.set({ match, action: 'plain' }, new Date());
    };
    const matches = async () => (await t.db.stores.rules.list()).map((r) => r.match).sort();

    it('runs the jobs of one turn in one transaction and settles after the commit', async () => {
      const commits = new GroupCommit(t.db.stores);
      const seen = new Set<Stores>();
      const job = (match: string) => async (stores: Stores) => {
        seen.add(stores);
        await rule(match)(stores);
      };
      await Promise.all([
        commits.run(job('a.example')),
        commits.run(job('b.example')),
        commits.run(job('c.example')),
      ]);
      assert.equal(seen.size, 1, 'one transaction for the three');
      assert.deepEqual(await matches(), ['a.example', 'b.example', 'c.example']);
    });

    it('fails only the job that fails: the others of its turn are committed', async () => {
      const commits = new GroupCommit(t.db.stores);
      const bad = async (stores: Stores) => {
        await rule('bad.example')(stores);
        throw new Error('contact key changed since RCPT');
      };
      const results = await Promise.allSettled([
        commits.run(rule('a.example')),
        commits.run(bad),
        commits.run(rule('b.example')),
      ]);
      assert.deepEqual(
        results.map((r) => r.status),
        ['fulfilled', 'rejected', 'fulfilled'],
      );
      assert.deepEqual(await matches(), ['a.example', 'b.example'], 'nothing of the failed job stays');
    });
  });
}
