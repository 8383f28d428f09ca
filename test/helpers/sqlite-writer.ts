import { sql } from 'kysely';
import { openDb } from '../../core/db/index.ts';

/**
 * One of the processes of test/integration/sqlite-two-processes.test.ts: `node --import tsx
 * sqlite-writer.ts FILE NAME COUNT` runs COUNT transactions that read first and then write, as the
 * gateway's and the worker's stores do, on the shared SQLite file; prints `ok` or the error's code.
 */
const [file, name, count] = process.argv.slice(2);
const db = await openDb({ sqliteFile: file! });
try {
  await sql`create table if not exists two_writers (who text not null, n integer not null)`.execute(
    db.kysely,
  );
  for (let i = 0; i < Number(count); i++) {
    await db.kysely.transaction().execute(async (trx) => {
      await sql`select count(*) from two_writers`.execute(trx);
      await new Promise((r) => setImmediate(r)); // the other process gets its turn between read and write
      await sql`insert into two_writers (who, n) values (${name}, ${i})`.execute(trx);
    });
  }
  process.stdout.write('ok\n');
} catch (err) {
  process.stdout.write(`${(err as { code?: string }).code ?? String(err)}\n`);
} finally {
  await db.close();
}
