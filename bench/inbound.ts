import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';
import {
  encryptAndSign,
  generateKeyPair,
  parseEncryptionKey,
  parseSigningKey,
} from '../keys/openpgp/index.ts';
import { startSink } from '../test/helpers/sink.ts';
import { tmpDir } from '../test/helpers/tmp.ts';
import { BenchClient } from './smtp-client.ts';
import { SENDER } from './stack.ts';

/**
 * BENCH_ONLY=inbound (and part of `npm run bench`): inbound msgs/s for 50 KB replies, encrypted to Anna's
 * key and signed by a colleague whose key is pinned (decrypt + verify + relay), against plain pass-through
 * in the same run, both relayed in line to a loopback sink over STARTTLS. The Sealpost process
 * (bench/inbound-stack.ts) is a child; this process is the sending MTAs and the practice's server.
 */
const MESSAGES = Number(process.env.BENCH_MESSAGES ?? 2000);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const SIZE = Number(process.env.BENCH_SIZE_KB ?? 50) * 1024;
const COLLEAGUE = 'dr.weber@klinik.example';

function entity(size: number, n: number): Buffer {
  const head =
    `Content-Type: text/plain; charset=utf-8; protected-headers="v1"\r\nContent-Transfer-Encoding: base64\r\n` +
    `Subject: Re: Bench ${n}\r\n\r\n`;
  const lines: string[] = [];
  let length = head.length;
  const chunk = Buffer.alloc(57);
  while (length < size) {
    for (let i = 0; i < chunk.length; i++) chunk[i] = (n * 31 + i * 7 + lines.length) & 0xff;
    lines.push(chunk.toString('base64'));
    length += 78;
  }
  return Buffer.from(head + lines.join('\r\n'), 'latin1');
}

function outer(n: number, contentType: string, body: string): Buffer {
  return Buffer.from(
    `From: Dr. Weber <${COLLEAGUE}>\r\nTo: <${SENDER}>\r\nSubject: [...]\r\n` +
      `Message-ID: <bench-in-${n}-${Date.now()}@klinik.example>\r\nMIME-Version: 1.0\r\n` +
      `Content-Type: ${contentType}\r\n\r\n${body}`,
    'latin1',
  );
}

/** 16 encrypted-and-signed PGP/MIME replies and 16 plain ones of about `SIZE` bytes each. */
async function messages(annaPublic: string, colleague: { privateKey: string }) {
  const to = [await parseEncryptionKey(annaPublic)];
  const signer = await parseSigningKey(colleague.privateKey);
  const encrypted: Buffer[] = [];
  const plain: Buffer[] = [];
  for (let n = 0; n < 16; n++) {
    // The armor adds about a third; start from a smaller entity so that the mail is about SIZE bytes.
    const armored = await encryptAndSign({ data: entity((SIZE * 3) / 4, n), to, signer, now: new Date() });
    const b = `b${n}`;
    const body =
      `--${b}\r\nContent-Type: application/pgp-encrypted\r\n\r\nVersion: 1\r\n\r\n--${b}\r\n` +
      `Content-Type: application/octet-stream\r\n\r\n${armored.replace(/\r?\n/g, '\r\n')}\r\n--${b}--\r\n`;
    encrypted.push(
      outer(n, `multipart/encrypted; protocol="application/pgp-encrypted"; boundary="${b}"`, body),
    );
    const text = entity(SIZE, n).toString('latin1');
    plain.push(outer(n, 'text/plain; charset=utf-8', text.slice(text.indexOf('\r\n\r\n') + 4)));
  }
  return { encrypted, plain };
}

export interface InboundResult {
  mode: string;
  bytes: number;
  msgsPerSec: number;
  p50: number;
  p99: number;
}

async function run(
  port: number,
  mode: string,
  bodies: Buffer[],
  sinkCount: () => number,
  wait: (n: number) => Promise<unknown>,
) {
  const clients = await Promise.all(Array.from({ length: CONNECTIONS }, () => BenchClient.connect(port)));
  const latencies: number[] = [];
  const already = sinkCount();
  let next = 0;
  const started = performance.now();
  await Promise.all(
    clients.map(async (client) => {
      while (next < MESSAGES) {
        const n = next++;
        latencies.push(await client.send(COLLEAGUE, SENDER, bodies[n % bodies.length]!));
      }
      client.close();
    }),
  );
  await wait(already + MESSAGES);
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (p: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]!;
  const bytes = Math.round(bodies.reduce((s, b) => s + b.length, 0) / bodies.length);
  return { mode, bytes, msgsPerSec: MESSAGES / seconds, p50: at(50), p99: at(99) };
}

export async function inboundBench(): Promise<InboundResult[]> {
  const sink = await startSink();
  const tmp = tmpDir('sealpost-bench-in-driver-');
  const colleague = await generateKeyPair({ address: COLLEAGUE, now: new Date() });
  const keyFile = path.join(tmp.dir, 'colleague.asc');
  writeFileSync(keyFile, colleague.publicKey);
  const child: ChildProcess = spawn(
    process.execPath,
    ['--import', 'tsx', 'bench/inbound-stack.ts', sink.relayUrl, keyFile],
    {
      stdio: ['ignore', 'pipe', 'inherit'],
    },
  );
  try {
    const [first] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
    const { port, publicKey } = JSON.parse(first) as { port: number; publicKey: string };
    const { encrypted, plain } = await messages(publicKey, colleague);
    const wait = (n: number) => sink.waitFor(n, 600_000);
    const warm = await BenchClient.connect(port);
    for (let i = 0; i < 20; i++) await warm.send(COLLEAGUE, SENDER, (i % 2 ? plain : encrypted)[i % 16]!);
    warm.close();
    await wait(20);
    const count = () => sink.messages.length;
    const results = [await run(port, 'plain pass-through', plain, count, wait)];
    results.push(await run(port, 'encrypted + signed → decrypted', encrypted, count, wait));
    const last = sink.messages.at(-1)!.raw.toString('latin1');
    if (!/^Sealpost-Security: decrypted; signature=valid;/m.test(last))
      throw new Error('bench: not decrypted');
    return results;
  } finally {
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    await exited;
    await sink.close();
    tmp.cleanup();
  }
}

/** Decrypted over plain throughput (NaN when a run is missing). */
export function inboundRatio(results: readonly InboundResult[]): number {
  const [plain, enc] = results;
  return plain && enc ? enc.msgsPerSec / plain.msgsPerSec : NaN;
}

export function printInbound(results: InboundResult[]): void {
  console.log(
    `\ninbound: ${MESSAGES} replies of ~${SIZE / 1024} KB, ${CONNECTIONS} connections, relayed in line to a loopback sink\n`,
  );
  console.log('| run | mail bytes | msgs/s | p50 end-of-DATA→250 (ms) | p99 (ms) |');
  console.log('|---|---|---|---|---|');
  for (const r of results)
    console.log(
      `| ${r.mode} | ${r.bytes} | ${r.msgsPerSec.toFixed(1)} | ${r.p50.toFixed(1)} | ${r.p99.toFixed(1)} |`,
    );
  if (results.length === 2)
    console.log(`\ninbound decrypted/plain throughput ratio: ${inboundRatio(results).toFixed(2)}`);
}
