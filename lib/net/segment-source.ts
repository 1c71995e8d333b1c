/**
 * A {@link ByteSource} that is the concatenation of many segments (an HLS or DASH track: an
 * initialization segment and its media segments), fetched several at once and handed on in order,
 * with bounded memory. Each segment is one request (a whole URL, or a byte range of one), retried
 * by the client's retry table; a segment whose link expired asks for a fresh one (the playlist
 * again); a segment that must be decrypted (HLS AES-128) is, before it is handed on.
 *
 * The size is unknown until the last segment is in: `size` is null and progress counts segments
 * as well as bytes. Pair it with {@link ForwardSource} for a demuxer: every `stream()` runs the
 * segments from the first one again.
 */
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';
import { ProgressMeter, type Progress } from '../progress';
import { HttpClient, MediaUrl, byobReader, describeUrl, type HttpResponse } from './http';
import { joinBytes } from './bytes';
import { parseContentRange } from './ranged-fetch';
import { HttpFailure, cancelledError } from './retry-policy';

/** One segment: a URL, or an inclusive byte range of it. */
export interface SegmentRef {
  url: string;
  range: { start: number; end: number } | null;
}

/** Options of {@link SegmentedSource}. */
export interface SegmentedSourceOptions {
  /** The context's client (its per-host cap holds across everything it fetches). */
  client?: HttpClient;
  /** Segments fetched at once. Default 4; never more than the client's per-host cap. */
  concurrency?: number;
  /**
   * Segments fetched ahead of the one handed on next, in flight or waiting (default: 3 x
   * `concurrency`, and never more than {@link AHEAD_BYTES} waiting): a slow segment, or a consumer
   * busy with the last one, does not leave the other connections idle.
   */
  ahead?: number;
  /** Cancels every fetch. */
  signal?: AbortSignal;
  /** Progress: bytes handed on, and segments done of all. At most 10 times a second, and at the end. */
  onProgress?: (progress: Progress) => void;
  /** Turns a segment's bytes into what is handed on (e.g. AES-128 decryption); `index` is its place. */
  transform?: (bytes: Uint8Array, index: number) => Uint8Array | Promise<Uint8Array>;
  /** A fresh URL for segment `index` whose link expired (403/410): the playlist again. */
  refresh?: (index: number, staleUrl: string, signal?: AbortSignal) => Promise<string>;
  /** A segment larger than this is refused (a hostile playlist cannot exhaust memory). Default 256 MiB. */
  maxSegmentBytes?: number;
  now?: () => number;
}

const DEFAULT_MAX_SEGMENT_BYTES = 256 * 1024 * 1024;
/** Bytes of fetched segments waiting to be handed on, past which no further segment starts. */
const AHEAD_BYTES = 64 * 1024 * 1024;

export class SegmentedSource implements ByteSource {
  readonly size = null;
  /** Segments fetched at once. */
  readonly concurrency: number;
  /** Segments fetched ahead of the next one handed on. */
  readonly ahead: number;

  constructor(
    private readonly segments: readonly SegmentRef[],
    private readonly opts: SegmentedSourceOptions = {},
  ) {
    if (!segments.length) throw new VidmuxError('bad_input', 'A segmented track with no segments.');
    const client = opts.client ?? new HttpClient();
    this.concurrency = Math.max(1, Math.min(opts.concurrency ?? 4, client.maxConnectionsPerHost));
    this.ahead = Math.max(this.concurrency, opts.ahead ?? 3 * this.concurrency);
    this.client = client;
  }

  private readonly client: HttpClient;

  /** How many segments the track has. */
  get count(): number {
    return this.segments.length;
  }

  /** Streams bytes `[start, end)` of the concatenation, in order. */
  stream(start = 0, end = Infinity, signal?: AbortSignal): ReadableStream<Uint8Array> {
    const run = new SegmentRun(this.client, this.segments, this.opts, this.concurrency, this.ahead, signal);
    let at = 0; // position in the concatenation of the next byte handed out by `run`
    // A segment as it was read (one buffer, or the network's chunks): handed on piece by piece,
    // never joined (a copy of every segment into fresh memory was the engine worker's largest
    // cost: bench:browser's HLS).
    let pieces: Uint8Array[] = [];
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          for (;;) {
            if (at >= end) {
              run.stop();
              controller.close();
              return;
            }
            if (!pieces.length) {
              const segment = await run.next();
              if (!segment) {
                controller.close();
                return;
              }
              pieces = segment.filter((p) => p.length > 0).reverse();
              continue;
            }
            const piece = pieces.pop()!;
            const from = Math.max(0, start - at);
            const to = Math.min(piece.length, end - at);
            at += piece.length;
            if (from < to) {
              controller.enqueue(from === 0 && to === piece.length ? piece : piece.subarray(from, to));
              return;
            }
          }
        },
        cancel: (reason) => run.stop(reason),
      },
      { highWaterMark: 0 },
    );
  }
}

/**
 * One pass over the segments: up to `concurrency` in flight, up to `ahead` fetched ahead of the
 * one handed on next (in flight, or done and waiting their turn), handed on in order.
 */
class SegmentRun {
  private readonly ctrl = new AbortController();
  private readonly pending = new Map<number, Promise<Segment>>();
  private nextToStart = 0;
  private nextToHand = 0;
  /** Requests not yet answered whole. */
  private inFlight = 0;
  /** Bytes fetched and waiting their turn. */
  private waitingBytes = 0;
  private readonly meter: ProgressMeter;
  private bytesDone = 0;
  private readonly unlink: () => void;

  constructor(
    private readonly client: HttpClient,
    private readonly segments: readonly SegmentRef[],
    private readonly opts: SegmentedSourceOptions,
    private readonly concurrency: number,
    private readonly ahead: number,
    signal: AbortSignal | undefined,
  ) {
    this.meter = new ProgressMeter(null, opts.now);
    const outer = [signal, opts.signal].filter((s): s is AbortSignal => !!s);
    const forward = (s: AbortSignal) => () => this.ctrl.abort(s.reason);
    const listeners = outer.map((s) => [s, forward(s)] as const);
    for (const [s, fn] of listeners) {
      if (s.aborted) this.ctrl.abort(s.reason);
      else s.addEventListener('abort', fn, { once: true });
    }
    this.unlink = () => listeners.forEach(([s, fn]) => s.removeEventListener('abort', fn));
  }

  /** The next segment's bytes (its chunks, in order), or null after the last. */
  async next(): Promise<Uint8Array[] | null> {
    if (this.nextToHand >= this.segments.length) {
      this.unlink();
      return null;
    }
    this.fill();
    const index = this.nextToHand;
    let segment: Segment;
    try {
      segment = await this.pending.get(index)!;
    } catch (err) {
      this.stop(err);
      throw this.ctrl.signal.aborted && !(err instanceof VidmuxError) ? cancelledError(this.ctrl.signal) : err;
    }
    this.pending.delete(index);
    this.waitingBytes -= segment.bytes;
    this.nextToHand++;
    this.fill();
    this.bytesDone += segment.bytes;
    this.report(this.nextToHand === this.segments.length);
    return segment.chunks;
  }

  stop(reason?: unknown): void {
    if (!this.ctrl.signal.aborted) this.ctrl.abort(reason ?? new VidmuxError('cancelled', 'Cancelled.'));
    this.unlink();
    // Nobody waits for these any more.
    for (const p of this.pending.values()) p.catch(() => undefined);
  }

  /** Starts segments while a connection is free and the look-ahead allows. */
  private fill(): void {
    while (
      this.nextToStart < this.segments.length &&
      this.inFlight < this.concurrency &&
      this.nextToStart < this.nextToHand + this.ahead &&
      this.waitingBytes < AHEAD_BYTES &&
      !this.ctrl.signal.aborted
    ) {
      const index = this.nextToStart++;
      this.inFlight++;
      const fetching = this.fetchSegment(index).then(
        (segment) => {
          this.inFlight--;
          this.waitingBytes += segment.bytes;
          this.fill();
          return segment;
        },
        (err: unknown) => {
          this.inFlight--;
          throw err;
        },
      );
      // Fetched ahead: it may fail before anyone awaits it (that is not an unhandled rejection;
      // its error is thrown when its turn comes, or never if an earlier segment failed).
      fetching.catch(() => undefined);
      this.pending.set(index, fetching);
    }
  }

  private report(force: boolean): void {
    this.meter.set(this.bytesDone);
    const p = this.meter.throttled(force);
    if (p) this.opts.onProgress?.({ ...p, segments: { done: this.nextToHand, total: this.segments.length } });
  }

  /** One segment, whole: retried by the table, refreshed when its link expired, transformed. */
  private async fetchSegment(index: number): Promise<Segment> {
    const seg = this.segments[index]!;
    const refresh = this.opts.refresh;
    const media = new MediaUrl(seg.url, refresh ? (stale, s) => refresh(index, stale, s) : undefined);
    const tracker = this.client.tracker();
    const signal = this.ctrl.signal;
    const max = this.opts.maxSegmentBytes ?? DEFAULT_MAX_SEGMENT_BYTES;
    for (;;) {
      const url = media.current;
      try {
        const res = await this.client.request(media, {
          ...(seg.range ? { headers: { range: `bytes=${seg.range.start}-${seg.range.end}` } } : {}),
          signal,
          retry: tracker,
        });
        const segment = await this.body(res, seg, max, index);
        tracker.progressed(segment.bytes, true);
        if (!this.opts.transform) return segment;
        // A transform (decryption) takes the segment whole.
        const out = await this.opts.transform(joinBytes(segment.chunks, segment.bytes), index);
        return { chunks: [out], bytes: out.length };
      } catch (err) {
        if (signal.aborted) throw cancelledError(signal);
        if (!(err instanceof HttpFailure)) throw err;
        await this.client.recover(err, { tracker, media, url, signal });
      }
    }
  }

  /** Reads a segment's body, checking it is the bytes asked for. */
  private async body(res: HttpResponse, seg: SegmentRef, max: number, index: number): Promise<Segment> {
    const where = describeUrl(res.url);
    let skip = 0;
    let want: number | null = null;
    if (seg.range) {
      want = seg.range.end - seg.range.start + 1;
      if (res.status === 206) {
        const cr = parseContentRange(res.headers.get('content-range'));
        if (!cr || cr.start !== seg.range.start || cr.end !== seg.range.end) {
          await res.cancel();
          throw this.client.failure('bad_response', 'bad_response', `${where} answered segment ${index + 1}'s byte range with Content-Range "${res.headers.get('content-range') ?? 'none'}".`, { status: 206 });
        }
      } else {
        // A server that ignores Range sends the whole file: take the part asked for.
        skip = seg.range.start;
      }
    }
    const declared = Number(res.headers.get('content-length'));
    if (Number.isFinite(declared) && declared - skip > max) {
      await res.cancel();
      throw new VidmuxError('bad_response', `${where}: segment ${index + 1} is ${declared} bytes, more than a segment can be (${max}).`);
    }
    // A segment of known length is read into one buffer of that length, straight from the
    // network where the body is a byte stream: no chunk allocated per read, no join (bench:browser's
    // HLS reads about 60,000 chunks a GB).
    // (Not when the body is decoded from another length, or is a part of a larger answer.)
    const encoded = (res.headers.get('content-encoding') ?? 'identity').toLowerCase() !== 'identity';
    const length = skip > 0 || encoded ? null : (want ?? (Number.isFinite(declared) ? declared : null));
    const into = length !== null && length > 0 && length <= max ? byobReader(res.body) : null;
    if (into) return { chunks: [await this.readInto(into, length!, where, index)], bytes: length! };
    const chunks: Uint8Array[] = [];
    let got = 0;
    let seen = 0;
    const reader = res.body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        let piece = value;
        if (seen < skip) {
          const drop = Math.min(skip - seen, piece.length);
          seen += drop;
          piece = piece.subarray(drop);
        }
        if (want !== null && got + piece.length > want) piece = piece.subarray(0, want - got);
        if (piece.length) {
          chunks.push(piece);
          got += piece.length;
        }
        if (got > max) throw new VidmuxError('bad_response', `${where}: segment ${index + 1} is more than a segment can be (${max} bytes).`);
        if (want !== null && got === want) break;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    if (want !== null && got < want) {
      throw this.client.failure('truncated', 'truncated', `${where} ended segment ${index + 1} early, at byte ${got} of ${want}.`);
    }
    if (Number.isFinite(declared) && want === null && !encoded && got < declared) {
      throw this.client.failure('truncated', 'truncated', `${where} ended segment ${index + 1} early, at byte ${got} of ${declared}.`);
    }
    return { chunks, bytes: got };
  }

  /** Exactly `length` bytes of a body into one buffer (more is not read; less is `truncated`). */
  private async readInto(reader: ReadableStreamBYOBReader, length: number, where: string, index: number): Promise<Uint8Array> {
    let buffer = new ArrayBuffer(length);
    let got = 0;
    try {
      while (got < length) {
        const { done, value } = await reader.read(new Uint8Array(buffer, got, length - got));
        if (done || !value) break;
        // The read hands the buffer back (it was transferred), with `value` filled.
        buffer = value.buffer as ArrayBuffer;
        got += value.length;
      }
    } finally {
      await reader.cancel().catch(() => {});
    }
    if (got < length) throw this.client.failure('truncated', 'truncated', `${where} ended segment ${index + 1} early, at byte ${got} of ${length}.`);
    return new Uint8Array(buffer);
  }
}

/** A fetched segment: its chunks as read, and their total length. */
interface Segment {
  chunks: Uint8Array[];
  bytes: number;
}
