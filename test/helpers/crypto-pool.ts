import { createCryptoPool, type CryptoPool } from '../../keys/index.ts';

/**
 * One crypto pool for the test process (as one per Sealpost process), made at first use and closed by the
 * root hook after the run (test/helpers/hooks.ts). Two threads: what a small machine gives Sealpost.
 */
let shared: CryptoPool | undefined;

export function testCryptoPool(): CryptoPool {
  shared ??= createCryptoPool({ threads: 2 });
  return shared;
}

export async function closeTestCryptoPool(): Promise<void> {
  const pool = shared;
  shared = undefined;
  await pool?.close();
}
