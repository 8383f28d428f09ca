import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { inboundBench, inboundRatio, printInbound } from './inbound.ts';
import { BenchClient } from './smtp-client.ts';
import { LoadLog, summaryLine } from './summary.ts';
import { COLD_COUNT, coldAddress, PASSWORD, RECIPIENT, SENDER, type StackMode } from './stack.ts';
import { startSink, type Sink } from '../test/helpers/sink.ts';

/**
 * `npm run bench`: throughput and latency of the gateway, encrypted (pgp) against clear (a plain rule, the
 * baseline measured in the same run), and the memory one 25 MB message costs. The Sealpost process runs
 * as a child (the gateway, and the delivery worker as a child of that, as `npm start` runs them; SQLite; its
 * own redis-server); this process is the mail clients and the receiving MX. Numbers depend on the machine:
 * read the ratios.
 *
 * Environment: BENCH_MESSAGES (2000), BENCH_CONNECTIONS (8), BENCH_SIZE_KB (50), BENCH_BIG_MB (25),
 * BENCH_ONLY (`pgp`, `plain`, `big` or `pickup-gateway`: run only that part; the table then lacks the baseline;
 * `ratio`: plain then pgp, the throughput ratio of one sitting;
 * `pickup`: the pickup app in headless Chromium, bench/pickup.ts; `inbound`: only the inbound listener,
 * bench/inbound.ts, with its own baseline; `new-contacts`: one message to 20 and to 100 new pickup contacts,
 * with their key work on the event loop against the crypto pool, bench/new-contacts.ts; `discovery`: RCPT latency of a cold WKD lookup against a warm
 * one, and gateway throughput with the recipient's key discovered (warm) against admin-pinned, discovery off;
 * `pairs`: 1 against 2 gateway+worker processes on PostgreSQL and one Redis, bench/pairs.ts).
 */
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const SIZE = Number(process.env.BENCH_SIZE_KB ?? 50) * 1024;
const BIG = Number(process.env.BENCH_BIG_MB ?? 25) * 1024 * 1024;

function message(size: number, n: number): Buffer {
  const head =
    `From: Anna Berg <${SENDER}>\r\nTo: <${RECIPIENT}>\r\nSubject: Bench ${n}\r\n` +
    `Message-ID: <bench-${n}-${Date.now()}@praxis.example>\r\nMIME-Version: 1.0\r\n` +
    `Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: base64\r\n\r\n`;
  const lines: string[] = [];
  let length = head.length;
  const chunk = Buffer.alloc(57);
  while (length < size) {
    for (let i = 0; i < chunk.length; i++) chunk[i] = (n * 31 + i * 7 + lines.length) & 0xff;
    const line = chunk.toString('base64');
    lines.push(line);
    length += line.length + 2;
  }
  return Buffer.from(head + lines.join('\r\n'), 'latin1');
}

async function startSealpost(mode: StackMode, relay: string): Promise<{ child: ChildProcess; port: number }> {
  const child = spawn(
    process.execPath,
    [
      ...(process.env.BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      'bench/stack-main.ts',
      mode,
      relay,
    ],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  const lines = createInterface({ input: child.stdout! });
  const [first] = (await once(lines, 'line')) as [string];
  return { child, port: (JSON.parse(first) as { port: number }).port };
}

async function stopSealpost(child: ChildProcess): Promise<void> {
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** The live children of a process (the split stack's worker process, redis-server). */
function childrenOf(pid: number): number[] {
  return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number);
}

/** User + system CPU milliseconds of a `/proc/…/stat` line (clock ticks of 10 ms). */
function statCpuMs(stat: string): number {
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
}

/** RSS of the Sealpost process and its children (the split stack's worker process), summed. */
function rssBytes(pid: number): number {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const own = Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1] ?? 0) * 1024;
    return own + childrenOf(pid).reduce((n, child) => n + rssBytes(child), 0);
  } catch {
    return 0; // the process ended meanwhile
  }
}

/** CPU milliseconds (user + system, threads included) of a process and its live children, summed. */
function cpuMsTree(pid: number): number {
  try {
    const own = statCpuMs(readFileSync(`/proc/${pid}/stat`, 'utf8'));
    return own + childrenOf(pid).reduce((n, child) => n + cpuMsTree(child), 0);
  } catch {
    return 0;
  }
}

/**
 * BENCH_THREADS=1: the same CPU split by process and thread (`/proc/<pid>/task/<tid>/stat`), summed by
 * the process's script (stack-main: the gateway, stack-worker: the delivery worker, redis-server) and the
 * thread's name, the main thread as `main`: where the CPU per message goes without a profiler's overhead.
 */
function cpuMsThreads(pid: number, into = new Map<string, number>()): Map<string, number> {
  try {
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const script = cmdline.find((a) => /stack-(main|worker)\.ts$|redis-server/.test(a)) ?? cmdline[0] ?? '?';
    const role = /redis/.test(script) ? 'redis-server' : script.replace(/^.*\//, '').replace(/\.ts$/, '');
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const name = Number(tid) === pid ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      into.set(`${role}/${name}`, (into.get(`${role}/${name}`) ?? 0) + statCpuMs(stat));
    }
    for (const child of childrenOf(pid)) cpuMsThreads(child, into);
  } catch {
    // the process ended meanwhile
  }
  return into;
}

function printThreads(before: Map<string, number>, after: Map<string, number>, messages: number): void {
  const rows = [...after]
    .map(([k, v]) => [k, (v - (before.get(k) ?? 0)) / messages] as const)
    .filter(([, v]) => v >= 0.05)
    .sort((a, b) => b[1] - a[1]);
  console.log(`CPU ms/msg by thread: ${rows.map(([k, v]) => `${k} ${v.toFixed(2)}`).join(', ')}`);
}

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

interface Result {
  mode: string;
  msgsPerSec: number;
  p50: number;
  p99: number;
  /** CPU per message during the timed run: Sealpost's processes, and this process (clients and sink). */
  cpuMs: { sealpost: number; bench: number };
}

async function throughput(mode: StackMode): Promise<Result> {
  const sink: Sink = await startSink();
  const { child, port } = await startSealpost(mode, sink.relayUrl);
  try {
    const bodies = Array.from({ length: 16 }, (_, i) => message(SIZE, i));
    const warm = await BenchClient.connect(port, SENDER, PASSWORD);
    for (let i = 0; i < 20; i++) await warm.send(SENDER, RECIPIENT, bodies[i % bodies.length]!);
    warm.close();
    const clients = await Promise.all(
      Array.from({ length: CONNECTIONS }, () => BenchClient.connect(port, SENDER, PASSWORD)),
    );
    // Then a few on every connection at once, so that the crypto pool has started all its threads before
    // the timed run: a thread's start (tsx, openpgp.js loaded and compiled) is a second or more of CPU,
    // once per process, not per message.
    await Promise.all(clients.map((c, i) => c.send(SENDER, RECIPIENT, bodies[i % bodies.length]!)));
    await Promise.all(clients.map((c, i) => c.send(SENDER, RECIPIENT, bodies[(i + 1) % bodies.length]!)));
    await sink.waitFor(20 + 2 * CONNECTIONS, 60_000);
    const already = sink.messages.length;
    const latencies: number[] = [];
    let next = 0;
    const threadsBefore = process.env.BENCH_THREADS ? cpuMsThreads(child.pid!) : undefined;
    const cpuBefore = { sealpost: cpuMsTree(child.pid!), bench: process.cpuUsage() };
    const started = performance.now();
    const window = process.hrtime.bigint() / 1000n; // CLOCK_MONOTONIC µs, the clock of a .cpuprofile
    await Promise.all(
      clients.map(async (client) => {
        while (next < MESSAGES) {
          const n = next++;
          latencies.push(await client.send(SENDER, RECIPIENT, bodies[n % bodies.length]!));
        }
        client.close();
      }),
    );
    await sink.waitFor(already + MESSAGES, 600_000);
    const seconds = (performance.now() - started) / 1000;
    if (process.env.BENCH_NODE_ARGS)
      console.log(
        `${mode}: timed run ${window}–${process.hrtime.bigint() / 1000n} µs (bench/profile-summary.ts)`,
      );
    const bench = process.cpuUsage(cpuBefore.bench);
    if (threadsBefore) printThreads(threadsBefore, cpuMsThreads(child.pid!), MESSAGES);
    latencies.sort((a, b) => a - b);
    return {
      mode,
      msgsPerSec: MESSAGES / seconds,
      p50: percentile(latencies, 50),
      p99: percentile(latencies, 99),
      cpuMs: {
        sealpost: (cpuMsTree(child.pid!) - cpuBefore.sealpost) / MESSAGES,
        bench: (bench.user + bench.system) / 1000 / MESSAGES,
      },
    };
  } finally {
    await stopSealpost(child);
    await sink.close();
  }
}

async function bigMessageRss(): Promise<{ idle: number; peak: number }> {
  const sink = await startSink();
  const { child, port } = await startSealpost('pgp', sink.relayUrl);
  try {
    const client = await BenchClient.connect(port, SENDER, PASSWORD);
    await client.send(SENDER, RECIPIENT, message(SIZE, 0)); // warm: code paths and caches loaded
    await sink.waitFor(1, 60_000);
    global.gc?.();
    await new Promise((r) => setTimeout(r, 1000)); // let the child settle before the idle reading
    const idle = rssBytes(child.pid!);
    let peak = idle;
    const timer = setInterval(() => (peak = Math.max(peak, rssBytes(child.pid!))), 5);
    await client.send(SENDER, RECIPIENT, message(BIG, 1));
    await sink.waitFor(2, 300_000);
    clearInterval(timer);
    client.close();
    return { idle, peak };
  } finally {
    await stopSealpost(child);
    await sink.close();
  }
}

/**
 * A pickup to a new contact costs a key pair and Argon2id (64 MiB) at the gateway; later ones only the
 * encryption. Sequential, one connection: end-of-DATA→250 for new contacts against known ones.
 */
async function pickupLatency(count: number): Promise<{ first: number; known: number }> {
  const sink = await startSink();
  const { child, port } = await startSealpost('pickup', sink.relayUrl);
  try {
    const client = await BenchClient.connect(port, SENDER, PASSWORD);
    const body = message(SIZE, 0);
    const first: number[] = [];
    const known: number[] = [];
    for (let i = 0; i < count; i++) first.push(await client.send(SENDER, `client${i}@example.org`, body));
    for (let i = 0; i < count; i++) known.push(await client.send(SENDER, `client${i}@example.org`, body));
    client.close();
    await sink.waitFor(count * 3, 120_000); // a notification per message, a receipt per new contact
    first.sort((a, b) => a - b);
    known.sort((a, b) => a - b);
    return { first: percentile(first, 50), known: percentile(known, 50) };
  } finally {
    await stopSealpost(child);
    await sink.close();
  }
}

/**
 * RCPT alone, one connection, against the loopback WKD (mode 'wkd'): each cold address once (a lookup:
 * the advanced WKD request, narrowing, validation, recording), then the same addresses again (the stored
 * key: the warm case).
 */
async function rcptLatency(): Promise<{ cold: number[]; warm: number[] }> {
  const sink = await startSink();
  const { child, port } = await startSealpost('wkd', sink.relayUrl);
  try {
    const client = await BenchClient.connect(port, SENDER, PASSWORD);
    const cold: number[] = [];
    const warm: number[] = [];
    for (let i = 0; i < COLD_COUNT; i++) {
      const r = await client.probeRcpt(SENDER, coldAddress(i));
      if (r.code !== '250') throw new Error(`RCPT ${coldAddress(i)}: ${r.code}`);
      cold.push(r.ms);
    }
    for (let i = 0; i < COLD_COUNT; i++) warm.push((await client.probeRcpt(SENDER, coldAddress(i))).ms);
    client.close();
    return { cold: cold.sort((a, b) => a - b), warm: warm.sort((a, b) => a - b) };
  } finally {
    await stopSealpost(child);
    await sink.close();
  }
}

const mb = (n: number) => (n / 1024 / 1024).toFixed(0);
const only = process.env.BENCH_ONLY;
if (only === 'pairs') {
  await (await import('./pairs.ts')).pairsBench();
  process.exit(0);
}
if (only === 'pickup') {
  new LoadLog().before('pickup app (Chromium)');
  await (await import('./pickup.ts')).benchPickup();
  process.exit(0);
}
if (only === 'pickup-gateway') {
  const pickup = await throughput('pickup');
  const lat = await pickupLatency(20);
  console.log(
    `pickup (known contact): ${pickup.msgsPerSec.toFixed(1)} msgs/s, p50 ${pickup.p50.toFixed(1)} ms, p99 ${pickup.p99.toFixed(1)} ms`,
  );
  console.log(
    `end-of-DATA→250, one connection, p50: new contact ${lat.first.toFixed(0)} ms, known contact ${lat.known.toFixed(0)} ms`,
  );
  process.exit(0);
}
if (only === 'ratio') {
  const loads = new LoadLog();
  loads.before('plain');
  const plain = await throughput('plain');
  loads.before('pgp');
  const pgp = await throughput('pgp');
  for (const r of [plain, pgp])
    console.log(
      `${r.mode}: ${r.msgsPerSec.toFixed(1)} msgs/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; ` +
        `CPU per message: Sealpost ${r.cpuMs.sealpost.toFixed(1)} ms, clients and sink ${r.cpuMs.bench.toFixed(1)} ms`,
    );
  console.log(`encrypted/plain throughput ratio: ${(pgp.msgsPerSec / plain.msgsPerSec).toFixed(2)}`);
  process.exit(0);
}
if (only === 'pgp' || only === 'plain') {
  new LoadLog().before(only);
  const r = await throughput(only);
  console.log(
    `${only} only: ${r.msgsPerSec.toFixed(1)} msgs/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms; ` +
      `CPU per message: Sealpost ${r.cpuMs.sealpost.toFixed(1)} ms, clients and sink ${r.cpuMs.bench.toFixed(1)} ms`,
  );
  process.exit(0);
}
if (only === 'big') {
  new LoadLog().before('big message');
  const r = await bigMessageRss();
  console.log(
    `one ${mb(BIG)} MB message: idle ${mb(r.idle)} MB, peak ${mb(r.peak)} MB, +${mb(r.peak - r.idle)} MB`,
  );
  process.exit(0);
}
if (only === 'discovery') {
  const lat = await rcptLatency();
  // Alternating rounds, best of each: the two runs see the same machine, whatever else it is doing.
  const rounds = Number(process.env.BENCH_ROUNDS ?? 2);
  const runs: Result[] = [];
  for (let i = 0; i < rounds; i++)
    runs.push(await throughput(i % 2 ? 'wkd' : 'pgp'), await throughput(i % 2 ? 'pgp' : 'wkd'));
  const best = (mode: string) =>
    runs.filter((r) => r.mode === mode).reduce((a, b) => (b.msgsPerSec > a.msgsPerSec ? b : a));
  const pinned = best('pgp');
  const discovered = best('wkd');
  const ms = (xs: number[], p: number) => percentile(xs, p).toFixed(1);
  console.log(`RCPT latency, ${COLD_COUNT} addresses, one connection, loopback WKD (HTTPS):`);
  console.log(`  cold lookup: p50 ${ms(lat.cold, 50)} ms, p99 ${ms(lat.cold, 99)} ms`);
  console.log(`  warm (stored key): p50 ${ms(lat.warm, 50)} ms, p99 ${ms(lat.warm, 99)} ms`);
  console.log(
    `\n${MESSAGES} messages of ${SIZE / 1024} KB, ${CONNECTIONS} connections, best of ${rounds} alternating runs:`,
  );
  for (const r of [pinned, discovered])
    console.log(
      `  ${r.mode === 'wkd' ? 'discovered key, discovery on' : 'pinned key, discovery off'}: ${r.msgsPerSec.toFixed(1)} msgs/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99.toFixed(1)} ms`,
    );
  console.log(
    `discovery-on/off throughput ratio: ${(discovered.msgsPerSec / pinned.msgsPerSec).toFixed(3)} (goal ≥ 0.95)`,
  );
  process.exit(0);
}
if (only === 'new-contacts') {
  await (await import('./new-contacts.ts')).newContactsBench();
  process.exit(0);
}
if (only === 'inbound') {
  new LoadLog().before('inbound');
  printInbound(await inboundBench());
  process.exit(0);
}
// The full sitting: the machine's load before each run is printed with it, the highest goes into the last
// line; the baseline (plain) runs in the same sitting as what is compared with it.
const loads = new LoadLog();
loads.before('plain');
const plain = await throughput('plain');
loads.before('pgp');
const pgp = await throughput('pgp');
loads.before('pickup');
const pickup = await throughput('pickup');
loads.before('pickup new contacts');
const pickupLat = await pickupLatency(20);
loads.before('big message');
const rss = await bigMessageRss();
const rows = [
  `| run | msgs/s | p50 end-of-DATA→250 (ms) | p99 (ms) | CPU ms/msg Sealpost | CPU ms/msg clients+sink |`,
  `|---|---|---|---|---|---|`,
  ...[plain, pgp, pickup].map(
    (r) =>
      `| ${r.mode} | ${r.msgsPerSec.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} | ` +
      `${r.cpuMs.sealpost.toFixed(1)} | ${r.cpuMs.bench.toFixed(1)} |`,
  ),
];
console.log(
  `\n${MESSAGES} messages of ${SIZE / 1024} KB, ${CONNECTIONS} connections, end to end to a loopback sink\n`,
);
console.log(rows.join('\n'));
console.log(`\nencrypted/plain throughput ratio: ${(pgp.msgsPerSec / plain.msgsPerSec).toFixed(2)}`);
console.log(`pickup/plain throughput ratio: ${(pickup.msgsPerSec / plain.msgsPerSec).toFixed(2)}`);
console.log(
  `pickup end-of-DATA→250 p50: new contact ${pickupLat.first.toFixed(0)} ms, known ${pickupLat.known.toFixed(0)} ms`,
);
console.log(
  `one ${mb(BIG)} MB message: idle RSS ${mb(rss.idle)} MB, peak ${mb(rss.peak)} MB, +${mb(rss.peak - rss.idle)} MB above idle`,
);
loads.before('inbound');
const inbound = await inboundBench();
printInbound(inbound);
loads.before('pickup app (Chromium)');
const { render } = await (await import('./pickup.ts')).benchPickup();
console.log(
  '\n' +
    summaryLine({
      pgp: pgp.msgsPerSec,
      ratio: pgp.msgsPerSec / plain.msgsPerSec,
      p99: pgp.p99,
      bigBytes: rss.peak - rss.idle,
      renderMs: render,
      inbound: inboundRatio(inbound),
      load: loads.max,
    }),
);
process.exit(0);
