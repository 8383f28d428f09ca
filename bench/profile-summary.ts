import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/**
 * Where a profiled bench run's time went, per process and thread: `node --import tsx
 * bench/profile-summary.ts DIR FROM_US TO_US [MESSAGES]` reads every .cpuprofile in DIR (written by
 * `BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=DIR' BENCH_ONLY=pgp npm run bench`, which prints the timed
 * run's FROM–TO in the profiles' clock) and prints, for each profile that was busy in that window, its
 * busy time by category with the share and the milliseconds per message.
 *
 * A CPU profile samples wall time on the thread: a synchronous fsync inside SQLite counts as busy in
 * `SQLite` although the CPU waits, so read the shares together with `BENCH_THREADS=1` (CPU per thread).
 * Native code is counted where JavaScript called it (TLS encryption in a socket write, SQLite in Kysely's
 * executeQuery).
 */
interface CallFrame {
  functionName: string;
  url: string;
}
interface ProfileNode {
  id: number;
  callFrame: CallFrame;
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples: number[];
  timeDeltas: number[];
}

/** First matching rule wins; `fn` on the function name, `url` on the script. */
const CATEGORIES: { name: string; fn?: RegExp; url?: RegExp }[] = [
  { name: 'idle', fn: /^\(idle\)$/ },
  { name: 'waiting for a task (piscina)', fn: /^atomicsWaitLoop$/ },
  { name: 'SQLite (statements, commit + fsync)', fn: /^executeQuery$/, url: /kysely/ },
  { name: 'SQLite (statements, commit + fsync)', url: /better-sqlite3/ },
  { name: 'Kysely (building, compiling)', url: /node_modules\/kysely/ },
  { name: 'OpenPGP (openpgp.js)', url: /node_modules\/openpgp/ },
  { name: 'Node crypto (WebCrypto, ciphers, hashes)', url: /^node:internal\/crypto|^node:crypto/ },
  { name: 'socket writes (TLS)', fn: /^(writeBuffer|writeUtf8String|writev|writeLatin1String)$/ },
  { name: 'log writes', fn: /^writeString$/ },
  { name: 'nodemailer', url: /node_modules\/nodemailer/ },
  { name: 'smtp-server', url: /node_modules\/smtp-server/ },
  { name: 'BullMQ + ioredis', url: /node_modules\/(bullmq|ioredis|msgpackr|@ioredis)/ },
  { name: 'piscina (posting tasks, results)', url: /node_modules\/piscina/ },
  { name: 'Node streams', url: /^node:internal\/streams/ },
  { name: 'garbage collection', fn: /^\(garbage collector\)$/ },
  { name: 'module loading', url: /^node:internal\/modules|node_modules\/(tsx|esbuild)/ },
  { name: 'pino', url: /node_modules\/pino/ },
  { name: 'Sealpost code', url: /\/(core|keys|gateway|worker|cli)\// },
  { name: 'V8 and native code (program)', fn: /^\(program\)$/ },
  { name: 'Node (other internals)', url: /^node:/ },
];

function categoryOf(node: ProfileNode, parentOf: Map<number, ProfileNode>): string {
  // A native frame (no script) belongs to the nearest JavaScript caller's category.
  let at: ProfileNode | undefined = node;
  while (at) {
    const { functionName, url } = at.callFrame;
    for (const c of CATEGORIES) {
      if ((!c.fn || c.fn.test(functionName)) && (!c.url || c.url.test(url)) && (c.fn || c.url)) return c.name;
    }
    if (url) return 'other';
    if (functionName === '(program)') return 'other';
    at = parentOf.get(at.id);
  }
  return 'other';
}

export function summarise(profile: Profile, fromUs: number, toUs: number): Map<string, number> {
  const parentOf = new Map<number, ProfileNode>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n);
  const ms = new Map<string, number>();
  let t = profile.startTime;
  for (let i = 0; i < profile.samples.length; i++) {
    t += profile.timeDeltas[i] ?? 0;
    const dt = (profile.timeDeltas[i + 1] ?? 0) / 1000;
    if (t < fromUs || t > toUs) continue;
    const name = categoryOf(byId.get(profile.samples[i]!)!, parentOf);
    ms.set(name, (ms.get(name) ?? 0) + dt);
  }
  return ms;
}

/** Which thread a profile is, from what it did: the gateway, the delivery worker, a crypto pool thread. */
function roleOf(ms: Map<string, number>): string {
  if (ms.has('smtp-server')) return 'gateway, event loop';
  if (ms.has('nodemailer')) return 'delivery worker, event loop';
  if (ms.has('waiting for a task (piscina)')) return 'crypto pool thread';
  return 'other thread';
}

const [dir, from, to, messages] = process.argv.slice(2);
if (!dir || !from || !to) throw new Error('usage: profile-summary.ts DIR FROM_US TO_US [MESSAGES]');
const count = Number(messages ?? 0);
for (const file of readdirSync(dir).filter((f) => f.endsWith('.cpuprofile'))) {
  const profile = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as Profile;
  const ms = summarise(profile, Number(from), Number(to));
  const busy = [...ms]
    .filter(([k]) => k !== 'idle' && !k.startsWith('waiting'))
    .reduce((n, [, v]) => n + v, 0);
  if (busy < 50) continue; // a thread that did nothing in the window (tsx's loader, an idle pool thread)
  console.log(`\n${file} (${roleOf(ms)}): busy ${busy.toFixed(0)} ms of the window`);
  for (const [name, v] of [...ms].sort((a, b) => b[1] - a[1])) {
    if (name === 'idle' || name.startsWith('waiting') || v < busy / 200) continue;
    const perMsg = count ? `  ${(v / count).toFixed(2)} ms/msg` : '';
    console.log(`${((100 * v) / busy).toFixed(1).padStart(6)} %  ${name}${perMsg}`);
  }
}
