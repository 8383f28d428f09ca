/**
 * Moved to keys/openpgp/ (issue 12). This re-export stays only for the modules the parallel h12-stores
 * branch edits (keys/contacts.ts, bench/stack.ts); delete it once they import keys/openpgp/index.ts.
 */
export * from './openpgp/index.ts';
