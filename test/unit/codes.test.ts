import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { CODES } from '../../core/errors.ts';

/** docs/codes.md is the operator's table of codes: every code the code can emit must be in it. */
function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const file = path.join(dir, name);
    return statSync(file).isDirectory() ? sources(file) : file.endsWith('.ts') ? [file] : [];
  });
}

describe('codes', () => {
  const doc = readFileSync('docs/codes.md', 'utf8');

  it('documents every reply code of core/errors.ts', () => {
    for (const code of Object.keys(CODES))
      assert.ok(doc.includes(`\`${code}\``), `${code} missing in docs/codes.md`);
  });

  it('documents every log event code used in the services', () => {
    const used = new Set<string>();
    for (const dir of ['core', 'keys', 'gateway', 'worker', 'webmail', 'cli']) {
      for (const file of sources(dir)) {
        for (const m of readFileSync(file, 'utf8').matchAll(
          /'((?:GW|DLV|SYS|CFG|KEY|WEB|PU|IN|KD|ADM)_[A-Z_]+)'/g,
        ))
          used.add(m[1]!);
      }
    }
    for (const code of used) assert.ok(doc.includes(code), `${code} missing in docs/codes.md`);
  });

  it('gives every reply code an SMTP class that matches its enhanced status', () => {
    for (const [code, row] of Object.entries(CODES)) {
      assert.equal(String(row.smtp)[0], row.enhanced[0], code);
    }
  });
});
