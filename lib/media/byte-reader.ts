/**
 * Reading helpers over a {@link ByteSource}: whole small ranges (box headers, `moov`) and one
 * forward-only reader for sample data that turns many small sample reads into a few large
 * sequential stream reads, handing out zero-copy views whenever a sample lies inside one chunk.
 */
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';

/** A forward gap smaller than this is read through and dropped; a larger one reopens the stream there. */
const MAX_SKIP_BYTES = 4 * 1024 * 1024;

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
 * Forward-only reader of one ByteSource. `read(offset, length)` must be called with
 * non-decreasing offsets; small gaps are read through, large ones reopen the stream.
 */
export class SequentialReader {
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
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
  ) {}

  /** The file offset of the next unread byte. */
  get position(): number {
    return this.pos;
  }

  /**
   * Returns bytes `[offset, offset + length)`. Returns fewer bytes only at the end of the source
   * when `allowShort` is set; otherwise a short read throws `truncated`.
   */
  async read(offset: number, length: number, allowShort = false): Promise<Uint8Array> {
    const inCurrentChunk = this.reader !== null && offset >= this.chunkStart && offset <= this.chunkStart + this.chunk.length;
    if (inCurrentChunk) this.pos = offset;
    else if (this.reader === null || offset < this.pos || offset - this.pos > MAX_SKIP_BYTES) this.open(offset);
    // Skip forward through the stream.
    while (this.pos < offset) {
      const inChunk = this.chunkStart + this.chunk.length - this.pos;
      if (inChunk <= 0) {
        if (!(await this.pull())) return this.short(offset, length, new Uint8Array(0), allowShort);
        continue;
      }
      this.pos += Math.min(inChunk, offset - this.pos);
    }
    // Fast path: wholly inside the current chunk, hand out a view (no copy).
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

  /** Stops the underlying stream. */
  close(): void {
    this.reader?.cancel().catch(() => undefined);
    this.reader = null;
  }

  private open(offset: number): void {
    this.close();
    this.reader = this.source.stream(offset, undefined, this.signal).getReader();
    this.chunk = new Uint8Array(0);
    this.chunkStart = offset;
    this.pos = offset;
  }

  private async pull(): Promise<boolean> {
    if (!this.reader) return false;
    const { value, done } = await this.reader.read();
    if (done) return false;
    this.chunkStart += this.chunk.length;
    this.chunk = value;
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
