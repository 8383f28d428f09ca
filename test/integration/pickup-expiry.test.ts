import assert from 'node:assert/strict';
import type { Clock } from '../../core/clock.ts';
import { testDbKinds } from '../helpers/db.ts';
import { SENDER } from '../helpers/gateway.ts';
import { linkId, metadata } from '../helpers/pickup-client.ts';
import { startStack, type Stack } from '../helpers/stack.ts';

/** Invariant 5: pickups expire after the retention period, rows and ciphertext; old links say "expired". */
for (const kind of testDbKinds()) {
  describe(`pickup expiry (${kind})`, function () {
    this.timeout(120_000);
    let stack: Stack;
    let offset = 0;
    const clock: Clock = { now: () => new Date(Date.now() + offset) };
    beforeEach(async () => {
      offset = 0;
      stack = await startStack({ kind, clock, config: { pickup: { retentionDays: 30 } } });
    });
    afterEach(async () => {
      await stack.close();
    });

    it('refuses an expired pickup with 410 at once, and the job deletes it, leaving only a tombstone', async () => {
      await stack.gw.transport().sendMail({ from: SENDER, to: 'max@example.org', subject: 's', text: 't' });
      const msgs = await stack.sink.waitFor(2);
      const id = await linkId(msgs.find((m) => m.to[0] === 'max@example.org')!.raw);
      assert.equal((await metadata(stack.web, id)).status, 200);
      assert.deepEqual(await stack.workers.expire(), { pickups: 0, sessions: 0, chunks: 0 });
      offset = 29 * 86_400_000;
      assert.equal((await metadata(stack.web, id)).status, 200, 'still there after 29 days');
      offset = 30 * 86_400_000 + 1000;
      const expired = await metadata(stack.web, id);
      assert.equal(expired.status, 410);
      assert.equal(expired.body.state, 'expired');
      assert.equal((await stack.workers.expire()).pickups, 1);
      const { db } = stack.gw.testDb;
      assert.equal((await db.kysely.selectFrom('pickups').selectAll().execute()).length, 0);
      const tomb = await db.kysely.selectFrom('pickup_tombstones').selectAll().execute();
      assert.deepEqual(
        tomb.map((t) => t.id),
        [id],
      );
      const after = await metadata(stack.web, id);
      assert.equal(after.status, 410, 'the old link says expired, not not-found');
      assert.equal((await metadata(stack.web, 'AAAAAAAAAAAAAAAAAAAAAA')).status, 404);
    });
  });
}
