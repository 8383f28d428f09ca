// Prints a DATABASE_URL for a fresh, empty PostgreSQL database when a server answers on 127.0.0.1:5432
// (trust auth, user postgres), and nothing otherwise. `drop NAME` removes it again.
import pg from 'pg';

const base = process.env.SEALPOST_CI_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const client = new pg.Client({ connectionString: base, connectionTimeoutMillis: 2000 });
try {
  await client.connect();
} catch {
  process.exit(0);
}
try {
  if (process.argv[2] === 'drop') {
    await client.query(`DROP DATABASE IF EXISTS ${process.argv[3].replace(/[^a-z0-9_]/g, '')} WITH (FORCE)`);
  } else {
    const name = `sealpost_ci_${Date.now()}_${process.pid}`;
    await client.query(`CREATE DATABASE ${name}`);
    const url = new URL(base);
    url.pathname = `/${name}`;
    console.log(url.toString());
  }
} finally {
  await client.end();
}
