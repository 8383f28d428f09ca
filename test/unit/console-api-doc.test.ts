import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { CONSOLE_API_DOC, generatedConsoleApiDoc } from '../../cli/api-doc.ts';
import { CONSOLE_ROUTE_TABLE } from '../../webmail/console-api/table.ts';

/**
 * The console API is documented from its route table and zod schemas (cli/api-doc.ts, `npm run docs:api`):
 * the checked-in docs/console-api.md must be what the script generates, and every row needs a summary.
 */

describe('console API documentation from the route table', () => {
  it('every route row has a one-line summary', () => {
    const missing = CONSOLE_ROUTE_TABLE.filter((r) => !r.summary?.trim());
    assert.deepEqual(
      missing.map((r) => `${r.method} ${r.path}`),
      [],
      'add a summary to these rows',
    );
    for (const r of CONSOLE_ROUTE_TABLE) assert.ok(!r.summary?.includes('\n'), `${r.path}: one line`);
  });

  it('docs/console-api.md is what npm run docs:api generates', async () => {
    const expected = await generatedConsoleApiDoc();
    assert.ok(
      readFileSync(CONSOLE_API_DOC, 'utf8') === expected,
      'docs/console-api.md differs from the route table: run npm run docs:api',
    );
  });
});
