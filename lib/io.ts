/**
 * The two byte interfaces that join the network engine (lib/net) and the media engine (lib/media),
 * and the buffer pool both use. Plain web-standard types so the same code runs in Node, the
 * offscreen document and workers.
 */

/** A readable resource of bytes: an HTTP resource, a local file, an in-memory buffer. */
export interface ByteSource {
  /** Total size in bytes, or null when unknown (e.g. a response without Content-Length). */
  readonly size: number | null;
  /**
   * Streams bytes `[start, end)` in order (`end` defaults to the end of the resource).
   * The stream applies backpressure; cancelling it or aborting `signal` stops all work behind it.
   */
  stream(start?: number, end?: number, signal?: AbortSignal): ReadableStream<Uint8Array>;
}

/** A random-access destination for bytes: an OPFS file in the browser, a file in Node. */
export interface ByteSink {
  /**
   * Writes `data` at `position`. Writes may arrive out of order; overlapping writes are not made.
   * The sink is done with `data` once the promise settles: the caller may fill it again (a copy
   * reuses one buffer: lib/net/save.ts).
   */
  write(position: number, data: Uint8Array): Promise<void>;
  /**
   * Writes `parts` one after another from `position`, as if joined. Offered by sinks whose small
   * writes are cheap (a file written in place from a worker), so a copy need not join the
   * network's chunks into fresh memory first; others leave it out and get joined batches.
   */
  writeParts?(position: number, parts: readonly Uint8Array[]): Promise<void>;
  /** Flushes and finishes the file. Only after this resolves is the output complete. */
  close(): Promise<void>;
  /** Stops and removes whatever was written, so no partial file is ever left looking finished. */
  abort(reason?: unknown): Promise<void>;
}

/** Which version of a resource bytes came from: what a resumed download must find unchanged. */
export interface SourceVersion {
  size: number | null;
  etag: string | null;
  lastModified: string | null;
}

/**
 * A sink that keeps what it wrote across runs of the same job (the CLI's `.part` file and its
 * sidecar): a download killed halfway continues from where its bytes end.
 */
export interface ResumableSink extends ByteSink {
  /**
   * How many bytes from 0 an earlier run left for this version of the resource; 0 (and the old
   * bytes dropped) when there are none or they came from another version. `unverified` when
   * the resource has no validators, so sameness could not be checked (the caller says so).
   */
  resumeFrom(version: SourceVersion): Promise<{ offset: number; unverified: boolean }>;
  /** Records that bytes `[0, n)` are on disk, of `version` (made durable first). */
  checkpoint(n: number, version: SourceVersion): Promise<void>;
}

export function isResumable(sink: ByteSink): sink is ResumableSink {
  return typeof (sink as Partial<ResumableSink>).resumeFrom === 'function' && typeof (sink as Partial<ResumableSink>).checkpoint === 'function';
}

/**
 * Reusable buffers of one size: the network's landing buffers and slabs (lib/net/ranged-fetch.ts),
 * a reader's read buffers and a demuxer's sample slabs (lib/media/byte-reader.ts leases them to
 * several holders). Reuse instead of a fresh buffer per chunk: fresh gigabytes cost zero-filling,
 * page faults and garbage waiting for the collector (the 2 GB browser save: +291 MB without).
 */
export class BufferPool {
  private readonly free: ArrayBuffer[] = [];
  /** `maxFree`: free buffers kept for reuse; more are left to the collector. */
  constructor(
    readonly size: number,
    private readonly maxFree = Infinity,
  ) {}

  /** A free buffer, or a new one. */
  take(): ArrayBuffer {
    return this.free.pop() ?? new ArrayBuffer(this.size);
  }

  /** Takes back a buffer whose bytes nobody needs; one of another size (or detached: transferred away) is left to the collector. */
  recycle(buffer: ArrayBuffer): void {
    if (buffer.byteLength === this.size && this.free.length < this.maxFree) this.free.push(buffer);
  }
}
