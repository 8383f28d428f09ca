import { chmodSync, lstatSync, mkdirSync, readdirSync, type Stats } from 'node:fs';
import path from 'node:path';
import type { Log } from './log.ts';

/**
 * The data folder holds the SQLite file, the master key, the TLS key, the local Redis (socket and AOF) and
 * the outbox: all of it is for this service's user alone. The folder and every folder in it are 0700,
 * every file 0600 — always, also when the folder existed before (a restore, a copy, an older version) or
 * when SEALPOST_MASTER_KEY is set and no key file was written. Checked and fixed at every start; files made
 * later are private through the process umask (which the local redis-server inherits) and explicit modes.
 */
export const PRIVATE_UMASK = 0o077;
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;
/** Walk at most this deep: the layout is flat (data/redis/appendonlydir is the deepest); a loop is not ours. */
const MAX_DEPTH = 8;

export interface ModeChange {
  path: string;
  from: number;
  to: number;
}

/** Every file Sealpost makes from here on is private (0600 files, 0700 folders), its children's too. */
export function privateUmask(): void {
  process.umask(PRIVATE_UMASK);
}

export function formatMode(mode: number): string {
  return `0${(mode & 0o777).toString(8).padStart(3, '0')}`;
}

/**
 * Create the data folder when missing, then make it and everything in it private. Symbolic links are
 * neither followed nor changed (a link may point at a shared certificate); sockets get 0600 like files.
 * Logs each change (path and modes, never content) as SYS_DATA_DIR_MODE_FIXED. A mode that cannot be
 * fixed (a file of another user) throws: Sealpost does not run on a data folder others can read.
 */
export function secureDataDir(dataDir: string, log: Log): ModeChange[] {
  mkdirSync(dataDir, { recursive: true, mode: DIR_MODE });
  const changes: ModeChange[] = [];
  walk(dataDir, 0, changes);
  for (const c of changes) {
    log.warn('SYS_DATA_DIR_MODE_FIXED', { path: c.path, mode: `${formatMode(c.from)}->${formatMode(c.to)}` });
  }
  return changes;
}

function walk(target: string, depth: number, changes: ModeChange[]): void {
  let stat: Stats;
  try {
    stat = lstatSync(target);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; // removed meanwhile (a temp file)
    throw err;
  }
  if (stat.isSymbolicLink()) return;
  const want = stat.isDirectory() ? DIR_MODE : FILE_MODE;
  // Only access for others is wrong; an owner-only mode stricter than ours (a 0400 master.key) stays.
  if ((stat.mode & 0o077) !== 0) {
    chmodSync(target, want);
    changes.push({ path: target, from: stat.mode & 0o777, to: want });
  }
  if (!stat.isDirectory() || depth >= MAX_DEPTH) return;
  for (const name of readdirSync(target)) walk(path.join(target, name), depth + 1, changes);
}
