import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { subresourceIntegrity } from './sri.ts';

/**
 * The pickup app's own bundle (DESIGN.md: no admin code in it): `npm run build:web` writes
 * webmail/pickup/dist/, served by webmail/pages.ts. Hashed file names under /assets/ are cached forever;
 * index.html carries SRI hashes and is never cached. No source maps in the shipped output.
 */
const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: '/',
  publicDir: false,
  plugins: [svelte(), subresourceIntegrity()],
  build: {
    outDir: path.join(root, 'dist'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    chunkSizeWarningLimit: 600,
  },
  worker: { format: 'es' },
  logLevel: 'warn',
});
