import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Log } from './log.ts';
import { newMasterKey, parseMasterKey } from './seal.ts';

/**
 * The master key seals sender private keys and the spool at rest. It comes from SEALPOST_MASTER_KEY, or
 * from `<dataDir>/master.key`, which is created (mode 0600) on first start with a warning: losing it
 * loses every sender's private key, so it must be backed up apart from the database.
 */
export function loadOrCreateMasterKey(input: {
  dataDir: string;
  fromEnv?: string | undefined;
  log: Log;
}): Buffer {
  if (input.fromEnv) return parseMasterKey(input.fromEnv);
  const file = path.join(input.dataDir, 'master.key');
  if (existsSync(file)) return parseMasterKey(readFileSync(file, 'utf8'));
  mkdirSync(input.dataDir, { recursive: true, mode: 0o700 });
  writeFileSync(file, `${newMasterKey()}\n`, { mode: 0o600, flag: 'wx' });
  input.log.warn('CFG_MASTER_KEY_CREATED', { path: file });
  return parseMasterKey(readFileSync(file, 'utf8'));
}
