import { BenchClient } from '../../bench/smtp-client.ts';
import type { SinkMessage } from '../helpers/sink.ts';

/**
 * Submission clients for the topology test: `connections` SMTP sessions spread over the gateways that are
 * up (`targets()`, read anew at every reconnect), each sending the next message not yet accepted. A message
 * whose session broke before its 250 goes back to the pile and is sent again (as a mail client does), so a
 * gateway killed between its commit and its 250 may make a duplicate; a message that got its 250 is
 * `accepted` and must be delivered.
 */
export interface TrafficOptions {
  total: number;
  connections: number;
  targets: () => readonly number[];
  user: string;
  pass: string;
  from: string;
  to: (n: number) => string;
  /** A reply that does not come within this long counts as a broken session. */
  replyTimeoutMs?: number;
  /** Filled as 250s arrive (the caller may watch it grow). */
  accepted?: Set<string>;
}

export interface TrafficResult {
  /** Message-IDs that got a 250. */
  accepted: Set<string>;
  /** Sessions that broke (killed gateway, timeout) and were opened again. */
  broken: number;
}

export const messageId = (n: number) => `topo-${n}@praxis.example`;

export function topologyMessage(from: string, to: string, n: number): Buffer {
  return Buffer.from(
    `From: <${from}>\r\nTo: <${to}>\r\nSubject: Topologie ${n}\r\nMessage-ID: <${messageId(n)}>\r\n` +
      `MIME-Version: 1.0\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nNachricht ${n}.\r\n`,
    'utf8',
  );
}

/** The Message-ID of a delivered message (the sink's raw copy), or undefined. */
export function deliveredId(message: SinkMessage): string | undefined {
  const head = message.raw.toString('latin1').split('\r\n\r\n', 1)[0] ?? '';
  return /^Message-ID:\s*<([^>\r\n]+)>/im.exec(head)?.[1];
}

function within<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no reply within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

export async function sendTraffic(o: TrafficOptions): Promise<TrafficResult> {
  const pending = Array.from({ length: o.total }, (_, i) => o.total - 1 - i); // pop() takes the lowest
  const accepted = o.accepted ?? new Set<string>();
  const inFlight = new Set<number>();
  const waitMs = o.replyTimeoutMs ?? 30_000;
  let broken = 0;
  let turn = 0;
  const session = async (): Promise<void> => {
    while (pending.length > 0 || inFlight.size > 0) {
      if (pending.length === 0) {
        await new Promise((r) => setTimeout(r, 50)); // another session's message may come back
        continue;
      }
      const targets = o.targets();
      const port = targets[turn++ % Math.max(1, targets.length)];
      let client: BenchClient | undefined;
      let n: number | undefined;
      try {
        if (port === undefined) throw new Error('no gateway up');
        client = await within(BenchClient.connect(port, o.user, o.pass), waitMs);
        for (n = pending.pop(); n !== undefined; n = pending.pop()) {
          inFlight.add(n);
          await within(client.send(o.from, o.to(n), topologyMessage(o.from, o.to(n), n)), waitMs);
          accepted.add(messageId(n));
          inFlight.delete(n);
        }
        client.close();
      } catch {
        broken++;
        if (n !== undefined) {
          inFlight.delete(n);
          if (!accepted.has(messageId(n))) pending.push(n);
        }
        client?.close();
        await new Promise((r) => setTimeout(r, 200));
      }
    }
  };
  await Promise.all(Array.from({ length: o.connections }, session));
  return { accepted, broken };
}

/** Count the sink's deliveries by Message-ID against what was accepted. */
export function countDeliveries(
  accepted: ReadonlySet<string>,
  delivered: readonly SinkMessage[],
): { lost: string[]; duplicates: number; delivered: number } {
  const seen = new Map<string, number>();
  for (const m of delivered) {
    const id = deliveredId(m);
    if (id) seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  let duplicates = 0;
  for (const count of seen.values()) duplicates += count - 1;
  const lost = [...accepted].filter((id) => !seen.has(id));
  return { lost, duplicates, delivered: seen.size };
}
