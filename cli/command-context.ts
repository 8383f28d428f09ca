import type { Clock } from '../core/clock.ts';
import { loadConfig, type Config } from '../core/config.ts';
import type { Db } from '../core/db/index.ts';
import { createLog, type Log } from '../core/log.ts';
import type { PolicyRuleStore } from '../core/policy-rules.ts';
import type { Sealer } from '../core/seal.ts';
import type { UserStore } from '../core/users.ts';
import type { KeyStore } from '../keys/index.ts';
import { createSealpost } from './sealpost.ts';

/** Everything an admin command needs: built from the environment, closed after the command. */
export interface CliContext {
  config: Config;
  db: Db;
  log: Log;
  clock: Clock;
  sealer: Sealer;
  users: UserStore;
  keys: KeyStore;
  rules: PolicyRuleStore;
  close(): Promise<void>;
}

export async function openContext(options: { logToStderr?: boolean } = {}): Promise<CliContext> {
  const config = loadConfig();
  // Admin commands print for a person on stdout; their log lines (warnings only) go to stderr.
  const log = createLog({
    level: options.logToStderr === false ? 'silent' : 'warn',
    destination: process.stderr,
  });
  // The composition root without a service: database, stores, key store; no Redis, no discovery.
  const sealpost = await createSealpost(config, { services: [], overrides: { log, discovery: null } });
  const { db, clock, sealer } = sealpost.deps;
  return {
    config,
    db,
    log,
    clock,
    sealer,
    users: db.stores.users,
    keys: sealpost.keys,
    rules: db.stores.rules,
    close: () => sealpost.close(),
  };
}

/** Run an admin command in a fresh context and close it afterwards, whatever happens. */
export async function withContext<T>(fn: (ctx: CliContext) => Promise<T>): Promise<T> {
  const ctx = await openContext();
  try {
    return await fn(ctx);
  } finally {
    await ctx.close();
  }
}
