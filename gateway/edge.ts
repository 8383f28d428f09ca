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
 * Drain the whole stream (smtp-server waits for its end before replying) but keep at most `cap` bytes:
 * never buffer unbounded input from a peer. smtp-server sets `sizeExceeded` past its `size` option, which
 * is the same cap; the local check covers a stream that ends exactly past our count.
 * (`raw` is mutable so that the caller can let go of the message once it is encrypted.)
 */
export async function readCapped(
  stream: SMTPServerDataStream,
  cap: number,
): Promise<{ raw: Buffer; exceeded: boolean }> {
  const chunks: Buffer[] = [];
  let kept = 0;
  let over = false;
  await pipeline(stream, async (source: AsyncIterable<Buffer>) => {
    for await (const chunk of source) {
      if (over) continue;
      if (kept + chunk.length > cap) {
        over = true;
        chunks.length = 0; // release what we held: this message will be refused
        continue;
      }
      chunks.push(chunk);
      kept += chunk.length;
    }
  });
  return { raw: Buffer.concat(chunks, kept), exceeded: over || stream.sizeExceeded };
}

/**
 * DATA read with the size cap: the bytes, or the listener's size refusal (logged with the byte count,
 * thrown as the SMTP reply). `raw` is mutable so that the caller can let go of the message early.
 */
export async function readData(
  listener: SmtpListener,
  session: string,
  stream: SMTPServerDataStream,
  cap: number,
): Promise<{ raw: Buffer }> {
  const read = await readCapped(stream, cap);
  if (!read.exceeded) return { raw: read.raw };
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
