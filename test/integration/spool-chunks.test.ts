import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { parseConfig } from '../../core/config.ts';
import type { Db } from '../../core/db/index.ts';
import { resealColumns } from '../../core/reseal.ts';
import { Sealer } from '../../core/seal.ts';
import { outboundRow, SEALED_OUTBOUND } from '../../core/store/outbound.ts';
import {
  CHUNK_BYTES,
  ChunkWriter,
  chunkReader,
  SpoolUnreadableError,
} from '../../core/store/outbound-chunks.ts';
import { createOutboxTransport } from '../../worker/transport.ts';
import { openTestDb, testDbKinds, type TestDb } from '../helpers/db.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * The spool body in chunks (core/store/outbound.ts, docs/performance.md "Memory of one large message") on a
 * real database (SQLite, and PostgreSQL when DATABASE_URL is set): written in order as it is produced, read
 * back a chunk at a time; a chunk missing, moved, swapped or a body cut short does not open; a done row
 * keeps no chunk; a rotation re-seals them; orphans (their row never committed) are swept after an hour.
 */
const config = parseConfig({});

async function writeChunked(db: Db, sealer: Sealer, body: Buffer, piece = 300_000, now = Date.now()) {
  const writer = new ChunkWriter({ sealer, db }, now);
  for (let at = 0; at < body.length; at += piece) await writer.write(body.subarray(at, at + piece));
  const chunked = await writer.end();
  const row = outboundRow(
    { sealer, config },
    {
      kind: 'pgp',
      userId: null,
      envelopeFrom: 'anna@praxis.example',
      recipient: 'x@example.org',
      messageId: '<big@praxis.example>',
      parts: [],
      chunked,
    },
    now,
  );
  await db.stores.outbound.add([row]);
  const stored = (await db.stores.outbound.find(row.id))!;
  return stored;
}

async function readAll(db: Db, sealer: Sealer, id: string): Promise<Buffer> {
  const row = (await db.stores.outbound.find(id))!;
  const out: Buffer[] = [];
  for await (const chunk of chunkReader({ sealer, db }, row)) out.push(chunk);
  return Buffer.concat(out);
}

async function chunkRows(db: Db, id: string) {
  return db.kysely
    .selectFrom('outbound_chunks')
    .select(['idx', 'body', 'place'])
    .where('outbound_id', '=', id)
    .orderBy('idx')
    .execute();
}

async function setChunk(db: Db, id: string, idx: number, body: Uint8Array) {
  await db.kysely
    .updateTable('outbound_chunks')
    .set({ body })
    .where('outbound_id', '=', id)
    .where('idx', '=', idx)
    .execute();
}

for (const kind of testDbKinds()) {
  describe(`spool: a large body in sealed chunks (${kind})`, function () {
    this.timeout(60_000);
    let t: TestDb;
    const sealer = new Sealer(randomBytes(32));
    const body = randomBytes(2 * CHUNK_BYTES + 12_345);

    beforeEach(async () => {
      t = await openTestDb(kind);
    });
    afterEach(async () => {
      await t.cleanup();
    });

    it('writes chunks of 1 MiB in order and reads the body back byte for byte', async () => {
      const row = await writeChunked(t.db, sealer, body);
      assert.equal(row.chunks, 3);
      assert.equal(row.size, body.length);
      assert.equal(row.body.length, 0, 'the row itself holds no body');
      const rows = await chunkRows(t.db, row.id);
      assert.deepEqual(
        rows.map((r) => r.place),
        [`${row.id}:0`, `${row.id}:1`, `${row.id}:2:last`],
      );
      assert.ok(!Buffer.from(rows[0]!.body).includes(body.subarray(0, 64)), 'sealed, not clear');
      assert.ok((await readAll(t.db, sealer, row.id)).equals(body));
    });

    it('a body of exactly n chunks: the last is full and marked last', async () => {
      const exact = randomBytes(2 * CHUNK_BYTES);
      const row = await writeChunked(t.db, sealer, exact, CHUNK_BYTES);
      assert.equal(row.chunks, 2);
      assert.ok((await readAll(t.db, sealer, row.id)).equals(exact));
    });

    it('a missing chunk does not open', async () => {
      const row = await writeChunked(t.db, sealer, body);
      await t.db.kysely
        .deleteFrom('outbound_chunks')
        .where('outbound_id', '=', row.id)
        .where('idx', '=', 1)
        .execute();
      await assert.rejects(readAll(t.db, sealer, row.id), SpoolUnreadableError);
    });

    it('two chunks swapped (reordered) do not open', async () => {
      const row = await writeChunked(t.db, sealer, body);
      const [c0, c1] = await chunkRows(t.db, row.id);
      await setChunk(t.db, row.id, 0, c1!.body);
      await setChunk(t.db, row.id, 1, c0!.body);
      await assert.rejects(readAll(t.db, sealer, row.id), SpoolUnreadableError);
    });

    it('a body cut short (last chunk deleted, count lowered) does not open', async () => {
      const row = await writeChunked(t.db, sealer, body);
      await t.db.kysely
        .deleteFrom('outbound_chunks')
        .where('outbound_id', '=', row.id)
        .where('idx', '=', 2)
        .execute();
      await t.db.kysely.updateTable('outbound').set({ chunks: 2 }).where('id', '=', row.id).execute();
      await assert.rejects(readAll(t.db, sealer, row.id), /chunk 1 of 2 does not open/);
    });

    it("a chunk moved from another row's body does not open", async () => {
      const a = await writeChunked(t.db, sealer, body);
      const b = await writeChunked(t.db, sealer, randomBytes(body.length));
      const [b0] = await chunkRows(t.db, b.id);
      await setChunk(t.db, a.id, 0, b0!.body);
      await assert.rejects(readAll(t.db, sealer, a.id), SpoolUnreadableError);
    });

    it('a delivered or bounced row keeps no chunk (in the same transaction as its state)', async () => {
      const delivered = await writeChunked(t.db, sealer, body);
      await t.db.stores.outbound.markDelivered(delivered, Date.now());
      assert.equal((await chunkRows(t.db, delivered.id)).length, 0);
      const bounced = await writeChunked(t.db, sealer, body);
      const done = await t.db.stores.outbound.bounce(
        bounced,
        { code: 'DLV_EXPIRED', smtpCode: null },
        null,
        new Date(),
      );
      assert.equal(done, true);
      assert.equal((await chunkRows(t.db, bounced.id)).length, 0);
    });

    it('erasing a contact drops the chunks of her rows', async () => {
      const row = await writeChunked(t.db, sealer, body);
      await t.db.stores.outbound.eraseContact('x@example.org', 'no-such-contact');
      assert.equal(await t.db.stores.outbound.find(row.id), undefined);
      assert.equal((await chunkRows(t.db, row.id)).length, 0);
    });

    it('a master-key rotation re-seals every chunk under its place', async () => {
      const A = randomBytes(32);
      const B = randomBytes(32);
      const row = await writeChunked(t.db, new Sealer(A), body);
      const result = await resealColumns({
        db: t.db.kysely,
        sealer: new Sealer(B, [A]),
        columns: SEALED_OUTBOUND,
      });
      assert.deepEqual(result, { resealed: 3, skipped: 1, failed: [] }, 'three chunks; the empty row body');
      assert.ok((await readAll(t.db, new Sealer(B), row.id)).equals(body), 'opens with the new key alone');
      await assert.rejects(readAll(t.db, new Sealer(A), row.id), SpoolUnreadableError);
    });

    it('the outbox folder gets a chunked body whole, or no file when a chunk does not open', async () => {
      const { dir, cleanup } = tmpDir();
      try {
        const outbox = createOutboxTransport(dir);
        const row = await writeChunked(t.db, sealer, body);
        const send = () =>
          outbox.send({
            id: row.id,
            envelope: { from: 'anna@praxis.example', to: 'x@example.org' },
            raw: Readable.from(chunkReader({ sealer, db: t.db }, row), { objectMode: false }),
          });
        await send();
        const file = readFileSync(path.join(dir, `${row.id}.eml`));
        assert.ok(file.subarray(file.length - body.length).equals(body));
        assert.match(file.subarray(0, 100).toString('latin1'), /^Return-Path: <anna@praxis\.example>\r\n/);

        const broken = await writeChunked(t.db, sealer, body);
        await setChunk(t.db, broken.id, 2, (await chunkRows(t.db, row.id))[2]!.body);
        await assert.rejects(
          outbox.send({
            id: broken.id,
            envelope: { from: 'anna@praxis.example', to: 'x@example.org' },
            raw: Readable.from(chunkReader({ sealer, db: t.db }, broken), { objectMode: false }),
          }),
          SpoolUnreadableError,
        );
        assert.equal(existsSync(path.join(dir, `${broken.id}.eml`)), false);
        assert.deepEqual(readdirSync(dir), [`${row.id}.eml`], 'no temporary file left');
      } finally {
        cleanup();
      }
    });

    it('claim in the commit: every chunk there, made young again for the sweep; one missing throws', async () => {
      const hourAgo = Date.now() - 61 * 60_000;
      const writer = new ChunkWriter({ sealer, db: t.db }, hourAgo);
      await writer.write(body);
      const { id, chunks } = await writer.end();
      await t.db.stores.outbound.chunks.claim(id, chunks, Date.now());
      assert.equal(await t.db.stores.outbound.chunks.sweep(Date.now() - 60 * 60_000), 0, 'young again');
      await t.db.kysely
        .deleteFrom('outbound_chunks')
        .where('outbound_id', '=', id)
        .where('idx', '=', 1)
        .execute();
      await assert.rejects(t.db.stores.outbound.chunks.claim(id, chunks, Date.now()), /chunks missing/);
    });

    it('after a commit of unknown outcome: a committed row keeps its chunks, an orphan loses them', async () => {
      const committed = await writeChunked(t.db, sealer, body);
      const orphan = new ChunkWriter({ sealer, db: t.db }, Date.now());
      await orphan.write(body);
      await orphan.end();
      await t.db.stores.outbound.chunks.dropUncommitted(committed.id);
      await t.db.stores.outbound.chunks.dropUncommitted(orphan.id);
      assert.ok((await readAll(t.db, sealer, committed.id)).equals(body));
      assert.equal((await chunkRows(t.db, orphan.id)).length, 0);
    });

    it('sweeps chunks of no queued row after an hour, never those of a queued row or a young orphan', async () => {
      const hourAgo = Date.now() - 61 * 60_000;
      const queued = await writeChunked(t.db, sealer, body, 300_000, hourAgo);
      const orphan = new ChunkWriter({ sealer, db: t.db }, hourAgo);
      await orphan.write(body);
      await orphan.end();
      const young = new ChunkWriter({ sealer, db: t.db }, Date.now());
      await young.write(body);
      await young.end();
      const swept = await t.db.stores.outbound.chunks.sweep(Date.now() - 60 * 60_000);
      assert.equal(swept, 3, 'the old orphan only');
      assert.equal((await chunkRows(t.db, orphan.id)).length, 0);
      assert.equal((await chunkRows(t.db, young.id)).length, 3);
      assert.ok((await readAll(t.db, sealer, queued.id)).equals(body));
    });
  });
}
