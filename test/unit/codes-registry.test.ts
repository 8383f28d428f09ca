import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { allCodes, LOG_EVENT_SECTIONS } from '../../core/codes/index.ts';
import { CODES_DOC, generatedCodesDoc } from '../../core/codes/write-doc.ts';

/** The code registry (core/codes/) is the one source of docs/codes.md. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : [];
  });
}

describe('codes: the registry and docs/codes.md', () => {
  it('docs/codes.md is what `npm run codes` generates from core/codes/', async () => {
    const expected = await generatedCodesDoc();
    assert.ok(
      readFileSync(CODES_DOC, 'utf8') === expected,
      'docs/codes.md differs from the registry: edit core/codes/ and run npm run codes',
    );
  });

  it('every code the services use is in the registry', () => {
    const known = allCodes();
    for (const dir of ['core', 'keys', 'gateway', 'worker', 'webmail', 'cli']) {
      for (const file of sources(dir)) {
        if (file.startsWith(path.join('core', 'codes'))) continue;
        for (const m of readFileSync(file, 'utf8').matchAll(
          /'((?:GW|DLV|SYS|CFG|KEY|WEB|PU|IN|KD|ADM)_[A-Z_]+)'/g,
        ))
          assert.ok(known.has(m[1]!), `${m[1]} (${file}) is not in core/codes/`);
      }
    }
  });

  it('lists each log event once', () => {
    const seen = new Set<string>();
    for (const section of LOG_EVENT_SECTIONS)
      for (const row of section.events)
        for (const code of row.codes) {
          assert.ok(!seen.has(code), `${code} is listed twice in core/codes/events.ts`);
          seen.add(code);
        }
  });
});
