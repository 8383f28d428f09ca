import { CONFIG, openpgp, type EncryptionKey, type SigningKey } from './boundary.ts';

/**
 * Sign with `signer` and encrypt to every key in `to`, as one OpenPGP message (RFC 3156 §6.2,
 * the combined method). Binary literal data, no compression, ASCII-armored output.
 */
export async function encryptAndSign(input: {
  data: Uint8Array;
  to: readonly EncryptionKey[];
  signer: SigningKey;
  now: Date;
}): Promise<string> {
  if (input.to.length === 0) throw new Error('no encryption keys');
  const message = await openpgp.createMessage({ binary: input.data, format: 'binary', date: input.now });
  return openpgp.encrypt({ message, ...signAndEncryptTo(input) });
}

/** The options every outgoing message is encrypted with: to these keys, signed, armored, no compression. */
function signAndEncryptTo(input: { to: readonly EncryptionKey[]; signer: SigningKey; now: Date }) {
  return {
    encryptionKeys: input.to.map((k) => k.key),
    signingKeys: input.signer.key,
    date: input.now,
    format: 'armored' as const,
    config: CONFIG,
  };
}

/**
 * Above this many bytes openpgp.js runs on streams: the input is fed in chunks and the armored output is
 * collected in chunks, so a 25 MB message is not copied whole at every step (in-memory peak about a third).
 * Below it the whole-buffer call is several times faster, and messages are small.
 */
export const STREAM_THRESHOLD = 1024 * 1024;
const STREAM_CHUNK = 256 * 1024;

/**
 * Sign and encrypt `parts` (concatenated, never copied into one buffer first) and return the ASCII armor
 * as chunks of bytes with CRLF line ends, ready for a MIME body (the caller joins them once). The result
 * is the same OpenPGP message either way; the streamed one uses partial body lengths, which every OpenPGP
 * implementation reads (the interop tests check gpg and sq).
 */
export async function encryptAndSignArmoredCrlf(
  input: {
    parts: readonly Uint8Array[];
    to: readonly EncryptionKey[];
    signer: SigningKey;
    now: Date;
  },
  sink?: ArmorSink,
): Promise<Buffer[]> {
  if (input.to.length === 0) throw new Error('no encryption keys');
  const total = input.parts.reduce((n, p) => n + p.length, 0);
  if (total <= STREAM_THRESHOLD) {
    const data = input.parts.length === 1 ? input.parts[0]! : Buffer.concat(input.parts);
    const armored = await encryptAndSign({ data, to: input.to, signer: input.signer, now: input.now });
    return [Buffer.from(toCrlf(armored), 'latin1')];
  }
  const message = await openpgp.createMessage({
    binary: chunkedStream(input.parts),
    format: 'binary',
    date: input.now,
  });
  // Binary packets, armored here into Buffers: openpgp.js's own streaming armor makes several strings of
  // every chunk (on the JavaScript heap, freed only by a later full collection); the bytes are the same.
  const binary = await openpgp.encrypt({ message, ...signAndEncryptTo(input), format: 'binary' });
  const out: Buffer[] = [];
  // Errors anywhere in the pipeline (a bad key, a failing signature) reject this loop: nothing is returned.
  // With a sink each chunk goes there as it comes (awaited: the sink's pace is the pipeline's), not kept.
  for await (const bytes of armorCrlf(binary as unknown as AsyncIterable<Uint8Array>)) {
    if (sink) await sink(bytes);
    else out.push(bytes);
  }
  return out;
}

const BEGIN_MESSAGE = Buffer.from('-----BEGIN PGP MESSAGE-----\r\n\r\n', 'latin1');
/** Bytes per armor line: 60 base64 characters, as openpgp.js writes them. */
const LINE_BYTES = 45;

/**
 * ASCII armor (RFC 4880 §6.2) of an OpenPGP message, exactly as openpgp.js writes it for ours (no Version or
 * Comment header, lines of 60 characters, the CRC-24 checksum line that SEIPD v1 messages carry), with CRLF
 * line ends, as Buffers: one per input chunk.
 */
export async function* armorCrlf(binary: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  yield BEGIN_MESSAGE;
  let crc = CRC24_INIT;
  let rest = Buffer.alloc(0);
  for await (const chunk of binary) {
    crc = crc24(crc, chunk);
    const view = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    const data = rest.length > 0 ? Buffer.concat([rest, view]) : view;
    const lines = Math.floor(data.length / LINE_BYTES);
    if (lines > 0) yield base64Lines(data.subarray(0, lines * LINE_BYTES), lines);
    rest = Buffer.from(data.subarray(lines * LINE_BYTES)); // fewer than 45 bytes: a copy, not a view
  }
  const tail = rest.length > 0 ? `${rest.toString('base64')}\r\n` : '';
  const sum = Buffer.from([(crc >> 16) & 0xff, (crc >> 8) & 0xff, crc & 0xff]).toString('base64');
  yield Buffer.from(`${tail}=${sum}\r\n-----END PGP MESSAGE-----\r\n`, 'latin1');
}

/**
 * `lines` × 45 bytes as lines of 60 base64 characters, each followed by CRLF, written straight into one
 * Buffer (no string of the chunk on the JavaScript heap).
 */
function base64Lines(data: Buffer, lines: number): Buffer {
  const out = Buffer.allocUnsafe(lines * 62);
  let o = 0;
  for (let line = 0, i = 0; line < lines; line++) {
    for (const end = i + LINE_BYTES; i < end; i += 3) {
      const n = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
      out[o++] = B64[n >> 18]!;
      out[o++] = B64[(n >> 12) & 63]!;
      out[o++] = B64[(n >> 6) & 63]!;
      out[o++] = B64[n & 63]!;
    }
    out[o++] = 0x0d;
    out[o++] = 0x0a;
  }
  return out;
}

const B64 = Buffer.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', 'latin1');

const CRC24_INIT = 0xb704ce;
const CRC24_TABLE = (() => {
  const table = new Int32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i << 16;
    for (let j = 0; j < 8; j++) {
      c <<= 1;
      if (c & 0x1000000) c ^= 0x1864cfb;
    }
    table[i] = c & 0xffffff;
  }
  return table;
})();

/** RFC 4880 §6.1 CRC-24, continued over `data`. */
function crc24(crc: number, data: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < data.length; i++)
    c = ((c << 8) ^ CRC24_TABLE[((c >> 16) ^ data[i]!) & 0xff]!) & 0xffffff;
  return c;
}

/**
 * Where the armor of a streamed (large) message goes chunk by chunk instead of into the returned list:
 * the spool's chunk writer (gateway/output.ts). Below STREAM_THRESHOLD it is not called.
 */
export type ArmorSink = (chunk: Buffer) => Promise<void>;

/** Armor has no meaningful CR: dropping every CR and expanding every LF is safe chunk by chunk. */
function toCrlf(text: string): string {
  return text.replace(/\r/g, '').replace(/\n/g, '\r\n');
}

function chunkedStream(parts: readonly Uint8Array[]): ReadableStream<Uint8Array> {
  let part = 0;
  let offset = 0;
  return new ReadableStream<Uint8Array>({
    pull(controller) {
      while (part < parts.length && offset >= parts[part]!.length) {
        part++;
        offset = 0;
      }
      const current = parts[part];
      if (!current) {
        controller.close();
        return;
      }
      const end = Math.min(offset + STREAM_CHUNK, current.length);
      controller.enqueue(current.subarray(offset, end));
      offset = end;
    },
  });
}

/**
 * Sign and encrypt `parts` as one binary OpenPGP message (a pickup: only our own browser code reads it).
 * Streams above STREAM_THRESHOLD like encryptAndSignArmoredCrlf; returns the message as chunks.
 */
export async function encryptAndSignBinary(input: {
  parts: readonly Uint8Array[];
  to: readonly EncryptionKey[];
  signer: SigningKey;
  now: Date;
}): Promise<Buffer[]> {
  if (input.to.length === 0) throw new Error('no encryption keys');
  const total = input.parts.reduce((n, p) => n + p.length, 0);
  const binary = total <= STREAM_THRESHOLD ? Buffer.concat(input.parts) : chunkedStream(input.parts);
  const message = await openpgp.createMessage({ binary, format: 'binary', date: input.now });
  const out = await openpgp.encrypt({ message, ...signAndEncryptTo(input), format: 'binary' });
  if (out instanceof Uint8Array) return [Buffer.from(out.buffer, out.byteOffset, out.byteLength)];
  const chunks: Buffer[] = [];
  for await (const chunk of out as unknown as AsyncIterable<Uint8Array>) {
    chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
  }
  return chunks;
}

/**
 * Encrypt `data` to `to` alone, unsigned, as binary packets: a secret for the holder of the key (an access
 * code for the practitioner's console key, docs/console.md). No compression.
 */
export async function encryptToKey(input: {
  data: Uint8Array;
  to: EncryptionKey;
  now: Date;
}): Promise<Uint8Array> {
  const message = await openpgp.createMessage({ binary: input.data, format: 'binary', date: input.now });
  return openpgp.encrypt({
    message,
    encryptionKeys: input.to.key,
    date: input.now,
    format: 'binary',
    config: CONFIG,
  });
}
