import { execFile } from 'node:child_process';

/**
 * The real `sealpost` command in a child process on a data folder of its own (discovery off: no network
 * in tests), with `input` as its standard input (a pipe, so never a terminal).
 */
export function sealpostCli(
  dataDir: string,
  args: string[],
  input?: string,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      ['bin/sealpost.mjs', ...args],
      {
        env: {
          PATH: process.env.PATH,
          SEALPOST_DATA_DIR: dataDir,
          SEALPOST_DISCOVERY: 'off',
          SEALPOST_LOG_LEVEL: 'warn',
        },
        timeout: 60_000,
        maxBuffer: 4 * 1024 * 1024,
      },
      (err, stdout, stderr) =>
        resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(input ?? '');
  });
}
