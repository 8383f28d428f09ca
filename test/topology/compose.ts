import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { z } from 'zod';
import { Redis } from 'ioredis';

/**
 * docker-compose.yml read as the topology test needs it: per service its command and environment, with
 * `${VAR:-default}` / `${VAR:?message}` resolved from a map the test gives (as docker-compose would from the
 * shell), and the compose host names (postgres, redis) mapped to loopback.
 */
const COMPOSE = fileURLToPath(new URL('../../docker-compose.yml', import.meta.url));

const serviceSchema = z.object({
  command: z.union([z.string(), z.array(z.string())]).optional(),
  environment: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])).optional(),
});
const composeSchema = z.object({ services: z.record(z.string(), serviceSchema) });

export interface ComposeService {
  command: string[];
  environment: Record<string, string>;
}

export function readCompose(vars: Record<string, string>): Record<string, ComposeService> {
  const doc = composeSchema.parse(parse(readFileSync(COMPOSE, 'utf8'), { merge: true }));
  const out: Record<string, ComposeService> = {};
  for (const [name, service] of Object.entries(doc.services)) {
    const command =
      typeof service.command === 'string' ? service.command.split(/\s+/) : (service.command ?? []);
    const environment: Record<string, string> = {};
    for (const [key, value] of Object.entries(service.environment ?? {})) {
      environment[key] = interpolate(value === null ? '' : String(value), vars);
    }
    out[name] = { command, environment };
  }
  return out;
}

/** docker-compose's variable substitution: $VAR, ${VAR}, ${VAR:-default}, ${VAR-default}, ${VAR:?err}. */
export function interpolate(text: string, vars: Record<string, string>): string {
  return text.replace(
    /\$\$|\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(:?)([-?])([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)/g,
    (whole, name?: string, colon?: string, op?: string, arg?: string, bare?: string) => {
      if (whole === '$$') return '$';
      const key = name ?? bare ?? '';
      const value = vars[key];
      const missing = value === undefined || (colon === ':' && value === '');
      if (!missing) return value;
      if (op === '?') throw new Error(`docker-compose.yml: ${key}: ${arg ?? 'required'}`);
      return op === '-' ? (arg ?? '') : '';
    },
  );
}

/** Compose host names to loopback: postgres:5432 stays on its port, redis:6379 becomes the test's port. */
export function toLoopback(value: string, redisPort: number): string {
  return value
    .replace(/@postgres:/g, '@127.0.0.1:')
    .replace(/redis:\/\/redis:6379/g, `redis://127.0.0.1:${redisPort}`);
}

/** The `sealpost start <service>` of a compose service (the image's entrypoint is bin/sealpost.mjs). */
export function startServices(service: ComposeService, name: string): string[] {
  const [verb, ...rest] = service.command;
  if (verb !== 'start' || rest.length === 0) {
    throw new Error(
      `docker-compose.yml: ${name}: command ${service.command.join(' ')} is not "start <service>"`,
    );
  }
  return rest;
}

export async function freePort(): Promise<number> {
  const server = net.createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as net.AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export interface TcpRedis {
  readonly port: number;
  readonly url: string;
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

/**
 * The compose file's redis command (AOF, everysec, noeviction), on a free loopback port and a temp folder:
 * one redis-server for all the processes of the topology.
 */
export async function startComposeRedis(service: ComposeService, dir: string): Promise<TcpRedis> {
  const [binary, ...args] = service.command;
  if (binary !== 'redis-server') throw new Error(`docker-compose.yml: redis command ${binary ?? ''}`);
  const port = await freePort();
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const child = spawn(
    binary,
    [...args, '--port', String(port), '--bind', '127.0.0.1', '--dir', dir, '--save', '', '--logfile', ''],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let errors = '';
  child.stderr?.on('data', (chunk: Buffer) => (errors += chunk.toString('utf8')));
  const exited = once(child, 'exit');
  const url = `redis://127.0.0.1:${port}`;
  const deadline = Date.now() + 10_000;
  for (;;) {
    const client = new Redis(port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 0 });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if ((await client.ping()) === 'PONG') break;
    } catch {
      if (Date.now() > deadline || child.exitCode !== null)
        throw new Error(`redis-server did not start: ${errors}`);
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      client.disconnect();
    }
  }
  return {
    port,
    url,
    child,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await exited;
    },
  };
}
