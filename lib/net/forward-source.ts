/**
 * A {@link ByteSource} that serves the reads of a demuxer from ONE forward-only stream of another
 * ByteSource, so that a whole download costs one connection instead of one request per read.
 */
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';
import { joinBytes } from './bytes';

/** Default of {@link ForwardSourceOptions.headCacheBytes}: 32 MiB. */
export const DEFAULT_HEAD_CACHE_BYTES = 32 * 1024 * 1024;

/** Options of {@link ForwardSource}. */
export interface ForwardSourceOptions {
  /**
   * Cancels the shared stream of the inner source (passed to its `stream()`), and is the signal of
   * fallback reads that bring none of their own. The `signal` given to {@link ForwardSource.stream}
   * does NOT stop a read served from the shared stream: cancel that read's stream instead.
   */
  signal?: AbortSignal;
  /**
   * Called once, when the shared stream of the inner source has been read to its end (e.g. to say
   * that the download part is over). Not called when that stream fails or is never read to the
   * end, nor for fallback reads.
   */
  onEnd?: () => void;
  /**
   * How many bytes from the start of the resource are kept in memory for reads that go back to
   * them (the demuxer's header reads). Default {@link DEFAULT_HEAD_CACHE_BYTES}. The cache keeps
   * whole chunks of the inner stream: the first chunk that would take it past this size is not
   * kept, and from then on bytes pass through (see {@link ForwardSource}).
   */
  headCacheBytes?: number;
}

/**
 * A {@link ByteSource} over ONE forward-only stream of `inner`.
 *
 * Why: a demuxer first asks for a few small reads from the start of the file (box headers, `moov`)
 * and then streams the rest. Over HTTP each of those reads would be another request, which costs
 * time, and with some services counts against a request quota or needs a Range support they do
 * not promise. This source opens `inner.stream(0)` once, on the first read, reads it front to back,
 * keeps its head in memory for the header reads and serves later reads from the same connection.
 *
 * Which reads it serves from that one stream, with no request of its own:
 * - any read while the head cache is open (nothing dropped yet): bytes already read come from
 *   memory, the rest from the stream;
 * - a read at or after the next byte of the stream: bytes in between are read and dropped (they
 *   cost transfer, not a request); bytes read past a read's `end` are kept for the next read;
 * - a read that lies wholly inside the bytes the head cache still holds.
 *
 * The limits: every other read falls back to `inner.stream(start, end, signal)`, a request of its
 * own. That is
 * - a read while another served read is still open: only one read at a time can use the stream,
 *   and a read holds it until it is read to its end (`done`) or cancelled;
 * - a read that goes back to bytes that were dropped. Bytes are dropped when the head cache
 *   overflows (the bytes after it pass through; the head kept so far stays and is still served)
 *   and when a read without `end` is served: such a read is taken as "stream the rest", so the head
 *   cache is closed and freed then (the bytes it held from that read's start are handed on first).
 *
 * Cancelling a read frees the stream at once, even while a chunk for it is still on the way. That
 * chunk is not lost: whatever comes from the stream is kept (in the head cache, or as bytes not yet
 * handed on) until a read takes it, so a read started right after the cancel is served as usual
 * and waits for that same chunk instead of making a request. A cancelled read takes no more bytes.
 *
 * An error of the shared stream fails the read that is using it and every later read that needs
 * it (there is no reconnect here: retries belong to `inner`); if the read waiting for it was
 * cancelled, the next read that needs the stream gets it. `size` is that of `inner`.
 */
export class ForwardSource implements ByteSource {
  readonly size: number | null;
  private readonly signal: AbortSignal | undefined;
  private readonly onEnd: () => void;
  private readonly headCacheBytes: number;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** Bytes taken from the stream so far (the head cache and `carry` included). */
  private pos = 0;
  /** Bytes `[0, headBytes)` of the resource, kept while the head cache is open (and after it overflows). */
  private head: Uint8Array[] = [];
  private headBytes = 0;
  /** Whether bytes read from the stream still go into `head` (while it is, `carry` is null). */
  private headOpen = true;
  /** Bytes `[pos - carry.length, pos)`: read from the stream, not yet handed on. */
  private carry: Uint8Array | null = null;
  /** The served read that holds the stream (a token of its own), or null. */
  private holder: object | null = null;
  /** The read of the next chunk of the stream under way, shared by whoever waits for it. */
  private fetching: Promise<void> | null = null;
  private ended = false;

  constructor(
    private readonly inner: ByteSource,
    options: ForwardSourceOptions = {},
  ) {
    const headCacheBytes = options.headCacheBytes ?? DEFAULT_HEAD_CACHE_BYTES;
    if (!(headCacheBytes >= 0)) throw new VidmuxError('bad_input', `Head cache size must be 0 or more bytes, not ${headCacheBytes}.`);
    this.size = inner.size;
    this.signal = options.signal;
    this.onEnd = options.onEnd ?? (() => {});
    this.headCacheBytes = headCacheBytes;
  }

  stream(start = 0, end?: number, signal?: AbortSignal): ReadableStream<Uint8Array> {
    const stop = end ?? this.size ?? Infinity;
    const carried = this.carry?.length ?? 0;
    const at = this.pos - carried; // next byte the stream will hand on
    const served =
      this.holder === null &&
      (start >= at || (this.headOpen && this.headBytes === this.pos && carried === 0) || stop <= this.headBytes);
    if (!served) return this.inner.stream(start, end, signal ?? this.signal);
    if (end === undefined && this.headOpen) this.dropHead(start);
    const token = {};
    this.holder = token;
    let p = start;
    let open = true;
    const release = () => {
      open = false;
      if (this.holder === token) this.holder = null;
    };
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          let finish = true;
          try {
            // Bytes are taken and handed on in one synchronous step, after checking that this read
            // is still open: a read cancelled while it waited takes nothing.
            while (open) {
              const piece = this.take(p, stop, finish);
              if (piece === undefined) {
                const last = p >= stop;
                await this.fill();
                if (last) {
                  finish = false;
                  if (open) this.carry = null; // more than the size said: not ours to hand on
                }
                continue;
              }
              if (piece === null) {
                release();
                controller.close();
                return;
              }
              p += piece.length;
              controller.enqueue(piece);
              return;
            }
          } catch (err) {
            if (!open) return; // cancelled: the error stays with the stream for the next read
            release();
            throw err;
          }
        },
        cancel: release,
      },
      { highWaterMark: 0 },
    );
  }

  /** Closes the head cache; bytes from `start` that it held are kept as `carry`. */
  private dropHead(start: number): void {
    if (start < this.pos && start >= 0 && this.carry === null) this.carry = sliceOf(this.head, start, this.pos);
    this.head = [];
    this.headBytes = 0;
    this.headOpen = false;
  }

  /**
   * What a read at `p` (before `stop`) gets now, without waiting: its next bytes (taken out of
   * `carry`), null at its end, or undefined when the next chunk of the stream must come first
   * (bytes of `carry` before `p` are dropped then). With `finish`, a read at the end of the
   * resource asks for one more chunk, so that the inner stream can finish (its final progress,
   * `onEnd`).
   */
  private take(p: number, stop: number, finish: boolean): Uint8Array | null | undefined {
    if (p >= stop) {
      const last = finish && this.size !== null && p >= this.size && !this.ended && this.carry === null;
      return last ? undefined : null;
    }
    if (p < this.headBytes) return sliceOf(this.head, p, Math.min(stop, this.headBytes));
    const carry = this.carry;
    const at = this.pos - (carry?.length ?? 0);
    if (p < at) throw new VidmuxError('internal', `Forward stream reader lost bytes ${p}-${at}.`);
    if (carry && p < this.pos) {
      const from = p - at;
      const to = Math.min(this.pos, stop) - at;
      this.carry = to < carry.length ? carry.subarray(to) : null;
      return carry.subarray(from, to);
    }
    if (this.ended) return null;
    this.carry = null; // all before `p`: skipped
    return undefined;
  }

  /**
   * Reads the next chunk of the stream into the head cache or `carry`, whoever asked for it: a
   * read cancelled while it waits leaves the chunk for the next read. Callers that come while a
   * chunk is on its way wait for that same chunk.
   */
  private fill(): Promise<void> {
    this.fetching ??= this.read().then(
      (chunk) => {
        this.fetching = null;
        if (chunk) this.keep(chunk);
      },
      (err: unknown) => {
        this.fetching = null;
        throw err;
      },
    );
    return this.fetching;
  }

  /** Adds the chunk at `pos` to the head cache, or (when the head cache is closed or too full) to `carry`. */
  private keep(chunk: Uint8Array): void {
    if (this.headOpen && this.headBytes + chunk.length <= this.headCacheBytes) {
      this.head.push(chunk);
      this.headBytes += chunk.length;
    } else {
      // Too much to keep (or the head cache is closed): from here on bytes pass through.
      this.headOpen = false;
      this.carry = this.carry ? joinBytes([this.carry, chunk]) : chunk;
    }
    this.pos += chunk.length;
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
  }

  /** The next non-empty chunk of the shared stream (opened on first use), or null at its end. */
  private async read(): Promise<Uint8Array | null> {
    if (this.ended) return null;
    this.reader ??= this.inner.stream(0, undefined, this.signal).getReader();
    for (;;) {
      const { done, value } = await this.reader.read();
      if (done) {
        this.end();
        return null;
      }
      if (value.length) return value;
    }
  }
}

/** Bytes `[start, end)` of the concatenation of `parts` (which starts at byte 0), as a copy. */
function sliceOf(parts: Uint8Array[], start: number, end: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, end - start));
  let at = 0;
  for (const part of parts) {
    const s = Math.max(start, at);
    const e = Math.min(end, at + part.length);
    if (s < e) out.set(part.subarray(s - at, e - at), s - start);
    at += part.length;
    if (at >= end) break;
  }
  return out;
}
