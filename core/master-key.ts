import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Config } from './config.ts';
import { ConfigError } from './config.ts';
import type { Log } from './log.ts';
import { newMasterKey, parseMasterKey, Sealer } from './seal.ts';

/**
 * The master key seals sender private keys and the spool at rest. It comes from SEALPOST_MASTER_KEY, or
 * from the file SEALPOST_MASTER_KEY_FILE names (a container secret), or from `<dataDir>/master.key`, which
 * is created (mode 0600) on first start with a warning: losing it loses every sender's private key, so it
 * must be backed up apart from the database.
 */
export function loadOrCreateMasterKey(input: {
  dataDir: string;
  fromEnv?: string | undefined;
  fromFile?: string | undefined;
  log: Log;
}): Buffer {
  if (input.fromEnv) return parseMasterKey(input.fromEnv);
  if (input.fromFile) return readKeys(input.fromFile, 'SEALPOST_MASTER_KEY_FILE', { one: true })[0]!;
  const file = path.join(input.dataDir, 'master.key');
  if (existsSync(file)) return parseMasterKey(readFileSync(file, 'utf8'));
  mkdirSync(input.dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${newMasterKey()}\n`, { mode: 0o600, flag: 'wx' });
  input.log.warn('CFG_MASTER_KEY_CREATED', { path: file });
  return parseMasterKey(readFileSync(file, 'utf8'));
}

/**
 * Whether a current master key is given (SEALPOST_MASTER_KEY or _FILE) or already in the data folder:
 * `sealpost master-key rotate` must never make a new one and re-seal every row with a key nobody else has.
 */
export function hasMasterKey(config: Pick<Config, 'dataDir' | 'masterKey' | 'masterKeyFile'>): boolean {
  return (
    Boolean(config.masterKey || config.masterKeyFile) || existsSync(path.join(config.dataDir, 'master.key'))
  );
}

/**
 * The keys of before a rotation (docs/backup.md "Rotating the master key"): SEALPOST_MASTER_KEY_PREVIOUS
 * (comma-separated) and the file SEALPOST_MASTER_KEY_PREVIOUS_FILE (one key a line). Opened, never sealed with.
 */
export function previousMasterKeys(
  config: Pick<Config, 'masterKeyPrevious' | 'masterKeyPreviousFile'>,
): Buffer[] {
  const fromFile = config.masterKeyPreviousFile
    ? readKeys(config.masterKeyPreviousFile, 'SEALPOST_MASTER_KEY_PREVIOUS_FILE', { one: false })
    : [];
  return [...config.masterKeyPrevious.map((k) => parseMasterKey(k)), ...fromFile];
}

/** The process's sealer: the current master key, and the previous ones to open what they sealed. */
export function sealerFromConfig(
  config: Pick<
    Config,
    'dataDir' | 'masterKey' | 'masterKeyFile' | 'masterKeyPrevious' | 'masterKeyPreviousFile'
  >,
  log: Log,
): Sealer {
  const current = loadOrCreateMasterKey({
    dataDir: config.dataDir,
    fromEnv: config.masterKey,
    fromFile: config.masterKeyFile,
    log,
  });
  return new Sealer(current, previousMasterKeys(config));
}

/** Keys from a file: one a line (blank lines and `#` comments skipped); the error names the file, not its text. */
function readKeys(file: string, variable: string, options: { one: boolean }): Buffer[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(
      `${variable}: cannot read ${file} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
    );
  }
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length === 0 || (options.one && lines.length !== 1)) {
    throw new ConfigError(`${variable}: ${file} must hold ${options.one ? 'one key' : 'one key a line'}`);
  }
  return lines.map((line, i) => {
    try {
      return parseMasterKey(line);
    } catch {
      throw new ConfigError(
        `${variable}: line ${i + 1} of ${file} is not 32 bytes as 64 hex digits or base64`,
      );
    }
  });
}
