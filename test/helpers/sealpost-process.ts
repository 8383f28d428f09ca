import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * A real `sealpost start [service]` in a child process (bin/sealpost.mjs, as `npm start` runs it), on loopback
 * with every port 0, so that a test can send it signals, stop or kill its redis-server, and read its log.
 * The ports it bound are read from its log lines (SYS_*_LISTENING).
 *
 *   const sp = await startSealpostProcess({ dataDir, env: { SEALPOST_MASTER_KEY: hex } });
 *   await sp.waitForLog('SYS_WEBMAIL_LISTENING');
 *   const ms = await sp.terminate();   // SIGTERM; resolves with the time until it exited
 */
export interface SealpostProcessOptions {
  dataDir: string;
  /** `start` alone (all services) or one of gateway, worker, webmail. */
  services?: string[];
  env?: Record<string, string>;
}

export interface LogLine {
  code: string;
  [field: string]: unknown;
}

export interface SealpostProcess {
  readonly child: ChildProcess;
  readonly pid: number;
  /** Everything the child wrote on stdout and stderr so far. */
  output(): string;
  /** The log lines (JSON) so far. */
  lines(): LogLine[];
  /** Resolve with the first log line carrying `code` (also one written before the call). */
  waitForLog(code: string, timeoutMs?: number, where?: (line: LogLine) => boolean): Promise<LogLine>;
  /** The port a listener logged (SYS_GATEWAY_LISTENING service gateway, SYS_WEBMAIL_LISTENING, …). */
  port(code: string, service?: string): number;
  /** Send SIGTERM and resolve with the milliseconds until the process exited. */
  terminate(): Promise<{ ms: number; code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (no cleanup at all, as a crash) and wait until it is gone. */
  kill(): Promise<void>;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const BIN = fileURLToPath(new URL('../../bin/sealpost.mjs', import.meta.url));

export function sealpostEnv(dataDir: string, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) {
    // The parent's settings (a test run's DATABASE_URL, REDIS_URL) are not this child's unless passed.
    if (name.startsWith('SEALPOST_') || name === 'DATABASE_URL' || name === 'REDIS_URL') delete env[name];
  }
  return {
    ...env,
    SEALPOST_DATA_DIR: dataDir,
    SEALPOST_LISTEN_HOST: '127.0.0.1',
    SEALPOST_SMTP_PORT: '0',
    SEALPOST_SMTPS_PORT: '0',
    SEALPOST_HTTP_PORT: '0',
    SEALPOST_INBOUND_PORT: '0',
    SEALPOST_DISCOVERY: 'off',
    SEALPOST_HOSTNAME: 'sealpost.test',
    ...extra,
  };
}

export async function startSealpostProcess(
  options: SealpostProcessOptions,
  readyCode = 'SYS_WEBMAIL_LISTENING',
  timeoutMs = 60_000,
): Promise<SealpostProcess> {
  const child = spawn(process.execPath, [BIN, 'start', ...(options.services ?? [])], {
    cwd: path.dirname(path.dirname(BIN)),
    env: sealpostEnv(options.dataDir, options.env),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let text = '';
  const parsed: LogLine[] = [];
  let pending = '';
  const waiters = new Set<() => void>();
  const onData = (chunk: Buffer): void => {
    text += chunk.toString('utf8');
    pending += chunk.toString('utf8');
    const parts = pending.split('\n');
    pending = parts.pop() ?? '';
    for (const line of parts) {
      try {
        const value = JSON.parse(line) as LogLine;
        if (value && typeof value.code === 'string') parsed.push(value);
      } catch {
        // not a log line (stderr text)
      }
    }
    for (const w of waiters) w();
  };
  child.stdout.on('data', onData);
  child.stderr.on('data', onData);
  const exited = once(child, 'exit').then(([code, signal]) => {
    for (const w of waiters) w();
    return { code: code as number | null, signal: signal as NodeJS.Signals | null };
  });

  const waitForLog = (code: string, ms = 30_000, where: (l: LogLine) => boolean = () => true) =>
    new Promise<LogLine>((resolve, reject) => {
      const check = () => {
        const hit = parsed.find((l) => l.code === code && where(l));
        if (hit) {
          done();
          resolve(hit);
        } else if (child.exitCode !== null || child.signalCode !== null) {
          done();
          reject(new Error(`sealpost exited before logging ${code}:\n${text}`));
        }
      };
      const timer = setTimeout(() => {
        done();
        reject(new Error(`sealpost did not log ${code} within ${ms} ms:\n${text}`));
      }, ms);
      const done = () => {
        clearTimeout(timer);
        waiters.delete(check);
      };
      waiters.add(check);
      check();
    });

  const sp: SealpostProcess = {
    child,
    pid: child.pid!,
    output: () => text,
    lines: () => [...parsed],
    waitForLog,
    port(code, service) {
      const line = parsed.find((l) => l.code === code && (!service || l.service === service));
      if (!line || typeof line.port !== 'number') throw new Error(`no ${code} port in the log:\n${text}`);
      return line.port;
    },
    async terminate() {
      const started = Date.now();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const result = await exited;
      return { ms: Date.now() - started, ...result };
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    exited,
  };
  try {
    await waitForLog(readyCode, timeoutMs);
    // `start` alone: three child processes; every listener is bound once the supervisor logs SYS_STARTED.
    // Their own log lines share the pipe but are written by each process on its own, so the supervisor's
    // line can come first: wait for each child's SYS_STARTED too (after its *_LISTENING lines in its stream).
    if (!options.services?.length) {
      await waitForLog('SYS_STARTED', timeoutMs, (l) => l.service === 'gateway,worker,webmail');
      for (const service of ['gateway', 'worker', 'webmail']) {
        await waitForLog('SYS_STARTED', timeoutMs, (l) => l.service === service);
      }
    }
  } catch (err) {
    await sp.kill();
    throw err;
  }
  return sp;
}
