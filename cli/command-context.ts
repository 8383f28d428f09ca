import { systemClock, type Clock } from '../core/clock.ts';
import { loadConfig, type Config } from '../core/config.ts';
import { openDb, type Db } from '../core/db/index.ts';
import { createLog, type Log } from '../core/log.ts';
import { loadOrCreateMasterKey } from '../core/master-key.ts';
import { PolicyRuleStore } from '../core/policy-rules.ts';
import { Sealer } from '../core/seal.ts';
import { UserStore } from '../core/users.ts';
import { KeyStore } from '../keys/index.ts';

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
  const sealer = new Sealer(
    loadOrCreateMasterKey({ dataDir: config.dataDir, fromEnv: config.masterKey, log }),
  );
  const db = await openDb({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
  const clock = systemClock;
  return {
    config,
    db,
    log,
    clock,
    sealer,
    users: new UserStore(db.kysely),
    keys: new KeyStore({ db: db.kysely, sealer, clock, log, keyChange: config.discovery.keyChange }),
    rules: new PolicyRuleStore(db.kysely),
    close: () => db.close(),
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
