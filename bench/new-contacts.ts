import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { BenchClient } from './smtp-client.ts';
import { PASSWORD, RECIPIENT, SENDER } from './stack.ts';
import { startSink } from '../test/helpers/sink.ts';

/**
 * `BENCH_ONLY=new-contacts`: one message to N new pickup contacts (each a key pair and Argon2id, 64 MiB,
 * t=1 for an issued code), with the contacts' work on the event loop (BENCH_CRYPTO=inline, as before the
 * crypto pool) and in the pool. Measured: end-of-DATA→250 of that message, the Sealpost process's peak
 * RSS above idle, and the end-of-DATA→250 of another client's messages (pickups to a known contact, one
 * after the other on one connection) sent while the big message is in DATA.
 */
export interface NewContactsResult {
  crypto: 'inline' | 'pool';
  contacts: number;
  dataMs: number;
  rssAboveIdleMb: number;
  others: { count: number; p50: number; max: number };
}

const SIZE = 20 * 1024;

function body(n: number): Buffer {
  const text = `From: <${SENDER}>\r\nTo: undisclosed-recipients:;\r\nSubject: n${n}\r\n\r\n${'x'.repeat(SIZE)}\r\n`;
  return Buffer.from(text, 'latin1');
}

function rss(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
}

async function start(
  crypto: 'inline' | 'pool',
  relay: string,
): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/stack-main.ts', 'pickup', relay], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, BENCH_CRYPTO: crypto },
  });
  const [first] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  return { child, port: (JSON.parse(first) as { port: number }).port };
}

export async function newContactsRun(
  crypto: 'inline' | 'pool',
  contacts: number,
): Promise<NewContactsResult> {
  const sink = await startSink();
  const { child, port } = await start(crypto, sink.relayUrl);
  try {
    const other = await BenchClient.connect(port, SENDER, PASSWORD);
    await other.send(SENDER, RECIPIENT, body(0)); // RECIPIENT becomes a known contact; code paths warm
    await new Promise((r) => setTimeout(r, 1000)); // let the child settle before the idle reading
    const idle = rss(child.pid!);
    let peak = idle;
    const timer = setInterval(() => (peak = Math.max(peak, rss(child.pid!))), 20);
    const big = await BenchClient.connect(port, SENDER, PASSWORD);
    const to = Array.from({ length: contacts }, (_, i) => `new${i}-${Date.now()}@example.org`);
    let done = false;
    const bigMs = big.send(SENDER, to, body(1)).finally(() => (done = true));
    const latencies: number[] = [];
    for (let n = 2; !done; n++) latencies.push(await other.send(SENDER, RECIPIENT, body(n)));
    const dataMs = await bigMs;
    clearInterval(timer);
    big.close();
    other.close();
    latencies.sort((a, b) => a - b);
    return {
      crypto,
      contacts,
      dataMs,
      rssAboveIdleMb: (peak - idle) / 1024 / 1024,
      others: {
        count: latencies.length,
        p50: latencies[Math.floor(latencies.length / 2)] ?? NaN,
        max: latencies.at(-1) ?? NaN,
      },
    };
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    await sink.close();
  }
}

export async function newContactsBench(): Promise<void> {
  const counts = (process.env.BENCH_NEW_CONTACTS ?? '20,100').split(',').map(Number);
  console.log(
    '| crypto | new contacts | DATA→250 (s) | peak RSS above idle (MB) | other client: messages, p50, max (ms) |',
  );
  console.log('|---|---|---|---|---|');
  for (const n of counts) {
    for (const crypto of ['inline', 'pool'] as const) {
      const r = await newContactsRun(crypto, n);
      console.log(
        `| ${r.crypto} | ${r.contacts} | ${(r.dataMs / 1000).toFixed(1)} | ${r.rssAboveIdleMb.toFixed(0)} | ${r.others.count}, ${r.others.p50.toFixed(0)}, ${r.others.max.toFixed(0)} |`,
      );
    }
  }
}
