import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

/**
 * One owner per table (core/store/index.ts): a table's name, as Kysely is given it (`'pickups'`,
 * `'pickups.id'`), appears in its store alone — never in a route handler, an SMTP stage, a worker job or a
 * CLI command. Migrations (core/db/) and tests are the only other places that name tables.
 */
const OWNERS: Record<string, readonly string[]> = {
  outbound: ['core/store/outbound.ts', 'core/store/outbound-chunk-rows.ts'],
  outbound_chunks: ['core/store/outbound.ts', 'core/store/outbound-chunk-rows.ts'],
  pickups: ['core/store/pickups.ts'],
  pickup_tombstones: ['core/store/pickups.ts'],
  pickup_sessions: ['core/store/pickups.ts'],
  pickup_replies: ['core/store/pickups.ts'],
  contacts: ['core/store/contacts.ts'],
  users: ['core/users.ts'],
  user_addresses: ['core/users.ts'],
  policy_rules: ['core/policy-rules.ts'],
  audit: ['core/audit.ts'],
  console_keys: ['core/store/console.ts'],
  console_codes: ['core/store/console.ts'],
  console_sessions: ['core/store/console.ts'],
  console_totp: ['core/store/console.ts'],
  sent_recipients: ['core/store/sent.ts'],
  sent_subjects: ['core/store/sent.ts'],
  password_links: ['core/store/console.ts'],
  console_replies: ['core/store/console-replies.ts'],
  setting_overrides: ['core/store/settings.ts'],
  // The key tables belong to the key store (keys/store/).
  sender_keys: ['keys/store/'],
  recipient_keys: ['keys/store/'],
  key_changes: ['keys/store/'],
};

const SOURCE_DIRS = ['core', 'keys', 'gateway', 'worker', 'webmail', 'cli', 'bench'];
const NOT_SOURCE = [
  'core/db/',
  'webmail/pickup/node_modules/',
  'webmail/pickup/dist/',
  'webmail/console/dist/',
];

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    if (NOT_SOURCE.some((p) => `${file}/`.startsWith(p) || file.startsWith(p))) return [];
    if (statSync(file).isDirectory()) return sources(file);
    return /\.(ts|svelte)$/.test(file) ? [file] : [];
  });
}

/** `'table'`, `"table"`, `` `table` ``, or a qualified column `'table.column'`. */
function mentions(text: string, table: string): boolean {
  return new RegExp(`['"\`]${table}(['"\`]|\\.[a-z_]+['"\`])`).test(text);
}

describe('table owners', () => {
  const files = SOURCE_DIRS.flatMap(sources).map((file) => ({ file, text: readFileSync(file, 'utf8') }));

  it('knows an owner for every table the migrations create', () => {
    const migrations = readFileSync('core/db/migrations.ts', 'utf8');
    const created = [...migrations.matchAll(/\.createTable\('([a-z_]+)'\)/g)].map((m) => m[1]);
    assert.deepEqual(created.sort(), Object.keys(OWNERS).sort());
  });

  for (const [table, owners] of Object.entries(OWNERS)) {
    it(`names ${table} only in its store`, () => {
      const allowed = owners;
      const outside = files
        .filter(({ file, text }) => mentions(text, table) && !allowed.some((o) => file.startsWith(o)))
        .map(({ file }) => file);
      assert.deepEqual(outside, [], `${table} is queried outside ${owners.join(', ')}`);
    });
  }

  it('finds what it looks for (the check itself can fail)', () => {
    assert.ok(mentions(".selectFrom('pickups')", 'pickups'));
    assert.ok(mentions(".innerJoin('contacts', 'contacts.id', 'x')", 'contacts'));
    assert.ok(!mentions(".selectFrom('pickups')", 'pickup'));
    assert.ok(files.some(({ file, text }) => file === 'core/store/pickups.ts' && mentions(text, 'pickups')));
  });
});
