import { sql } from 'kysely';
import { pendingMigrations, type Db } from './db/index.ts';
import type { LimitStore } from './limit-store.ts';
import type { Log } from './log.ts';
import { ping, type RedisTarget } from './redis.ts';

/**
 * Readiness (`GET /readyz`): whether this process can do its work now, as opposed to `/healthz` (the
 * process is alive). Each check is one named probe with its own deadline, all run at once; a check that
 * hangs (a Redis paused by SIGSTOP, a database host gone) counts as failed after `timeoutMs`. The answer
 * names the failed checks and how they failed, never an address, a URL or an error text.
 * A new condition is one more entry in the list `readinessChecks` returns. The webmail answers it, and a
 * gateway or worker process without the webmail answers it on the same HTTP port (cli/ops-server.ts).
 */
export interface ReadinessCheck {
  readonly name: string;
  run(timeoutMs: number): Promise<void>;
}

export type CheckState = 'ok' | 'timeout' | 'error';

export interface Readiness {
  ready: boolean;
  checks: Record<string, CheckState>;
}

/** Each check's deadline: short, so that a probe answers well within a load balancer's timeout. */
export const READINESS_TIMEOUT_MS = 1_500;

class CheckTimeout extends Error {
  override name = 'CheckTimeout';
}

export async function checkReadiness(
  checks: readonly ReadinessCheck[],
  timeoutMs = READINESS_TIMEOUT_MS,
): Promise<Readiness> {
  const states = await Promise.all(checks.map((c) => runOne(c, timeoutMs)));
  const result: Readiness = { ready: true, checks: {} };
  checks.forEach((c, i) => {
    const state = states[i] ?? 'error';
    result.checks[c.name] = state;
    if (state !== 'ok') result.ready = false;
  });
  return result;
}

async function runOne(check: ReadinessCheck, timeoutMs: number): Promise<CheckState> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new CheckTimeout()), timeoutMs);
  });
  const work = Promise.resolve().then(() => check.run(timeoutMs));
  work.catch(() => undefined); // a late failure after the deadline is already counted
  try {
    await Promise.race([work, late]);
    return 'ok';
  } catch (err) {
    return err instanceof CheckTimeout ? 'timeout' : 'error';
  } finally {
    clearTimeout(timer);
  }
}

/** The database answers a trivial query. */
export function databaseCheck(db: Db): ReadinessCheck {
  return {
    name: 'database',
    run: async () => {
      await sql`select 1`.execute(db.kysely);
    },
  };
}

/** Every migration this code knows has run (an older database restored under it: not ready). */
export function migrationsCheck(db: Db): ReadinessCheck {
  return {
    name: 'migrations',
    run: async () => {
      const pending = await pendingMigrations(db);
      if (pending.length > 0) throw new Error(`${pending.length} migrations not run`);
    },
  };
}

/** Redis answers PING, on a fresh connection (a client of the queue would wait for a reconnect instead). */
export function redisCheck(target: RedisTarget): ReadinessCheck {
  return { name: 'redis', run: (timeoutMs) => ping(target, timeoutMs) };
}

/**
 * The limits' own connection answers (core/limit-store.ts): after Redis comes back, logins and unlocks work
 * only once this connection has reconnected, so the process is not ready before.
 */
export function limitsCheck(limits: Pick<LimitStore, 'ping'>): ReadinessCheck {
  return { name: 'limits', run: () => limits.ping() };
}

/** The checks of a Sealpost process: its database and, where it uses them, its Redis and its limits. */
export function readinessChecks(deps: {
  db: Db;
  redis: RedisTarget;
  limitStore?: Pick<LimitStore, 'ping'>;
}): ReadinessCheck[] {
  const checks = [databaseCheck(deps.db), migrationsCheck(deps.db)];
  if (deps.redis.url || deps.redis.socketPath) checks.push(redisCheck(deps.redis));
  if (deps.limitStore) checks.push(limitsCheck(deps.limitStore));
  return checks;
}

/** The answer of `GET /readyz`: 200 `{ ok, checks }`, or 503 with the code and the failed checks logged. */
export async function readinessAnswer(
  checks: readonly ReadinessCheck[],
  log: Log,
): Promise<{ status: 200 | 503; body: Record<string, unknown> }> {
  const result = await checkReadiness(checks);
  if (result.ready) return { status: 200, body: { ok: true, checks: result.checks } };
  const failed = Object.keys(result.checks).filter((name) => result.checks[name] !== 'ok');
  log.warn('WEB_NOT_READY', { reason: failed.join(',') });
  return { status: 503, body: { ok: false, code: 'WEB_NOT_READY', checks: result.checks } };
}
