import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { defineConfig } from 'vite';
import { subresourceIntegrity } from '../pickup/sri.ts';

/**
 * The practitioner's console, a bundle of its own (docs/console.md): `npm run build:web` writes
 * webmail/console/dist/, served by webmail/pages.ts at /console with its files under /console/assets/.
 * It shares the pickup app's Argon2id, lock and display helpers (imported from webmail/pickup/src/lib/),
 * and none of the pickup app's screens. SRI on index.html, no source maps.
 */
const root = path.dirname(fileURLToPath(import.meta.url));

export default defineConfig({
  root,
  base: '/console/',
  publicDir: false,
  plugins: [svelte(), subresourceIntegrity('/console/')],
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
