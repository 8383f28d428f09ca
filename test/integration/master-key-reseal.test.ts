import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { KyselyPlugin } from 'kysely';
import { parseConfig } from '../../core/config.ts';
import { openDb, type Db } from '../../core/db/index.ts';
import { resealColumns, type ResealProgress } from '../../core/reseal.ts';
import { Sealer } from '../../core/seal.ts';
import { outboundRow, SEALED_OUTBOUND } from '../../core/store/outbound.ts';
import { openTestDb, testDbKinds, type TestDb } from '../helpers/db.ts';

/**
 * core/reseal.ts on a real database (SQLite, and PostgreSQL when DATABASE_URL is set): batches with progress,
 * done rows (no body) skipped, an interrupted walk resumed without re-sealing what is done, and a row a
 * running service rewrites between the walk's read and its write is never overwritten (compare-and-swap).
 */
const config = parseConfig({});
const A = randomBytes(32);
const B = randomBytes(32);

async function queue(db: Db, sealer: Sealer, text: string): Promise<string> {
  const row = outboundRow(
    { sealer, config },
    {
      kind: 'plain',
      userId: null,
      envelopeFrom: 'anna@praxis.example',
      recipient: 'x@example.org',
      messageId: `<${text}@praxis.example>`,
      parts: Buffer.from(text),
    },
    Date.now(),
  );
  await db.stores.outbound.add([row]);
  return row.id;
}

async function bodyOf(db: Db, id: string): Promise<Uint8Array> {
  const row = await db.kysely
    .selectFrom('outbound')
    .select('body')
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
  return row.body;
}

for (const kind of testDbKinds()) {
  describe(`core/reseal: re-sealing with the current master key (${kind})`, function () {
    this.timeout(60_000);
    let t: TestDb;
    beforeEach(async () => {
      t = await openTestDb(kind);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('walks in batches, skips done rows, resumes an interrupted walk', async () => {
      const old = new Sealer(A);
      const ids: string[] = [];
      for (let i = 0; i < 5; i++) ids.push(await queue(t.db, old, `body-${i}`));
      const done = await queue(t.db, old, 'delivered');
      await t.db.stores.outbound.markDelivered({ id: done, attempts: 0 }, Date.now());
      assert.equal((await bodyOf(t.db, done)).length, 0, 'a delivered row keeps no body');

      const rotated = new Sealer(B, [A]);
      const seen: ResealProgress[] = [];
      // Interrupted after the first batch of 2 (the operator's Ctrl-C, a crash).
      await assert.rejects(
        resealColumns({
          db: t.db.kysely,
          sealer: rotated,
          columns: SEALED_OUTBOUND,
          batch: 2,
          onProgress: (p) => {
            seen.push(p);
            throw new Error('interrupted');
          },
        }),
        /interrupted/,
      );
      assert.deepEqual(seen, [{ table: 'outbound', column: 'body', done: 2, total: 6 }]);
      // The walk goes by primary key (random ids): the delivered row's empty body may have been one of the
      // two, so count what the first walk re-sealed rather than assume it.
      const onlyNew = new Sealer(B);
      let first = 0;
      for (const id of ids) {
        try {
          onlyNew.open('spool', await bodyOf(t.db, id), id);
          first++;
        } catch {
          // still sealed with A
        }
      }
      assert.ok(first === 1 || first === 2, `the first batch re-sealed ${first}`);

      const progress: number[] = [];
      const result = await resealColumns({
        db: t.db.kysely,
        sealer: rotated,
        columns: SEALED_OUTBOUND,
        batch: 2,
        onProgress: (p) => p.table === 'outbound' && progress.push(p.done),
      });
      assert.deepEqual(progress, [2, 4, 6]);
      assert.deepEqual(
        result,
        { resealed: 5 - first, skipped: 1 + first, failed: [] },
        'what the first walk did is not sealed again',
      );
      const onlyB = new Sealer(B);
      for (const [i, id] of ids.entries()) {
        assert.equal(onlyB.open('spool', await bodyOf(t.db, id), id).toString(), `body-${i}`);
      }
    });

    it('never overwrites a row a running service rewrote between the read and the write', async () => {
      const id = await queue(t.db, new Sealer(A), 'before');
      // The running service (already on the new key) rewrites the row right after the walk read it.
      const service = new Sealer(B, [A]);
      const written = service.seal('spool', Buffer.from('written by the service'), id);
      const other = kind === 'sqlite' ? await openDb({ sqliteFile: t.file! }) : t.db;
      let armed = true;
      const race: KyselyPlugin = {
        transformQuery: (args) => args.node,
        transformResult: async (args) => {
          const row = args.result.rows[0] as Record<string, unknown> | undefined;
          if (armed && row && 'body' in row) {
            armed = false;
            await other.kysely.updateTable('outbound').set({ body: written }).where('id', '=', id).execute();
          }
          return args.result;
        },
      };
      try {
        const result = await resealColumns({
          db: t.db.kysely.withPlugin(race),
          sealer: new Sealer(B, [A]),
          columns: SEALED_OUTBOUND,
        });
        assert.equal(armed, false, 'the service wrote in between');
        assert.deepEqual(result, { resealed: 0, skipped: 1, failed: [] });
        assert.ok(Buffer.from(await bodyOf(t.db, id)).equals(written), "the service's write stands");
      } finally {
        if (other !== t.db) await other.close();
      }
    });

    it('names a row no configured key opens, and re-seals the others', async () => {
      const lost = await queue(t.db, new Sealer(randomBytes(32)), 'sealed with a lost key');
      const fine = await queue(t.db, new Sealer(A), 'fine');
      const result = await resealColumns({
        db: t.db.kysely,
        sealer: new Sealer(B, [A]),
        columns: SEALED_OUTBOUND,
      });
      assert.deepEqual(result, { resealed: 1, skipped: 0, failed: [`outbound.body ${lost}`] });
      assert.equal(new Sealer(B).open('spool', await bodyOf(t.db, fine), fine).toString(), 'fine');
    });
  });
}
