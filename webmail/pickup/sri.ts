import { createHash } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Plugin } from 'vite';

/**
 * Subresource Integrity for the built index.html: every `<script src>` and `<link href>` that names a file
 * of the bundle gets `integrity="sha384-…"` of the bytes as written. It runs in writeBundle, after every
 * other step (minification, preload rewriting) has produced the final files, and hashes what is on disk.
 * A tag that names a missing file fails the build: an index.html without integrity is never shipped.
 */
/** `base` is the bundle's Vite base (`/console/` for the console): stripped from a tag's path to find its file. */
export function subresourceIntegrity(base = '/'): Plugin {
  return {
    name: 'sealpost-sri',
    apply: 'build',
    enforce: 'post',
    writeBundle(options) {
      const dir = options.dir;
      if (!dir) return this.error('sri: no output directory');
      const htmlFile = path.join(dir, 'index.html');
      const hashOf = (file: string): string => {
        const prefix = base.replace(/^\/+/, '');
        const full = path.resolve(dir, file.startsWith(prefix) ? file.slice(prefix.length) : file);
        if (!full.startsWith(path.resolve(dir) + path.sep)) this.error(`sri: ${file} is outside the bundle`);
        return `sha384-${createHash('sha384').update(readFileSync(full)).digest('base64')}`;
      };
      let tags = 0;
      const html = readFileSync(htmlFile, 'utf8').replace(
        /<(script|link)\b([^>]*?)\s(src|href)="\/([^"]+)"([^>]*)>/g,
        (_m, tag: string, before: string, attr: string, file: string, after: string) => {
          if (`${before}${after}`.includes('integrity=')) this.error('sri: a tag already has integrity');
          tags++;
          const cors = /\scrossorigin\b/.test(`${before}${after}`) ? '' : ' crossorigin';
          return `<${tag}${before} ${attr}="/${file}" integrity="${hashOf(file)}"${cors}${after}>`;
        },
      );
      if (tags === 0) this.error('sri: no script or link tags found');
      writeFileSync(htmlFile, html);
    },
  };
}
