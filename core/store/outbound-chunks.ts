import { newId } from '../ids.ts';
import type { Sealer } from '../seal.ts';
import type { OutboundRow, OutboundStore, SpooledChunks } from './outbound.ts';

/**
 * A large spool body in sealed chunks (table outbound_chunks, owned by OutboundStore): written while the
 * copy is built, read while it is sent, so that neither the gateway nor the worker holds it whole
 * (docs/performance.md "Memory of one large message"). Small bodies stay one sealed blob in their row.
 */
type ChunkDeps = { sealer: Sealer; db: { stores: { outbound: OutboundStore } } };

/** The associated data of chunk `idx` of row `id`: the row, the place, and whether the body ends there. */
export function chunkAad(id: string, idx: number, last: boolean): string {
  return `${id}:${idx}${last ? ':last' : ''}`;
}

/** Plain bytes per chunk (the last may be shorter). */
export const CHUNK_BYTES = 1024 * 1024;

/**
 * Writes one copy's body as sealed chunks while it is produced (gateway/output.ts), each chunk in a
 * statement of its own before the row commits: the gateway never holds the whole copy, sealed or not.
 * A chunk is sealed once the next byte shows it is not the last; `end()` seals the rest as the last one.
 * The caller drops the chunks (`stores.outbound.chunks.dropUncommitted`, gateway/output.ts `dropChunks`) when the message then fails.
 */
export class ChunkWriter {
  readonly id = newId();
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #idx = 0;
  #size = 0;
  #ended = false;

  constructor(
    private readonly deps: ChunkDeps,
    private readonly now: number,
  ) {}

  /** True once anything was written (the copy went to chunks, not to `parts`). */
  get started(): boolean {
    return this.#size > 0;
  }

  async write(bytes: Uint8Array): Promise<void> {
    if (this.#ended) throw new Error('chunk writer ended');
    if (bytes.length === 0) return;
    this.#pending.push(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
    this.#pendingBytes += bytes.length;
    this.#size += bytes.length;
    while (this.#pendingBytes > CHUNK_BYTES) await this.#flush(CHUNK_BYTES, false);
  }

  async end(): Promise<SpooledChunks> {
    if (this.#ended) throw new Error('chunk writer ended');
    this.#ended = true;
    await this.#flush(this.#pendingBytes, true);
    return { id: this.id, chunks: this.#idx, size: this.#size };
  }

  async #flush(bytes: number, last: boolean): Promise<void> {
    const take: Buffer[] = [];
    let n = 0;
    while (n < bytes) {
      const head = this.#pending[0]!;
      const want = bytes - n;
      if (head.length <= want) {
        take.push(head);
        this.#pending.shift();
        n += head.length;
      } else {
        take.push(head.subarray(0, want));
        this.#pending[0] = head.subarray(want);
        n += want;
      }
    }
    this.#pendingBytes -= n;
    const idx = this.#idx++;
    const sealed = this.deps.sealer.seal('spool', take, chunkAad(this.id, idx, last));
    await this.deps.db.stores.outbound.chunks.add({
      outbound_id: this.id,
      idx,
      place: chunkAad(this.id, idx, last),
      body: sealed,
      created_at: this.now,
    });
  }
}

/** A chunk that is missing or does not open: the body must not be sent (worker/deliver.ts). */
export class SpoolUnreadableError extends Error {
  override name = 'SpoolUnreadableError';
}

/**
 * The chunks of a chunked row, read, opened and yielded one at a time (one SELECT per chunk). `first`: chunk
 * 0 already opened by the caller. Throws SpoolUnreadableError on a missing chunk or one that does not open
 * under its place (and, for the last, the last-chunk marker): a consumer stops before the end of the body.
 */
export async function* chunkReader(
  deps: ChunkDeps,
  row: Pick<OutboundRow, 'id' | 'chunks'>,
  first?: Buffer,
): AsyncGenerator<Buffer> {
  for (let idx = 0; idx < row.chunks; idx++) {
    yield idx === 0 && first ? first : await openChunk(deps, row, idx);
  }
}

/** Chunk `idx` of a chunked row, opened; SpoolUnreadableError when it is missing or does not open. */
export async function openChunk(
  deps: ChunkDeps,
  row: Pick<OutboundRow, 'id' | 'chunks'>,
  idx: number,
): Promise<Buffer> {
  const sealed = await deps.db.stores.outbound.chunks.get(row.id, idx);
  if (!sealed) throw new SpoolUnreadableError(`chunk ${idx} of ${row.chunks} missing`);
  try {
    return deps.sealer.open('spool', sealed, chunkAad(row.id, idx, idx === row.chunks - 1));
  } catch (err) {
    throw new SpoolUnreadableError(`chunk ${idx} of ${row.chunks} does not open`, { cause: err });
  }
}
