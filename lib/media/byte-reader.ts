/**
 * Reading helpers over a {@link ByteSource}: whole small ranges (box headers, `moov`) and one
 * forward-only reader for sample data that turns many small sample reads into a few large
 * sequential reads, handing out zero-copy views of its read buffers.
 *
 * Buffer reuse: when the source can read into the caller's memory (a {@link RandomAccessSource}
 * such as a Node file, or a byte stream that gives a BYOB reader, such as `fetch` bodies), the
 * reader reads into a small pool of its own buffers instead of a fresh allocation per chunk. A
 * gigabyte of fresh buffers cost ~10% of the engine's CPU time (zero-filling, page faults, GC) and
 * much of its peak RSS (garbage waiting for collection). Views handed out stay valid while someone
 * holds their buffer: the reader holds its current chunk, and whoever keeps a view longer (the
 * muxer, until the view's sink write completes) calls {@link retainBuffer} / {@link releaseBuffer}.
 * A buffer goes back to the pool only when nobody holds it. Sources that only offer plain streams
 * get fresh chunks as before (retain/release are then no-ops).
 *
 * Each pooled buffer has headroom in front of the read data, so a sample that runs across two reads
 * is joined in place (the previous buffer's tail is copied in front of the next one) instead of
 * being copied out whole: samples stay views, and consecutive ones stay contiguous.
 */
import { VidmuxError } from '../errors';
import { BufferPool, type ByteSource } from '../io';

/** A forward gap smaller than this is read through and dropped; a larger one reopens the stream there. */
const MAX_SKIP_BYTES = 4 * 1024 * 1024;

/**
 * Bytes per read into a pooled buffer. On the 1 GB benchmark (Node file source and sink, reads
 * phased as READ_PHASE says): 256 KB 0.75 s, 512 KB 0.68 s, 1 MB 0.62 s, 2 MB 0.57 s, 4 MB 0.59 s
 * with ~10 MB more peak RSS.
 */
const READ_BUFFER_BYTES = 2 * 1024 * 1024;
/**
 * Where positional reads start within a 4 KB page of the file. The kernel's copy into our buffer
 * runs ~3.5x slower when source and destination sit at (nearly) the same offset within a page
 * (4K aliasing; measured on x86-64 Linux, within 16 bytes). Buffers come from the allocator at
 * page offset 0 or 16 (large allocations), and the read data starts a whole number of pages
 * (READ_HEADROOM_BYTES) after that, so reads starting mid-page stay clear. Left to chance (the
 * first sample's offset), whole benchmark runs took ~1.7x the system time.
 */
const READ_PHASE = 2048;
const PAGE_BYTES = 4096;
/** Room in front of each read buffer for the unread tail of the previous one (see carryOver). */
const READ_HEADROOM_BYTES = 256 * 1024;
/** Pooled reads kept in flight, so the source reads back to back while a chunk is consumed (1 measured ~25% slower). */
const READ_AHEAD = 2;
/** Free buffers a pool keeps for reuse; more are left to the GC. */
const MAX_FREE_BUFFERS = 8;

/** Who holds a pooled buffer: `refs` holders; back to `pool` at zero. */
interface Lease {
  refs: number;
  pool: BufferPool;
}
const leases = new WeakMap<ArrayBufferLike, Lease>();

/** Keeps `buffer` (if pooled) from being reused until the matching {@link releaseBuffer}. */
export function retainBuffer(buffer: ArrayBufferLike): void {
  const lease = leases.get(buffer);
  if (lease) lease.refs++;
}

/** Drops one hold on `buffer`; a pooled buffer nobody holds goes back to its pool. */
export function releaseBuffer(buffer: ArrayBufferLike): void {
  const lease = leases.get(buffer);
  if (!lease || --lease.refs > 0) return;
  leases.delete(buffer);
  lease.pool.recycle(buffer as ArrayBuffer);
}

/** Registers `buffer`, just taken from `pool`, as held once (by whoever took it); it goes back to `pool` when nobody holds it. */
export function leaseBuffer(pool: BufferPool, buffer: ArrayBufferLike): void {
  leases.set(buffer, { refs: 1, pool });
}

/** A pool of one size for a reader's or a demuxer's buffers, keeping at most {@link MAX_FREE_BUFFERS} free. */
export function readerPool(size: number): BufferPool {
  return new BufferPool(size, MAX_FREE_BUFFERS);
}

/** Reads `[start, end)` fully into one buffer (for small ranges only: headers, `moov`, `moof`). */
export async function readRange(source: ByteSource, start: number, end: number, signal?: AbortSignal): Promise<Uint8Array> {
  const stop = source.size === null ? end : Math.min(end, source.size);
  if (stop <= start) return new Uint8Array(0);
  const reader = source.stream(start, stop, signal).getReader();
  const parts: Uint8Array[] = [];
  let total = 0;
  try {
    while (total < stop - start) {
      const { value, done } = await reader.read();
      if (done) break;
      parts.push(value);
      total += value.length;
    }
  } finally {
    reader.cancel().catch(() => undefined);
  }
  if (parts.length === 1) return parts[0]!.subarray(0, stop - start);
  const out = new Uint8Array(Math.min(total, stop - start));
  let pos = 0;
  for (const p of parts) {
    const n = Math.min(p.length, out.length - pos);
    out.set(p.subarray(0, n), pos);
    pos += n;
  }
  return out;
}

/**
 * Optional capability of a {@link ByteSource}: positional reads straight into the caller's buffer
 * (local files). The reader prefers it to `stream()`: same buffers and read-ahead as with a BYOB
 * stream, without the stream machinery (~10% of the engine's CPU time on a 1 GB file in Node).
 */
export interface RandomAccessSource extends ByteSource {
  openRandomAccess(signal?: AbortSignal): RandomAccess;
}

/** Positional reads on an open {@link RandomAccessSource}. */
export interface RandomAccess {
  /** Fills `target` with the bytes at `position`; fewer only at the end of the source. Resolves to the count. */
  read(position: number, target: Uint8Array): Promise<number>;
  close(): void;
}

function isRandomAccess(source: ByteSource): source is RandomAccessSource {
  return typeof (source as Partial<RandomAccessSource>).openRandomAccess === 'function';
}

/**
 * Forward-only reader of one ByteSource. `read(offset, length)` must be called with
 * non-decreasing offsets; small gaps are read through, large ones reopen the stream.
 * A returned view stays valid until the next `read` or `close` unless its buffer is retained
 * ({@link retainBuffer}).
 */
export class SequentialReader {
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  private byob: ReadableStreamBYOBReader | null = null;
  private random: RandomAccess | null = null;
  /** Where the next positional read starts. */
  private nextReadAt = 0;
  /** BYOB or positional reads in flight, oldest first (read-ahead: the next chunks load while this one is consumed). */
  private ahead: Array<Promise<ReadableStreamReadResult<Uint8Array>>> = [];
  private readonly pool: BufferPool;
  private readonly bufferBytes: number;
  private readonly headroomBytes: number;
  /** The current chunk, its file offset and how far into it we are. */
  private chunk: Uint8Array = new Uint8Array(0);
  private chunkStart = 0;
  private pos = 0;

  /**
   * @param onBytes called with the size of every chunk pulled from the source (progress).
   */
  constructor(
    private readonly source: ByteSource,
    private readonly signal?: AbortSignal,
    private readonly onBytes?: (n: number) => void,
    /** Read and headroom sizes (tests use small ones). */
    sizes: { bufferBytes?: number; headroomBytes?: number } = {},
  ) {
    this.bufferBytes = sizes.bufferBytes ?? READ_BUFFER_BYTES;
    this.headroomBytes = sizes.headroomBytes ?? READ_HEADROOM_BYTES;
    this.pool = readerPool(this.headroomBytes + this.bufferBytes);
  }

  /** The file offset of the next unread byte. */
  get position(): number {
    return this.pos;
  }

  /**
   * Returns bytes `[offset, offset + length)`. Returns fewer bytes only at the end of the source
   * when `allowShort` is set; otherwise a short read throws `truncated`.
   */
  read(offset: number, length: number, allowShort = false): Promise<Uint8Array> | Uint8Array {
    // Fast path, synchronous: wholly inside the current chunk, hand out a view (no copy).
    const at = offset - this.chunkStart;
    if (at >= 0 && at + length <= this.chunk.length && this.isOpen) {
      this.pos = offset + length;
      return this.chunk.subarray(at, at + length);
    }
    return this.readSlow(offset, length, allowShort);
  }

  private async readSlow(offset: number, length: number, allowShort: boolean): Promise<Uint8Array> {
    const open = this.isOpen;
    const inCurrentChunk = open && offset >= this.chunkStart && offset <= this.chunkStart + this.chunk.length;
    if (inCurrentChunk) this.pos = offset;
    else if (!open || offset < this.pos || offset - this.pos > MAX_SKIP_BYTES) this.open(offset);
    // Skip forward through the stream.
    while (this.pos < offset) {
      const inChunk = this.chunkStart + this.chunk.length - this.pos;
      if (inChunk <= 0) {
        if (!(await this.pull())) return this.short(offset, length, new Uint8Array(0), allowShort);
        continue;
      }
      this.pos += Math.min(inChunk, offset - this.pos);
    }
    if ((this.byob || this.random) && this.pos - this.chunkStart + length > this.chunk.length) await this.carryOver(length);
    const at = this.pos - this.chunkStart;
    if (at + length <= this.chunk.length) {
      this.pos += length;
      return this.chunk.subarray(at, at + length);
    }
    const out = new Uint8Array(length);
    let filled = 0;
    while (filled < length) {
      const avail = this.chunkStart + this.chunk.length - this.pos;
      if (avail <= 0) {
        if (!(await this.pull())) return this.short(offset, length, out.subarray(0, filled), allowShort);
        continue;
      }
      const n = Math.min(avail, length - filled);
      const from = this.pos - this.chunkStart;
      out.set(this.chunk.subarray(from, from + n), filled);
      filled += n;
      this.pos += n;
    }
    return out;
  }

  /**
   * The range at `pos` runs past the current chunk: pulls the next chunk and copies the current
   * chunk's tail into the headroom in front of it, so the range (and the ranges after it) are
   * views of one buffer. Without this, every range across a chunk boundary became a separate
   * copy, and a separate sink write. Leaves things as they are when the tail or the range is too
   * large for that (the caller then copies).
   */
  private async carryOver(length: number): Promise<void> {
    const prev = this.chunk;
    const from = this.pos - this.chunkStart;
    const tail = prev.length - from;
    if (tail <= 0 || tail > this.headroomBytes || length > this.bufferBytes) return;
    retainBuffer(prev.buffer);
    try {
      if (!(await this.pull())) return;
      const next = this.chunk;
      if (next.byteOffset < tail) return;
      const joined = new Uint8Array(next.buffer, next.byteOffset - tail, next.length + tail);
      joined.set(prev.subarray(from), 0);
      this.chunk = joined;
      this.chunkStart -= tail;
    } finally {
      releaseBuffer(prev.buffer);
    }
  }

  /** Stops the underlying stream. */
  close(): void {
    this.reader?.cancel().catch(() => undefined);
    this.byob?.cancel().catch(() => undefined);
    this.random?.close();
    this.reader = null;
    this.byob = null;
    this.random = null;
    this.ahead = [];
    this.setChunk(new Uint8Array(0));
  }

  private get isOpen(): boolean {
    return this.reader !== null || this.byob !== null || this.random !== null;
  }

  private open(offset: number): void {
    this.close();
    this.chunkStart = offset;
    this.pos = offset;
    if (isRandomAccess(this.source)) {
      this.random = this.source.openRandomAccess(this.signal);
      // Reads start at READ_PHASE within a 4 KB page (a little before `offset`; the skip below
      // drops the extra bytes); all later reads keep that phase.
      const start = offset >= READ_PHASE ? offset - ((offset - READ_PHASE) % PAGE_BYTES) : offset;
      this.chunkStart = start;
      this.pos = start;
      this.nextReadAt = start;
      return;
    }
    const stream = this.source.stream(offset, undefined, this.signal);
    try {
      this.byob = stream.getReader({ mode: 'byob' });
    } catch {
      // Not a byte stream: plain chunks, freshly allocated by the source.
      this.reader = stream.getReader();
    }
    this.chunkStart = offset;
    this.pos = offset;
  }

  /** Replaces the current chunk, dropping the reader's hold on the previous one. */
  private setChunk(next: Uint8Array): void {
    if (this.chunk.byteLength > 0) releaseBuffer(this.chunk.buffer);
    this.chunk = next;
  }

  /** Starts the next read into a pooled buffer (after its headroom). */
  private startRead(): Promise<ReadableStreamReadResult<Uint8Array>> {
    const target = new Uint8Array(this.pool.take(), this.headroomBytes, this.bufferBytes);
    if (!this.random) return this.byob!.read(target);
    const at = this.nextReadAt;
    this.nextReadAt += target.length;
    return this.random.read(at, target).then((n) => (n > 0 ? { done: false, value: target.subarray(0, n) } : { done: true, value: undefined }));
  }

  private async pull(): Promise<boolean> {
    let value: Uint8Array | undefined;
    if (this.byob || this.random) {
      if (this.signal?.aborted) throw this.signal.reason ?? new DOMException('Aborted', 'AbortError');
      while (this.ahead.length < READ_AHEAD) {
        const read = this.startRead();
        // Unhandled until awaited; errors surface at the pull that awaits it.
        read.catch(() => undefined);
        this.ahead.push(read);
      }
      const { value: v, done } = await this.ahead.shift()!;
      if (done || !v || v.length === 0) return false;
      leaseBuffer(this.pool, v.buffer);
      value = v;
    } else if (this.reader) {
      const { value: v, done } = await this.reader.read();
      if (done) return false;
      value = v;
    } else {
      return false;
    }
    this.chunkStart += this.chunk.length;
    this.setChunk(value);
    this.onBytes?.(value.length);
    return true;
  }

  private short(offset: number, length: number, got: Uint8Array, allowShort: boolean): Uint8Array {
    if (allowShort) return got;
    throw new VidmuxError(
      'truncated',
      `The input ended early: needed bytes ${offset}-${offset + length - 1} but it stops at ${offset + got.length}.`,
    );
  }
}
