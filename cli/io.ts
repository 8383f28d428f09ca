import type { LogEventCode } from '../core/codes/index.ts';
import { createInterface } from 'node:readline';
import { Writable } from 'node:stream';

/** Read all of stdin (for `key import -` and a piped password). */
export async function readStdin(limitBytes = 10 * 1024 * 1024): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of process.stdin) {
    size += (chunk as Buffer).length;
    if (size > limitBytes) throw new UsageError(`standard input is larger than ${limitBytes} bytes`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}

/** A password from stdin: typed without echo on a terminal, or the first line of piped input. */
export async function readPassword(prompt: string): Promise<string> {
  if (!process.stdin.isTTY) {
    const text = (await readStdin(64 * 1024)).toString('utf8');
    return text.split(/\r?\n/)[0] ?? '';
  }
  const muted = new Writable({ write: (_chunk, _enc, cb) => cb() });
  process.stderr.write(prompt);
  const rl = createInterface({ input: process.stdin, output: muted, terminal: true });
  const answer = await new Promise<string>((resolve) => rl.question('', resolve));
  rl.close();
  process.stderr.write('\n');
  return answer;
}

/**
 * A new passphrase, asked twice: typed without echo on a terminal, or the first two lines of piped input
 * (so that a script, or the acceptance check, can give it). Returns both answers; the caller compares.
 */
export async function readNewPassphrase(prompts: [string, string]): Promise<[string, string]> {
  if (!process.stdin.isTTY) {
    const lines = (await readStdin(64 * 1024)).toString('utf8').split(/\r?\n/);
    return [lines[0] ?? '', lines[1] ?? ''];
  }
  return [await readPassword(prompts[0]), await readPassword(prompts[1])];
}

/**
 * A command refused what it was given, with a code of the registry (core/codes/events.ts, "Command
 * line"): printed as `sealpost: CODE: message` on stderr, no usage text, exit code 65 (EX_DATAERR).
 */
export class CommandError extends Error {
  override name = 'CommandError';
  constructor(
    readonly code: LogEventCode,
    message: string,
  ) {
    super(message);
  }
}

/** A mistake in how a command was called: printed with the usage, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}
