import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { ALL_SEALED_COLUMNS } from '../../keys/index.ts';

/**
 * `sealpost master-key rotate` re-seals the columns their owners list (core/reseal.ts): a blob column the
 * lists forget would keep the old key and stop opening once the previous key is dropped. Every blob column
 * of the schema is either in the lists or named here as not sealed with the master key.
 */
const NOT_MASTER_SEALED: Record<string, string> = {
  // Locked with a key derived from the contact's access code / her password (Argon2id), not the master key.
  'contacts.locked_private_key': 'the contact code',
  'console_keys.locked_private_key': 'her password',
};

function blobColumns(schema: string): string[] {
  const tableOf = new Map(
    [...schema.matchAll(/^\s+([a-z_]+): ([A-Za-z]+Table);$/gm)].map((m) => [m[2]!, m[1]!] as const),
  );
  const out: string[] = [];
  for (const m of schema.matchAll(/export interface ([A-Za-z]+Table) \{([\s\S]*?)\n\}/g)) {
    const table = tableOf.get(m[1]!);
    assert.ok(table, `${m[1]} is a table of Database`);
    for (const c of m[2]!.matchAll(/^\s+([a-z_]+): Uint8Array/gm)) out.push(`${table}.${c[1]}`);
  }
  return out;
}

describe('sealed columns: every blob column is re-sealed by a rotation or locked otherwise', () => {
  const blobs = blobColumns(readFileSync('core/db/schema.ts', 'utf8'));
  const listed = ALL_SEALED_COLUMNS.map((c) => `${c.table}.${c.column}`);

  it('finds the blob columns of the schema (the check itself can fail)', () => {
    assert.ok(blobs.includes('outbound.body') && blobs.includes('contacts.locked_private_key'));
    assert.ok(blobs.length >= 10);
  });

  it('lists every blob column sealed with the master key, and nothing else', () => {
    const expected = blobs.filter((b) => !(b in NOT_MASTER_SEALED)).sort();
    assert.deepEqual([...listed].sort(), expected);
    assert.equal(new Set(listed).size, listed.length, 'no column listed twice');
  });
});
