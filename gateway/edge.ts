import { pipeline } from 'node:stream/promises';
import type { SMTPServerDataStream } from 'smtp-server';
import { smtpError, type Code } from '../core/errors.ts';
import { readAtEdge, type EdgeProblem, type SplitMessage } from '../keys/index.ts';
import type { EdgeCodes, SmtpListener } from './smtp-reply.ts';

/**
 * The edge of both SMTP listeners (submission and inbound): read DATA with a size cap, then decide once
 * what the message is (keys/mime/edge.ts, DESIGN.md invariant 8) — before any stage looks at a header field.
 * Each listener passes its own codes (SmtpListener, gateway/smtp-reply.ts).
 */

/**
 * The bytes of a message as read: `raw`, and `release()`. For a message above `IN_PLACE_ABOVE`, release
 * gives its memory back to the system at once — not at some later garbage collection — after which every
 * view of it reads as empty; a smaller one is left to the collector, as any other small buffer. Call it
 * when nothing will read the message again (its copies are committed, or it was refused); twice is fine.
 */
export interface Received {
  raw: Buffer;
  release(): void;
}

/**
 * A resizable ArrayBuffer (ES2024; V8 has it since Node 20, our lib typing is ES2023): it reserves
 * address space for `maxByteLength` and grows in place, so it is filled without a copy and its pages go
 * back to the system when it shrinks.
 */
interface ResizableArrayBuffer extends ArrayBuffer {
  resize(byteLength: number): void;
}
const ResizableArrayBuffer = ArrayBuffer as unknown as new (
  byteLength: number,
  options: { maxByteLength: number },
) => ResizableArrayBuffer;

/**
 * Above this many bytes DATA goes into a resizable buffer (keys/openpgp/encrypt.ts streams above the
 * same size). Below it the chunks are joined as before: V8 reads a plain buffer's bytes faster (about
 * twice, for a loop in JavaScript) and reserves no address space, and two copies of a small message
 * cost nothing worth it.
 */
export const IN_PLACE_ABOVE = 1024 * 1024;

/**
 * Drain the whole stream (smtp-server waits for its end before replying) but keep at most `cap` bytes:
 * never buffer unbounded input from a peer. smtp-server sets `sizeExceeded` past its `size` option, which
 * is the same cap; the local check covers a stream that ends exactly past our count.
 *
 * A large message is copied chunk by chunk into one buffer that grows in place (issue 17): collecting the
 * chunks and joining them at the end held it twice at its peak, and the chunks stayed with the process
 * until a full collection; the buffer's pages are the system's again at `release()`.
 */
export async function readCapped(
  stream: SMTPServerDataStream,
  cap: number,
): Promise<Received & { exceeded: boolean }> {
  let chunks: Buffer[] = [];
  let store: ResizableArrayBuffer | undefined;
  const release = () => {
    chunks = [];
    store?.resize(0);
  };
  let kept = 0;
  let over = false;
  try {
    await pipeline(stream, async (source: AsyncIterable<Buffer>) => {
      for await (const chunk of source) {
        if (over) continue;
        if (kept + chunk.length > cap) {
          over = true;
          release(); // let go of what we held: this message will be refused
          kept = 0;
          continue;
        }
        if (!store && kept + chunk.length > IN_PLACE_ABOVE) {
          store = new ResizableArrayBuffer(kept, { maxByteLength: cap });
          let at = 0;
          for (const held of chunks) at += held.copy(new Uint8Array(store, at, held.length));
          chunks = [];
        }
        if (!store) chunks.push(chunk);
        else {
          store.resize(kept + chunk.length);
          chunk.copy(new Uint8Array(store, kept, chunk.length));
        }
        kept += chunk.length;
      }
    });
  } catch (err) {
    release();
    throw err;
  }
  const raw = store ? Buffer.from(store, 0, kept) : Buffer.concat(chunks, kept);
  chunks = [];
  return { raw, release, exceeded: over || stream.sizeExceeded };
}

/**
 * DATA read with the size cap: the bytes, or the listener's size refusal (logged with the byte count,
 * thrown as the SMTP reply).
 */
export async function readData(
  listener: SmtpListener,
  session: string,
  stream: SMTPServerDataStream,
  cap: number,
): Promise<Received> {
  const read = await readCapped(stream, cap);
  if (!read.exceeded) return { raw: read.raw, release: read.release };
  read.release();
  const code = listener.codes.edge.sizeExceeded;
  listener.log.info(code, { session, bytes: stream.byteLength });
  throw smtpError(code);
}

/**
 * The message as every later stage reads it (line ends CRLF) and its header fields, or the refusal: logged
 * with the listener's code and the problem (a fixed word, never content), and thrown as the SMTP reply.
 */
export function atEdge(
  listener: SmtpListener,
  session: string,
  raw: Buffer,
): { raw: Buffer; split: SplitMessage } {
  const reading = readAtEdge(raw);
  if (reading.ok) return { raw: reading.raw, split: reading.split };
  const codes = listener.codes.edge;
  const code = codeFor(reading.problem, codes);
  listener.log.info(code, { session, reason: reading.problem });
  throw smtpError(code, code === codes.ambiguous ? reading.problem : undefined);
}

function codeFor(problem: EdgeProblem, codes: EdgeCodes): Code {
  if (problem === 'invalid') return codes.invalid;
  if (problem === 'header-too-big') return codes.headerTooBig;
  return codes.ambiguous;
}
