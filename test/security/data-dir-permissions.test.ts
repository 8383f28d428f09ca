import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chmodSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { formatMode, secureDataDir } from '../../core/data-dir.ts';
import { openDb } from '../../core/db/index.ts';
import { captureLog } from '../helpers/log.ts';
import { startSealpostProcess } from '../helpers/sealpost-process.ts';
import { tmpDir } from '../helpers/tmp.ts';

/**
 * The data folder holds the database, the master key, the TLS key, the local Redis's AOF and socket and the
 * outbox. With SEALPOST_MASTER_KEY set, or a folder that existed before, it stayed 0755 and sealpost.db
 * 0644: readable by every local user. Now the folder and every folder in it are 0700 and every file 0600,
 * checked and fixed at every start (logged SYS_DATA_DIR_MODE_FIXED with the path, never content), and
 * whatever is made later (SQLite's -wal and -shm, Redis's AOF, outbox files, TLS files) is private too.
 */
const SECRET_CONTENT = 'do-not-log-this-content';

/** Every entry under `dir` with its mode (symbolic links not followed). */
function modes(dir: string): { path: string; mode: number; kind: 'dir' | 'file' | 'link' }[] {
  const out: { path: string; mode: number; kind: 'dir' | 'file' | 'link' }[] = [];
  const walk = (p: string) => {
    const st = lstatSync(p);
    const kind = st.isSymbolicLink() ? 'link' : st.isDirectory() ? 'dir' : 'file';
    out.push({ path: path.relative(dir, p) || '.', mode: st.mode & 0o777, kind });
    if (kind === 'dir') for (const n of readdirSync(p)) walk(path.join(p, n));
  };
  walk(dir);
  return out;
}

function assertPrivate(dir: string): void {
  for (const e of modes(dir)) {
    if (e.kind === 'link') continue;
    if (e.kind === 'dir') assert.equal(formatMode(e.mode), '0700', `${e.path} is a private folder`);
    else assert.equal(e.mode & 0o077, 0, `${e.path} (${formatMode(e.mode)}) is readable by others`);
  }
}

/** A data folder as a restore or an older version leaves it: 0755 folders, 0644 files. */
function looseDataDir(): { dir: string; cleanup: () => void; outside: string } {
  const tmp = tmpDir('sealpost-perm-');
  const dir = path.join(tmp.dir, 'data');
  mkdirSync(path.join(dir, 'outbox'), { recursive: true });
  mkdirSync(path.join(dir, 'backup', 'old'), { recursive: true });
  writeFileSync(path.join(dir, 'outbox', 'old.eml'), SECRET_CONTENT);
  writeFileSync(path.join(dir, 'backup', 'old', 'notes.txt'), SECRET_CONTENT);
  const outside = path.join(tmp.dir, 'shared-cert.pem');
  writeFileSync(outside, 'a shared certificate');
  chmodSync(outside, 0o644);
  symlinkSync(outside, path.join(dir, 'cert-link.pem'));
  for (const p of [dir, path.join(dir, 'outbox'), path.join(dir, 'backup'), path.join(dir, 'backup', 'old')])
    chmodSync(p, 0o755);
  for (const p of [path.join(dir, 'outbox', 'old.eml'), path.join(dir, 'backup', 'old', 'notes.txt')])
    chmodSync(p, 0o644);
  return { dir, cleanup: tmp.cleanup, outside };
}

describe('security: the data folder is private', function () {
  this.timeout(120_000);
  let cleanups: (() => Promise<void> | void)[] = [];
  afterEach(async () => {
    for (const fn of cleanups.reverse())
      await Promise.resolve()
        .then(fn)
        .catch(() => undefined);
    cleanups = [];
  });

  it('fixes a loose folder and its files, logs each path and mode, never follows a link', async () => {
    const loose = looseDataDir();
    cleanups.push(loose.cleanup);
    // A database file made the way an older Sealpost made it (umask 022: 0644).
    const db = await openDb({ dataDir: loose.dir });
    await db.close();
    chmodSync(path.join(loose.dir, 'sealpost.db'), 0o644);
    const capture = captureLog('debug');
    const changes = secureDataDir(loose.dir, capture.log);
    assertPrivate(loose.dir);
    assert.equal(statSync(loose.outside).mode & 0o777, 0o644, 'a linked file outside is not ours to change');
    const fixed = capture.lines.map((l) => JSON.parse(l) as { code: string; path: string; mode: string });
    assert.ok(fixed.every((l) => l.code === 'SYS_DATA_DIR_MODE_FIXED'));
    assert.deepEqual(fixed.map((l) => `${path.relative(loose.dir, l.path) || '.'} ${l.mode}`).sort(), [
      '. 0755->0700',
      'backup 0755->0700',
      'backup/old 0755->0700',
      'backup/old/notes.txt 0644->0600',
      'outbox 0755->0700',
      'outbox/old.eml 0644->0600',
      'sealpost.db 0644->0600',
    ]);
    assert.equal(changes.length, 7);
    assert.doesNotMatch(capture.text(), new RegExp(SECRET_CONTENT));
    assert.deepEqual(secureDataDir(loose.dir, capture.log), [], 'a second start finds nothing to fix');
  });

  it('`sealpost start` with SEALPOST_MASTER_KEY on an existing folder leaves nothing readable by others', async () => {
    const loose = looseDataDir();
    cleanups.push(loose.cleanup);
    const sp = await startSealpostProcess({
      dataDir: loose.dir,
      env: { SEALPOST_MASTER_KEY: randomBytes(32).toString('hex') },
    });
    cleanups.push(() => sp.kill());
    assert.ok(sp.lines().some((l) => l.code === 'SYS_DATA_DIR_MODE_FIXED' && l.path === loose.dir));
    const names = modes(loose.dir).map((e) => e.path);
    for (const made of ['sealpost.db', 'sealpost.db-wal', 'tls/key.pem', 'tls/cert.pem', 'redis/redis.sock'])
      assert.ok(names.includes(made), `${made} exists`);
    assert.ok(
      names.some((n) => n.startsWith('redis/appendonlydir/')),
      'the AOF exists',
    );
    assertPrivate(loose.dir);
    assert.doesNotMatch(sp.output(), new RegExp(SECRET_CONTENT));
    await sp.terminate();
  });
});
