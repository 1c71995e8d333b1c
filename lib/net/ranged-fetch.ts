/**
 * A {@link ByteSource} over HTTP that downloads with several ranged connections at once and hands
 * the bytes on in order, with backpressure and a bounded buffer. Falls back to one sequential
 * stream when the server ignores Range or the size is unknown. Every failure resumes from the last
 * good byte, following the retry table.
 */
import { VidmuxError } from '../errors';
import { BufferPool, type ByteSource } from '../io';
import { ProgressMeter, type Progress } from '../progress';
import { HttpClient, MAX_CONNECTIONS_PER_HOST, MediaUrl, byobReader, describeUrl, type HttpResponse } from './http';
import { HttpFailure, cancelledError, type RetryTracker } from './retry-policy';

/** Default size of one ranged request. */
export const DEFAULT_CHUNK_SIZE = 8 * 1024 * 1024;
/** Default number of connections per download. */
export const DEFAULT_CONNECTIONS = 4;
/**
 * The buffers a parallel download gathers the network's bytes in (read by BYOB), reused once a
 * reader copied them out: a copy of a 2 GB file then makes no garbage per network chunk. Garbage
 * was what Chromium's memory rose by during such a copy (the engine's worker frees network chunks
 * only when V8 collects them: peaks of +220 to +290 MB over idle, erratic between runs;
 * bench:browser).
 */
const SLAB_BYTES = 1024 * 1024;
/** Most bytes one read from the network takes (see `readLanded`). */
const LANDING_BYTES = 256 * 1024;

/** Options of {@link openRangedSource}. */
export interface RangedFetchOptions {
  /** The client to send requests with (shares its per-host connection cap). Default: a new one. */
  client?: HttpClient;
  /** Re-resolves the media URL when it expires (403/410). Without it, 403/410 are final. */
  refresh?: (staleUrl: string, signal?: AbortSignal) => Promise<string>;
  /** Bytes per ranged request. Default 8 MiB. */
  chunkSize?: number;
  /** Connections at once. Default 4; never more than 10 (nor the client's per-host cap). */
  connections?: number;
  /**
   * When no unstarted chunk is left, an idle connection takes over the second half of the
   * biggest unfinished one if that half is at least this big. Keeps every connection busy at the end.
   */
  minSplitBytes?: number;
  /** Receives progress of each stream, at most 10 times a second, and once at the end. */
  onProgress?: (progress: Progress) => void;
  /** Clock for progress (tests drive it). */
  now?: () => number;
  /** Extra request headers (e.g. a Referer a provider requires). */
  headers?: Record<string, string>;
  /** Cancels the probe. */
  signal?: AbortSignal;
}

/** What the probe learned about a resource. */
export interface ProbeResult {
  size: number | null;
  rangesSupported: boolean;
  contentType: string | null;
  /** The resource's validators: every later range must come from the same version of it. */
  etag: string | null;
  lastModified: string | null;
}

/**
 * The `If-Range` value for a resource: its ETag when strong, else its Last-Modified date (RFC 9110
 * 13.1.5: a weak ETag may not be used). With it a server that has a new version of the file
 * answers a range with the whole new file (200) instead of a piece of it.
 */
export function ifRangeOf(probe: Pick<ProbeResult, 'etag' | 'lastModified'>): string | null {
  if (probe.etag && !probe.etag.startsWith('W/')) return probe.etag;
  return probe.lastModified;
}

/** The error for a file that changed on the server between two requests of one download. */
export function sourceChanged(url: string, what: string): VidmuxError {
  return new VidmuxError('source_changed', `The file at ${describeUrl(url)} changed on the server during the download (${what}): its parts would not fit together.`);
}

/**
 * Probes `url` (one `Range: bytes=0-0` request: it tells both the size and whether ranges work,
 * and servers that mishandle HEAD answer it) and returns a source ready to stream.
 */
export async function openRangedSource(url: string, opts: RangedFetchOptions = {}): Promise<RangedSource> {
  const client = opts.client ?? new HttpClient();
  const media = new MediaUrl(url, opts.refresh);
  const probe = await probeResource(client, media, opts);
  return new RangedSource(client, media, probe, opts);
}

async function probeResource(client: HttpClient, media: MediaUrl, opts: RangedFetchOptions): Promise<ProbeResult> {
  const res = await client.request(media, {
    headers: { ...opts.headers, range: 'bytes=0-0' },
    acceptStatus: (s) => s === 416,
    ...(opts.signal ? { signal: opts.signal } : {}),
  });
  const contentType = res.headers.get('content-type');
  const validators = { etag: res.headers.get('etag'), lastModified: res.headers.get('last-modified') };
  try {
    if (res.status === 206) {
      const range = parseContentRange(res.headers.get('content-range'));
      if (!range || range.start !== 0) throw badRange(client, res, 'bytes 0-0');
      return { size: range.total, rangesSupported: true, contentType, ...validators };
    }
    if (res.status === 416) {
      // Only an empty resource cannot satisfy bytes=0-0.
      const total = /\*\/(\d+)/.exec(res.headers.get('content-range') ?? '')?.[1];
      return { size: total === undefined ? 0 : Number(total), rangesSupported: true, contentType, ...validators };
    }
    // 200: Range ignored. Content-Length is the size unless the body is re-encoded on the way.
    const length = res.headers.get('content-length');
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    return { size: length !== null && !encoded ? Number(length) : null, rangesSupported: false, contentType, ...validators };
  } finally {
    await res.cancel();
  }
}

/** One ranged piece of the download and the bytes of it not yet handed on. */
interface Chunk {
  /** First byte of the chunk. */
  start: number;
  /** End (exclusive). A splitting connection may lower it while the chunk downloads. */
  end: number;
  /** Next byte to fetch: everything before it is in `pieces`, in `slab`, or already handed on. */
  pos: number;
  /** Bytes ready to hand on, in order. */
  pieces: Uint8Array[];
  /** The buffer being filled from the network: a piece once full or when the chunk ends. */
  slab: { buffer: ArrayBuffer; filled: number } | null;
  started: boolean;
  done: boolean;
}

/** A resource on an HTTP server, read through the engine. */
export class RangedSource implements ByteSource {
  readonly size: number | null;
  /** Whether the server answers Range requests with 206. */
  readonly rangesSupported: boolean;
  readonly contentType: string | null;
  /** The version of the resource this source reads (see {@link ifRangeOf}). */
  readonly validators: Pick<ProbeResult, 'etag' | 'lastModified'>;
  /** Connections each stream uses. */
  readonly connections: number;
  readonly chunkSize: number;

  constructor(
    private readonly client: HttpClient,
    private readonly media: MediaUrl,
    probe: ProbeResult,
    private readonly opts: RangedFetchOptions = {},
  ) {
    this.size = probe.size;
    this.rangesSupported = probe.rangesSupported;
    this.contentType = probe.contentType;
    this.validators = { etag: probe.etag, lastModified: probe.lastModified };
    this.connections = Math.max(1, Math.min(opts.connections ?? DEFAULT_CONNECTIONS, MAX_CONNECTIONS_PER_HOST, client.maxConnectionsPerHost));
    this.chunkSize = Math.max(1, opts.chunkSize ?? DEFAULT_CHUNK_SIZE);
  }

  /** The URL in use now (changes after a refresh). */
  get url(): string {
    return this.media.current;
  }

  /**
   * Most bytes one stream holds in memory at once: one chunk per connection plus one ready to go,
   * so a connection never waits for the consumer to drain the head chunk.
   */
  get bufferLimitBytes(): number {
    return (this.connections + 1) * this.chunkSize;
  }

  /** Streams bytes `[start, end)` in order. */
  stream(start = 0, end?: number, signal?: AbortSignal): ReadableStream<Uint8Array> {
    const stop = end ?? this.size ?? Infinity;
    if (start < 0 || stop < start || (this.size !== null && stop > this.size)) {
      throw new VidmuxError('bad_input', `Range ${start}-${stop} is outside the resource (${this.size ?? 'unknown'} bytes).`);
    }
    const meter = new ProgressMeter(Number.isFinite(stop) ? stop - start : null, this.opts.now);
    const parallel = this.rangesSupported && Number.isFinite(stop) && this.connections > 1 && stop - start > this.chunkSize;
    const job = parallel
      ? new ParallelDownload(this.client, this.media, this.opts, meter, this.size, this.validators, start, stop, this.connections, this.chunkSize)
      : new SequentialDownload(this.client, this.media, this.opts, meter, this.size, this.validators, start, stop, this.rangesSupported, this.chunkSize);
    return job.stream(signal);
  }
}

/** State shared by both strategies: cancellation, progress. */
abstract class Download {
  protected readonly ctrl = new AbortController();

  constructor(
    protected readonly client: HttpClient,
    protected readonly media: MediaUrl,
    protected readonly opts: RangedFetchOptions,
    protected readonly meter: ProgressMeter,
    /** The resource's size from the probe; every 206 must agree with it. */
    protected readonly total: number | null,
    /** The version the probe saw: sent as If-Range, and every answer must be of it. */
    protected readonly validators: Pick<ProbeResult, 'etag' | 'lastModified'>,
  ) {}

  /** Whether ranges carry If-Range (not to a server that ignores ranges: its 200s are normal). */
  protected sendIfRange = true;

  /** Throws {@link sourceChanged} when an answer is of another version of the file than the probe's. */
  protected assertSameVersion(res: HttpResponse): void {
    const etag = res.headers.get('etag');
    const modified = res.headers.get('last-modified');
    const was = this.validators;
    if (was.etag && etag && etag !== was.etag) throw sourceChanged(res.url, `its ETag went from ${was.etag} to ${etag}`);
    if (was.lastModified && modified && modified !== was.lastModified) throw sourceChanged(res.url, `last modified ${was.lastModified}, now ${modified}`);
  }

  protected get headers(): Record<string, string> {
    return this.opts.headers ?? {};
  }

  protected counted(n: number): void {
    this.meter.add(n);
    const p = this.meter.throttled();
    if (p) this.opts.onProgress?.(p);
  }

  protected finished(): void {
    this.unlink();
    this.opts.onProgress?.(this.meter.throttled(true)!);
  }

  /**
   * Makes aborting the caller's signal abort this download. The listener goes away when the
   * download ends, so a long-lived caller signal does not keep finished downloads alive.
   */
  protected link(signal?: AbortSignal): void {
    if (!signal) return;
    if (signal.aborted) return this.ctrl.abort(signal.reason);
    const forward = () => this.ctrl.abort(signal.reason);
    signal.addEventListener('abort', forward, { once: true });
    this.unlink = () => signal.removeEventListener('abort', forward);
    this.ctrl.signal.addEventListener('abort', this.unlink, { once: true });
  }

  /** Detaches from the caller's signal. */
  protected unlink: () => void = () => {};

  /**
   * Requests `[pos, end)` and checks the answer. Returns the response and the end (exclusive) of
   * what it will deliver, or throws an {@link HttpFailure} describing what is wrong.
   */
  protected async requestRange(
    pos: number,
    end: number,
    tracker: RetryTracker,
    allowWhole: boolean,
  ): Promise<{ res: HttpResponse; bodyStart: number; bodyEnd: number; partial: boolean }> {
    const range = Number.isFinite(end) ? `bytes=${pos}-${end - 1}` : `bytes=${pos}-`;
    // From byte 0 to the very end a plain GET is the same request, and kinder to odd servers.
    const wantRange = pos > 0 || (Number.isFinite(end) && end !== this.total);
    // If-Range: a server with a newer file answers 200 (all of it), never a piece of the new one.
    const ifRange = wantRange && this.sendIfRange ? ifRangeOf(this.validators) : null;
    const res = await this.client.request(this.media, {
      headers: wantRange ? { ...this.headers, range, ...(ifRange ? { 'if-range': ifRange } : {}) } : this.headers,
      signal: this.ctrl.signal,
      retry: tracker,
    });
    try {
      // A 200 to a range with If-Range is a new version only if its validators say so: a server
      // may also just ignore Range (then the same ETag comes back, handled below as before).
      this.assertSameVersion(res);
    } catch (err) {
      await res.cancel();
      throw err;
    }
    if (res.status === 206) {
      const cr = parseContentRange(res.headers.get('content-range'));
      if (cr && this.total !== null && cr.total !== null && cr.total !== this.total) {
        await res.cancel();
        throw sourceChanged(res.url, `its size went from ${this.total} to ${cr.total} bytes`);
      }
      if (!cr || cr.start !== pos || (Number.isFinite(end) && cr.end >= end)) {
        await res.cancel();
        throw badRange(this.client, res, range);
      }
      const length = res.headers.get('content-length');
      if (length !== null && Number(length) !== cr.end - cr.start + 1) {
        await res.cancel();
        throw this.client.failure('bad_response', 'bad_response', `${describeUrl(res.url)} sent Content-Length ${length} for ${res.headers.get('content-range')}.`, { status: 206 });
      }
      // A server may send less than asked; we read what it sends and ask again for the rest.
      return { res, bodyStart: pos, bodyEnd: cr.end + 1, partial: true };
    }
    if (!allowWhole) {
      await res.cancel();
      throw this.client.failure('bad_response', 'bad_response', `${describeUrl(res.url)} ignored the byte range ${range} (status ${res.status}).`, { status: res.status });
    }
    const length = res.headers.get('content-length');
    const encoded = (res.headers.get('content-encoding') ?? 'identity') !== 'identity';
    return { res, bodyStart: 0, bodyEnd: length !== null && !encoded ? Number(length) : Infinity, partial: false };
  }
}

/** Several chunks at once, handed on in order. */
class ParallelDownload extends Download {
  private readonly chunks: Chunk[] = [];
  /** Index of the chunk being handed on. */
  private head = 0;
  private active = 0;
  private error: unknown = null;
  private wake: (() => void) | null = null;
  private readonly minSplitBytes: number;
  /**
   * Slabs whose bytes were copied out, to be filled again. No cap: the pool never holds more slabs
   * than were once in use together, which the window bounds.
   */
  private readonly slabs: BufferPool;
  /**
   * The slabs taken from the pool: only these go back once copied out. A plain body's chunk may
   * share its buffer with later chunks (a custom fetch), so a chunk's buffer is never a slab, even
   * when its size is a slab's.
   */
  private readonly ownSlabs = new WeakSet<ArrayBuffer>();
  /** Buffers the network is read into (one per connection at most). */
  private readonly landing = new BufferPool(LANDING_BYTES);

  constructor(
    client: HttpClient,
    media: MediaUrl,
    opts: RangedFetchOptions,
    meter: ProgressMeter,
    total: number | null,
    validators: Pick<ProbeResult, 'etag' | 'lastModified'>,
    start: number,
    end: number,
    private readonly connections: number,
    chunkSize: number,
  ) {
    super(client, media, opts, meter, total, validators);
    for (let s = start; s < end; s += chunkSize) {
      const e = Math.min(end, s + chunkSize);
      this.chunks.push({ start: s, end: e, pos: s, pieces: [], slab: null, started: false, done: false });
    }
    this.minSplitBytes = opts.minSplitBytes ?? Math.min(1024 * 1024, Math.max(1, Math.floor(chunkSize / 4)));
    this.slabs = new BufferPool(Math.min(SLAB_BYTES, chunkSize));
  }

  /**
   * A byte stream: a BYOB read gets a copy of the next bytes into the reader's buffer, and a slab
   * copied out whole goes back to the pool; a default read gets the piece itself (its memory then
   * leaves the pool).
   */
  stream(signal?: AbortSignal): ReadableStream<Uint8Array> {
    this.link(signal);
    this.ctrl.signal.addEventListener('abort', () => this.notify(), { once: true });
    return new ReadableStream(
      {
        type: 'bytes',
        start: () => this.fill(),
        pull: (controller) => this.pull(controller),
        cancel: (reason) => {
          this.ctrl.abort(reason ?? new VidmuxError('cancelled', 'Cancelled.'));
        },
      },
      { highWaterMark: 0 },
    );
  }

  private async pull(controller: ReadableByteStreamController): Promise<void> {
    for (;;) {
      if (this.error !== null) throw this.error;
      if (this.ctrl.signal.aborted) throw cancelledError(this.ctrl.signal);
      const head = this.chunks[this.head];
      if (!head) {
        this.finished();
        controller.close();
        // A pending BYOB read is answered "done" only by this.
        controller.byobRequest?.respond(0);
        return;
      }
      const piece = head.pieces[0];
      if (piece) {
        const into = controller.byobRequest?.view;
        if (!into) {
          head.pieces.shift();
          // Our own memory (a slab or the network's chunk), so never shared.
          controller.enqueue(piece as Uint8Array<ArrayBuffer>);
          return;
        }
        const n = Math.min(into.byteLength, piece.length);
        new Uint8Array(into.buffer, into.byteOffset, n).set(piece.subarray(0, n));
        controller.byobRequest!.respond(n);
        if (n < piece.length) {
          head.pieces[0] = piece.subarray(n);
        } else {
          head.pieces.shift();
          this.recycleSlab(piece.buffer as ArrayBuffer);
        }
        return;
      }
      if (head.done) {
        this.head++;
        this.fill();
        continue;
      }
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
  }

  /** A slab from the pool (or a new one), filled in place: never transferred while it is ours. */
  private takeSlab(): ArrayBuffer {
    const slab = this.slabs.take();
    this.ownSlabs.add(slab);
    return slab;
  }

  /** Gives back a buffer whose bytes were all copied out, if it is one of our slabs. */
  private recycleSlab(buffer: ArrayBuffer): void {
    if (this.ownSlabs.has(buffer)) this.slabs.recycle(buffer);
  }

  private notify(): void {
    const wake = this.wake;
    this.wake = null;
    wake?.();
  }

  /** Starts chunks while connections are free and the buffer has room; splits at the tail. */
  private fill(): void {
    if (this.error !== null || this.ctrl.signal.aborted) return;
    // Chunks from the head on hold bytes in memory: at most connections + 1 of them.
    const window = this.head + this.connections + 1;
    while (this.active < this.connections) {
      const next = this.chunks.findIndex((c, i) => i >= this.head && i < window && !c.started);
      if (next >= 0) {
        this.run(this.chunks[next]!);
        continue;
      }
      if (this.chunks.some((c) => !c.started)) return; // the buffer is full: wait for the consumer
      if (!this.splitTail()) return;
    }
  }

  /** Gives an idle connection the second half of the biggest unfinished chunk. */
  private splitTail(): boolean {
    let best = -1;
    let bestLeft = 0;
    for (let i = this.head; i < this.chunks.length; i++) {
      const c = this.chunks[i]!;
      const left = c.end - c.pos;
      if (!c.done && left > bestLeft) {
        best = i;
        bestLeft = left;
      }
    }
    if (best < 0 || bestLeft < 2 * this.minSplitBytes) return false;
    const victim = this.chunks[best]!;
    const mid = victim.pos + Math.ceil(bestLeft / 2);
    const tail: Chunk = { start: mid, end: victim.end, pos: mid, pieces: [], slab: null, started: false, done: false };
    victim.end = mid;
    this.chunks.splice(best + 1, 0, tail);
    this.run(tail);
    return true;
  }

  private run(chunk: Chunk): void {
    chunk.started = true;
    this.active++;
    this.download(chunk).then(
      () => {
        chunk.done = true;
        this.active--;
        this.notify();
        this.fill();
      },
      (err: unknown) => {
        this.active--;
        if (this.error === null) {
          this.error = this.ctrl.signal.aborted ? cancelledError(this.ctrl.signal) : err;
          this.ctrl.abort(this.error);
        }
        this.notify();
      },
    );
  }

  /** Downloads one chunk, resuming from the last good byte after each failure. */
  private async download(chunk: Chunk): Promise<void> {
    const tracker = this.client.tracker();
    while (chunk.pos < chunk.end) {
      const url = this.media.current;
      try {
        const { res, bodyEnd } = await this.requestRange(chunk.pos, chunk.end, tracker, false);
        const byob = byobReader(res.body);
        const reader = byob ?? res.body.getReader();
        const from = chunk.pos;
        try {
          for (;;) {
            const more = byob ? await this.readLanded(byob, chunk) : await this.readPiece(reader as ReadableStreamDefaultReader<Uint8Array>, chunk);
            if (!more) break;
            this.notify();
          }
        } finally {
          if (chunk.pos > from) tracker.progressed(chunk.pos - from, chunk.pos >= chunk.end);
          // No-op after the end of the body; otherwise (split chunk, failure) it drops the connection.
          await reader.cancel().catch(() => {});
        }
        if (chunk.pos < Math.min(chunk.end, bodyEnd)) {
          throw this.client.failure('truncated', 'truncated', `${describeUrl(res.url)} ended the data early, at byte ${chunk.pos} of ${bodyEnd}.`);
        }
      } catch (err) {
        if (this.ctrl.signal.aborted) throw cancelledError(this.ctrl.signal);
        if (!(err instanceof HttpFailure)) throw err;
        await this.client.recover(err, { tracker, media: this.media, url, signal: this.ctrl.signal });
      }
    }
    // A split may have ended the chunk inside a slab.
    this.handOnSlab(chunk);
  }

  /**
   * One BYOB read of the chunk's next bytes into a landing buffer, then copied into the chunk's
   * slab; false at the end of the body or of the chunk. Why not straight into the slab: a read
   * takes its buffer along (transferred), and a read that fails never gives it back, so the bytes
   * already in the slab would go with it; a landing buffer holds none that matter.
   */
  private async readLanded(reader: ReadableStreamBYOBReader, chunk: Chunk): Promise<boolean> {
    if (chunk.pos >= chunk.end) return false;
    const landing = this.landing.take();
    const { done, value } = await reader.read(new Uint8Array(landing, 0, Math.min(LANDING_BYTES, chunk.end - chunk.pos)));
    // The read hands the buffer back (it was transferred), also at the end of the body.
    if (value) this.landing.recycle(value.buffer as ArrayBuffer);
    if (done || !value) return false;
    // Measured after the read: the chunk may have been split while we waited, and bytes past its
    // new end belong to another connection.
    const kept = Math.min(value.length, chunk.end - chunk.pos);
    if (kept <= 0) return false;
    for (let at = 0; at < kept; ) {
      const slab = (chunk.slab ??= { buffer: this.takeSlab(), filled: 0 });
      const n = Math.min(kept - at, slab.buffer.byteLength - slab.filled);
      new Uint8Array(slab.buffer, slab.filled, n).set(value.subarray(at, at + n));
      slab.filled += n;
      at += n;
      if (slab.filled === slab.buffer.byteLength) this.handOnSlab(chunk);
    }
    chunk.pos += kept;
    this.counted(kept);
    if (chunk.pos >= chunk.end) this.handOnSlab(chunk);
    return chunk.pos < chunk.end;
  }

  /** The filled part of the chunk's slab, as its next piece. */
  private handOnSlab(chunk: Chunk): void {
    const slab = chunk.slab;
    chunk.slab = null;
    if (slab && slab.filled > 0) chunk.pieces.push(new Uint8Array(slab.buffer, 0, slab.filled));
    else if (slab) this.recycleSlab(slab.buffer);
  }

  /** One plain read (a body that is not a byte stream): the network's chunk is the piece. */
  private async readPiece(reader: ReadableStreamDefaultReader<Uint8Array>, chunk: Chunk): Promise<boolean> {
    if (chunk.pos >= chunk.end) return false;
    const { done, value } = await reader.read();
    if (done) return false;
    const room = chunk.end - chunk.pos;
    if (room <= 0) return false;
    const piece = value.length > room ? value.subarray(0, room) : value;
    chunk.pieces.push(piece);
    chunk.pos += piece.length;
    this.counted(piece.length);
    return chunk.pos < chunk.end;
  }
}

/** One connection, start to end; used when ranges do not work, the size is unknown or N = 1. */
class SequentialDownload extends Download {
  constructor(
    client: HttpClient,
    media: MediaUrl,
    opts: RangedFetchOptions,
    meter: ProgressMeter,
    total: number | null,
    validators: Pick<ProbeResult, 'etag' | 'lastModified'>,
    private readonly start: number,
    private readonly end: number,
    private readonly rangesSupported: boolean,
    /** With ranges, ask for this much per request, so a resume after failure is one request of it. */
    private readonly chunkSize: number,
  ) {
    super(client, media, opts, meter, total, validators);
    this.sendIfRange = rangesSupported;
  }

  stream(signal?: AbortSignal): ReadableStream<Uint8Array> {
    this.link(signal);
    const it = this.bytes();
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const r = await it.next();
            if (r.done) {
              this.finished();
              controller.close();
            } else {
              controller.enqueue(r.value);
            }
          } catch (err) {
            this.ctrl.abort(err);
            throw this.ctrl.signal.aborted && !(err instanceof VidmuxError) ? cancelledError(this.ctrl.signal) : err;
          }
        },
        cancel: (reason) => {
          this.ctrl.abort(reason ?? new VidmuxError('cancelled', 'Cancelled.'));
          void it.return(undefined).catch(() => {});
        },
      },
      { highWaterMark: 0 },
    );
  }

  private async *bytes(): AsyncGenerator<Uint8Array> {
    let pos = this.start;
    const tracker = this.client.tracker();
    // With a range-capable server ask in big slices so the per-request size stays sane;
    // otherwise one request for everything.
    const slice = this.rangesSupported && Number.isFinite(this.end) ? Math.max(this.chunkSize, 64 * 1024 * 1024) : Infinity;
    while (pos < this.end) {
      const url = this.media.current;
      const askEnd = Math.min(this.end, pos + slice);
      try {
        const { res, bodyStart, bodyEnd, partial } = await this.requestRange(pos, askEnd, tracker, true);
        const reader = res.body.getReader();
        // A server that ignores Range starts at byte 0: skip what we already have.
        let at = bodyStart;
        let got = 0;
        let ended = false;
        try {
          while (pos < askEnd) {
            const { done, value } = await reader.read();
            if (done) {
              ended = true;
              break;
            }
            let piece = value;
            if (at < pos) {
              const skip = Math.min(pos - at, piece.length);
              at += skip;
              piece = piece.subarray(skip);
            }
            if (piece.length > askEnd - pos) piece = piece.subarray(0, askEnd - pos);
            at += piece.length;
            if (piece.length === 0) continue;
            pos += piece.length;
            got += piece.length;
            this.counted(piece.length);
            yield piece;
          }
        } finally {
          if (got > 0) tracker.progressed(got, pos >= askEnd);
          if (!ended) await reader.cancel().catch(() => {});
        }
        // Size unknown: a whole body that ended cleanly is the whole resource, even if the
        // caller asked for more (the caller then sees the short read; retrying would not help).
        if (ended && (!Number.isFinite(this.end) || (this.total === null && !partial))) return;
        const promised = Math.min(askEnd, bodyEnd);
        if (ended && Number.isFinite(promised) && pos < promised) {
          throw this.client.failure('truncated', 'truncated', `${describeUrl(res.url)} ended the data early, at byte ${pos} of ${promised}.`);
        }
        if (ended && !partial && pos < askEnd) {
          // The server's whole body is shorter than the size we were told.
          throw this.client.failure('truncated', 'truncated', `${describeUrl(res.url)} ended the data early, at byte ${pos} of ${askEnd}.`);
        }
      } catch (err) {
        if (this.ctrl.signal.aborted) throw cancelledError(this.ctrl.signal);
        if (!(err instanceof HttpFailure)) throw err;
        await this.client.recover(err, { tracker, media: this.media, url, signal: this.ctrl.signal });
      }
    }
  }
}

/** Parses `bytes a-b/total` (total may be `*`). Null when missing or malformed. */
export function parseContentRange(value: string | null): { start: number; end: number; total: number | null } | null {
  const m = /^\s*bytes\s+(\d+)-(\d+)\/(\d+|\*)\s*$/i.exec(value ?? '');
  if (!m) return null;
  const start = Number(m[1]);
  const end = Number(m[2]);
  const total = m[3] === '*' ? null : Number(m[3]);
  if (end < start || (total !== null && end >= total)) return null;
  return { start, end, total };
}

function badRange(client: HttpClient, res: HttpResponse, asked: string): HttpFailure {
  return client.failure(
    'bad_response',
    'bad_response',
    `${describeUrl(res.url)} answered ${asked} with Content-Range "${res.headers.get('content-range') ?? 'none'}".`,
    { status: res.status },
  );
}
