import { loadavg } from 'node:os';

/**
 * The one line `npm run bench` ends with (issue 17): the numbers of this sitting, in a fixed shape that a
 * reader (or a script) can compare across sittings, e.g.
 * `pgp=182.4 msgs/s ratio=0.74 p99=88 ms big=+71 MB render=1210 ms inbound=0.83 load=0.4`.
 */
export interface Summary {
  /** pgp throughput, messages a second, end to end. */
  pgp: number;
  /** pgp throughput over plain throughput, the same sitting. */
  ratio: number;
  /** pgp p99 end-of-DATA→250, milliseconds. */
  p99: number;
  /** RSS above idle while one large message passes, bytes. */
  bigBytes: number;
  /** The pickup app's first render of 100 KB including Argon2id (load → code field + submit → text). */
  renderMs: number;
  /** Inbound decrypted over plain throughput, the same sitting. */
  inbound: number;
  /** The highest 1-minute load average recorded before a run of this sitting. */
  load: number;
}

export function summaryLine(s: Summary): string {
  const mb = Math.round(s.bigBytes / 1024 / 1024);
  return [
    `pgp=${s.pgp.toFixed(1)} msgs/s`,
    `ratio=${s.ratio.toFixed(2)}`,
    `p99=${Math.round(s.p99)} ms`,
    `big=${mb < 0 ? '-' : '+'}${Math.abs(mb)} MB`,
    `render=${Math.round(s.renderMs)} ms`,
    `inbound=${s.inbound.toFixed(2)}`,
    `load=${s.load.toFixed(1)}`,
  ].join(' ');
}

/**
 * The machine's load before each run: printed with the run, and the highest goes into the summary line, so
 * that a sitting on a busy machine is visible as one.
 */
export class LoadLog {
  readonly #seen: { run: string; load: number }[] = [];

  /** Record (and print) the 1-minute load average before `run` starts. */
  before(run: string, read: () => number = () => loadavg()[0] ?? 0): number {
    const load = read();
    this.#seen.push({ run, load });
    console.log(`[load average ${load.toFixed(2)} before ${run}]`);
    return load;
  }

  /** The highest recorded, 0 when none. */
  get max(): number {
    return this.#seen.reduce((m, s) => Math.max(m, s.load), 0);
  }
}
