import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { renderCodesDoc } from './doc.ts';

/**
 * docs/codes.md as the registry generates it, formatted by prettier with the repository's settings (a
 * devDependency: loaded only here, by `npm run codes` and by the test, never by the services).
 */
export async function generatedCodesDoc(): Promise<string> {
  const prettier = await import('prettier');
  const file = fileURLToPath(new URL('../../docs/codes.md', import.meta.url));
  const options = (await prettier.resolveConfig(file)) ?? {};
  return prettier.format(renderCodesDoc(), { ...options, filepath: file });
}

export const CODES_DOC = fileURLToPath(new URL('../../docs/codes.md', import.meta.url));

// `npm run codes`: write docs/codes.md; `npm run codes -- --check`: exit 1 when it differs.
if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const doc = await generatedCodesDoc();
  if (process.argv.includes('--check')) {
    if (readFileSync(CODES_DOC, 'utf8') !== doc) {
      console.error('docs/codes.md differs from core/codes/: run npm run codes');
      process.exit(1);
    }
  } else {
    writeFileSync(CODES_DOC, doc);
  }
}
