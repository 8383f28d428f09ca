// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';

/**
 * Dependency direction (DESIGN.md "Layout"): gateway, worker, webmail, cli → keys → core.
 * No service imports another service; core imports nothing of ours above it; only keys/openpgp/boundary.ts
 * imports openpgp, and only its siblings in keys/openpgp/ import it (everyone else uses keys/openpgp/index.ts).
 */
const services = ['gateway', 'worker', 'webmail'];
const forbid = (folders) => folders.flatMap((f) => [`../${f}/*`, `../../${f}/*`, `../${f}`, `../../${f}`]);
const layer = (folder, forbidden, extra = []) => ({
  files: [folder.endsWith('.ts') ? folder : `${folder}/**/*.ts`],
  rules: {
    'no-restricted-imports': [
      'error',
      {
        patterns: [
          ...(forbidden.length
            ? [
                {
                  group: forbid(forbidden),
                  message: `${folder}/ may not import from ${forbidden.join(', ')} (DESIGN.md: dependencies flow one way)`,
                },
              ]
            : []),
          ...extra,
        ],
      },
    ],
  },
});
const noOpenpgp = {
  regex: '^openpgp(/.*)?$',
  message: 'Only keys/openpgp/boundary.ts imports openpgp (the OpenPGP boundary).',
};
const noBoundary = {
  regex: '(^|/)openpgp/boundary(\\.ts)?$',
  message: 'Only keys/openpgp/* use the boundary module; import keys/openpgp/index.ts instead.',
};

export default tseslint.config(
  {
    ignores: [
      'node_modules/**',
      'data/**',
      'test-output/**',
      'dist/**',
      'webmail/pickup/dist/**',
      'webmail/console/dist/**',
      'tmp-scratch/**',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-console': ['error', { allow: ['error'] }],
    },
  },
  { files: ['**/*.js', '**/*.mjs'], ...tseslint.configs.disableTypeChecked },
  {
    files: ['**/*.js', '**/*.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly', URL: 'readonly' } },
    rules: { 'no-console': 'off' },
  },
  layer('core', ['keys', 'cli', ...services], [noOpenpgp]),
  layer('keys', ['cli', ...services], [noOpenpgp, noBoundary]),
  layer('keys/openpgp', ['cli', ...services], [noOpenpgp]),
  layer('keys/openpgp/boundary.ts', ['cli', ...services]),
  layer('gateway', ['cli', 'worker', 'webmail'], [noOpenpgp]),
  layer('worker', ['cli', 'gateway', 'webmail'], [noOpenpgp]),
  layer('webmail', ['cli', 'gateway', 'worker'], [noOpenpgp]),
  layer('cli', [], [noOpenpgp]),
  { files: ['cli/**/*.ts', 'bench/**/*.ts', 'bin/**'], rules: { 'no-console': 'off' } },
  // Size rules (issue 12): a source file a newcomer can read, a function that fits on a screen. Not tests.
  {
    files: ['{core,keys,gateway,worker,webmail,cli,bench,bin}/**/*.{ts,mjs,svelte}'],
    rules: {
      'max-lines': ['error', { max: 400, skipBlankLines: true, skipComments: true }],
      'max-lines-per-function': ['error', { max: 80, skipBlankLines: true, skipComments: true }],
    },
  },
  {
    // Data tables, not logic: the migrations are one list of schema steps, the registry one list of codes.
    files: ['core/db/migrations.ts', 'core/codes/smtp.ts', 'core/codes/http.ts'],
    rules: { 'max-lines': 'off', 'max-lines-per-function': 'off' },
  },
  // The pickup app (browser code, its own bundle): no server code at all, and openpgp.js only in its own
  // boundary module, as keys/openpgp/boundary.ts is for the server.
  ...svelte.configs.recommended,
  {
    files: [
      'webmail/pickup/src/**/*.ts',
      'webmail/pickup/src/**/*.svelte',
      'webmail/console/src/**/*.ts',
      'webmail/console/src/**/*.svelte',
    ],
    languageOptions: {
      parserOptions: { projectService: true, extraFileExtensions: ['.svelte'], parser: tseslint.parser },
    },
    rules: {
      'no-undef': 'off', // TypeScript (svelte-check, DOM lib) knows the browser's globals
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: [
                '**/core/*',
                '**/keys/*',
                '**/gateway/*',
                '**/worker/*',
                '**/cli/*',
                '**/webmail/api/*',
                'node:*',
              ],
              message: 'The pickup app is browser code: it imports no server module (DESIGN.md "Layout").',
            },
            { ...noOpenpgp, message: 'In the pickup app only src/lib/pgp.ts imports openpgp.' },
          ],
        },
      ],
    },
  },
  {
    // The console's OpenPGP boundary, as pgp.ts is the pickup app's.
    files: ['webmail/pickup/src/lib/pgp.ts', 'webmail/console/src/lib/console-key.ts'],
    rules: { 'no-restricted-imports': 'off' },
  },
  {
    files: ['test/**/*.ts'],
    rules: { 'no-console': 'off', '@typescript-eslint/no-non-null-assertion': 'off' },
  },
);
