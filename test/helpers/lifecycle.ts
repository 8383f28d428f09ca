import { readFileSync } from 'node:fs';
import path from 'node:path';

/** Helpers of the process-lifecycle tests (SIGTERM, the local Redis, readiness). */

/** Whether a process with this pid runs (and is not a zombie). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2)[0] !== 'Z';
  } catch {
    return false;
  }
}

export function redisDir(dataDir: string): string {
  return path.join(dataDir, 'redis');
}

/** Poll a condition with a deadline (no fixed sleeps). */
export async function until(
  what: string,
  cond: () => Promise<boolean> | boolean,
  timeoutMs = 20_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** GET a path of a local HTTP port: status and JSON body. */
export async function getJson(port: number, urlPath: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`http://127.0.0.1:${port}${urlPath}`);
  return { status: res.status, body: (await res.json()) as unknown };
}

/** The pid of the redis-server a process started (its child), read from /proc. */
export function childRedisPid(pid: number): number | undefined {
  let children: string[];
  try {
    children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/);
  } catch {
    return undefined;
  }
  for (const child of children.filter(Boolean).map(Number)) {
    try {
      if (readFileSync(`/proc/${child}/cmdline`, 'utf8').includes('redis-server')) return child;
    } catch {
      // gone meanwhile
    }
  }
  return undefined;
}
