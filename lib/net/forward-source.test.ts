import { describe, expect, it } from 'vitest';
import { VidmuxError } from '../errors';
import type { ByteSource } from '../io';
import { DEFAULT_HEAD_CACHE_BYTES, ForwardSource } from './forward-source';

const SIZE = 10_000;
const DATA = randomBytes(SIZE, 1);

/** Deterministic bytes with no short period (so a shifted copy never compares equal). */
function randomBytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let s = seed >>> 0;
  for (let i = 0; i < n; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    out[i] = (t ^ (t >>> 14)) & 0xff;
  }
  return out;
}

type Call = [start: number, end: number | undefined];

interface FakeOptions {
  /**
   * Sizes of the chunks each stream yields, cycled. Default 100. A 0 is an empty chunk on the first
   * stream (the shared connection) and skipped on the others: fallback streams are handed on as
   * they are, and the tests check that a reader never gets an empty chunk.
   */
  chunks?: number | number[];
  /** What `size` says. Default: the data's length. */
  size?: number | null;
  /** Every stream fails when it gets to this byte (after handing on the bytes before it). */
  failAt?: number;
  /** Every stream stops at this byte until `resume()` (or its signal aborts). */
  stallAt?: number;
  /** Whether `failAt` and `stallAt` apply to the first stream (the shared connection) only. */
  connectionOnly?: boolean;
  /** Before each chunk, waits this many turns of the event loop (a slow network). Default none. */
  wait?: () => number;
}

/** An in-memory inner source that records what is asked of it. */
class FakeSource implements ByteSource {
  readonly size: number | null;
  /** Every `stream(start, end)` call, in order. */
  readonly calls: Call[] = [];
  /** The signal of every call, in order. */
  readonly signals: (AbortSignal | undefined)[] = [];
  /** Bytes handed on, per call. */
  readonly delivered: number[] = [];
  /** How many of the streams were cancelled. */
  cancelled = 0;
  readonly error = new Error('inner stream broke');
  private readonly pattern: number[];
  private resumers: (() => void)[] = [];
  private stalls = 0;
  private stallWaiters: (() => void)[] = [];

  constructor(
    readonly data: Uint8Array,
    private readonly opts: FakeOptions = {},
  ) {
    this.size = opts.size === undefined ? data.length : opts.size;
    const chunks = opts.chunks ?? 100;
    this.pattern = typeof chunks === 'number' ? [chunks] : chunks;
  }

  stream(start = 0, end?: number, signal?: AbortSignal): ReadableStream<Uint8Array> {
    const index = this.calls.length;
    this.calls.push([start, end]);
    this.signals.push(signal);
    this.delivered.push(0);
    const stop = Math.min(end ?? this.data.length, this.data.length);
    let p = start;
    let turn = 0;
    let stalled = false;
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          if (signal?.aborted) throw signal.reason;
          const { failAt, stallAt } = this.opts.connectionOnly && index > 0 ? {} : this.opts;
          if (stallAt !== undefined && p >= stallAt && !stalled) {
            stalled = true;
            await this.stall(signal);
          }
          for (let turns = this.opts.wait?.() ?? 0; turns > 0; turns--) await nextTurn();
          if (failAt !== undefined && p >= failAt) throw this.error;
          if (p >= stop) {
            controller.close();
            return;
          }
          let size = this.pattern[turn++ % this.pattern.length]!;
          while (size === 0 && index > 0) size = this.pattern[turn++ % this.pattern.length]!;
          let n = Math.min(size, stop - p);
          if (failAt !== undefined && p < failAt) n = Math.min(n, failAt - p);
          if (stallAt !== undefined && p < stallAt) n = Math.min(n, stallAt - p);
          controller.enqueue(this.data.slice(p, p + n));
          p += n;
          this.delivered[index]! += n;
        },
        cancel: () => {
          this.cancelled++;
        },
      },
      { highWaterMark: 0 },
    );
  }

  /** Lets stalled streams go on. */
  resume(): void {
    for (const r of this.resumers.splice(0)) r();
  }

  /** Resolves once `count` streams have stalled. */
  async stalled(count = 1): Promise<void> {
    while (this.stalls < count) await new Promise<void>((r) => this.stallWaiters.push(r));
  }

  private stall(signal: AbortSignal | undefined): Promise<void> {
    this.stalls++;
    for (const w of this.stallWaiters.splice(0)) w();
    return new Promise<void>((resolve, reject) => {
      this.resumers.push(resolve);
      signal?.addEventListener('abort', () => reject(signal.reason), { once: true });
    });
  }
}

/** Resolves after the next turn of the event loop. */
const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/**
 * Opens a served read of `[start, end)`, takes `before` bytes from it, then asks for more and
 * cancels it while that chunk is still on its way (the inner stream stalls at `inner`'s
 * `stallAt`). The pending read ends `done` (cancelling a stream answers its pending reads so).
 */
async function cancelWhileFetching(
  inner: FakeSource,
  src: ForwardSource,
  start: number,
  before: number,
  end?: number,
): Promise<void> {
  const reader = src.stream(start, end).getReader();
  expectBytes(await readSome(reader, before), start, start + before);
  const pending = reader.read();
  await inner.stalled();
  await reader.cancel();
  expect(await pending).toEqual({ done: true, value: undefined });
}

/** Reads a stream to its end. */
function readAll(stream: ReadableStream<Uint8Array>): Promise<Uint8Array> {
  return drain(stream.getReader());
}

/** Reads what is left of a reader's stream. */
async function drain(reader: ReadableStreamDefaultReader<Uint8Array>): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
  }
  return concat(parts);
}

/** Reads at least `n` bytes (fewer only at the end) and leaves the stream open. */
async function readSome(reader: ReadableStreamDefaultReader<Uint8Array>, n: number): Promise<Uint8Array> {
  const parts: Uint8Array[] = [];
  let total = 0;
  while (total < n) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    total += value.length;
  }
  return concat(parts);
}

/** Joins chunks; every chunk must hold bytes (ForwardSource never hands on an empty one). */
function concat(parts: Uint8Array[]): Uint8Array {
  expect(parts.filter((p) => p.length === 0)).toHaveLength(0);
  const out = new Uint8Array(parts.reduce((sum, p) => sum + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** Asserts that `got` is exactly bytes `[start, end)` of `data` (short message on failure). */
function expectBytes(got: Uint8Array, start: number, end: number, data: Uint8Array = DATA): void {
  const want = data.subarray(start, end);
  let firstMismatch = -1;
  if (got.length === want.length && Buffer.from(got.buffer, got.byteOffset, got.length).equals(want)) return;
  for (let i = 0; i < Math.min(got.length, want.length); i++) {
    if (got[i] !== want[i]) {
      firstMismatch = i;
      break;
    }
  }
  expect({ length: got.length, firstMismatch }).toEqual({ length: end - start, firstMismatch: -1 });
}

/**
 * A header read the way the demuxer does one (lib/media's readRange; lib/net may not import it):
 * clip to the size, read until there are enough bytes, then cancel rather than wait for `done`.
 */
async function readRange(src: ByteSource, start: number, end: number): Promise<Uint8Array> {
  const stop = src.size === null ? end : Math.min(end, src.size);
  if (stop <= start) return new Uint8Array(0);
  const reader = src.stream(start, stop).getReader();
  try {
    return (await readSome(reader, stop - start)).subarray(0, stop - start);
  } finally {
    await reader.cancel();
  }
}

/** A bounded read, read to its end. */
const range = (src: ByteSource, start: number, end: number) => readAll(src.stream(start, end));

describe('ForwardSource', () => {
  it('serves header reads from the start out of one inner stream, reading no more than needed', async () => {
    const inner = new FakeSource(DATA);
    const src = new ForwardSource(inner);
    expect(inner.calls).toEqual([]); // nothing opened before the first read
    expectBytes(await range(src, 0, 8), 0, 8);
    expectBytes(await range(src, 8, 40), 8, 40);
    expectBytes(await range(src, 0, 8), 0, 8); // again: from memory
    expectBytes(await range(src, 40, 300), 40, 300);
    expectBytes(await range(src, 4, 250), 4, 250); // back into the head
    expect(inner.calls).toEqual([[0, undefined]]);
    expect(inner.delivered).toEqual([300]);
  });

  it('serves header reads done the way the demuxer does them (which cancel rather than read to done)', async () => {
    const inner = new FakeSource(DATA, { chunks: 64 });
    const src = new ForwardSource(inner);
    expectBytes(await readRange(src, 0, 8), 0, 8);
    expectBytes(await readRange(src, 8, 16), 8, 16);
    expectBytes(await readRange(src, 16, 1000), 16, 1000);
    expectBytes(await readRange(src, 0, 1000), 0, 1000);
    expectBytes(await readRange(src, 9990, 20_000), 9990, SIZE); // clipped to the size
    expect(inner.calls).toEqual([[0, undefined]]);
    expect(inner.cancelled).toBe(0); // cancelling a served read leaves the inner stream open
  });

  it('streams the rest after the header reads from the same connection', async () => {
    const inner = new FakeSource(DATA);
    const src = new ForwardSource(inner);
    expectBytes(await range(src, 0, 8), 0, 8);
    expectBytes(await range(src, 8, 300), 8, 300);
    expectBytes(await readAll(src.stream(300)), 300, SIZE);
    expect(inner.calls).toEqual([[0, undefined]]);
    expect(inner.delivered).toEqual([SIZE]);
  });

  it('streams the rest from a byte before the read position out of the head cache, then the connection', async () => {
    // moov at the end of the headers read, then mdat from an earlier offset.
    const inner = new FakeSource(DATA, { chunks: 128 });
    const src = new ForwardSource(inner);
    expectBytes(await range(src, 0, 700), 0, 700);
    expectBytes(await readAll(src.stream(100)), 100, SIZE);
    expect(inner.calls).toEqual([[0, undefined]]);
  });

  it('skips forward on the same connection for a read beyond what was read', async () => {
    const inner = new FakeSource(DATA);
    const src = new ForwardSource(inner);
    expectBytes(await range(src, 0, 10), 0, 10);
    expectBytes(await range(src, 5050, 5120), 5050, 5120);
    expect(inner.delivered).toEqual([5200]); // read through to there: no request of its own
    expectBytes(await readAll(src.stream(7777)), 7777, SIZE);
    expect(inner.calls).toEqual([[0, undefined]]);
  });

  it('skips forward when the very first read starts late', async () => {
    const inner = new FakeSource(DATA);
    const src = new ForwardSource(inner);
    expectBytes(await readAll(src.stream(2345)), 2345, SIZE);
    expect(inner.calls).toEqual([[0, undefined]]);
  });

  it('falls back to a ranged inner stream for a read back before the position once the rest is streamed', async () => {
    const inner = new FakeSource(DATA);
    const src = new ForwardSource(inner);
    expectBytes(await range(src, 0, 500), 0, 500);
    const rest = src.stream(500).getReader(); // open-ended: the head cache is dropped
    expectBytes(await readSome(rest, 1500), 500, 2000);
    await rest.cancel();
    expectBytes(await range(src, 0, 8), 0, 8);
    expectBytes(await range(src, 1000, 1900), 1000, 1900);
    expectBytes(await readAll(src.stream(2000)), 2000, SIZE); // forward again: the connection
    expect(inner.calls).toEqual([
      [0, undefined],
      [0, 8],
      [1000, 1900],
    ]);
  });

  it('reads that follow on one another after the head cache closed stay on the connection', async () => {
    const inner = new FakeSource(DATA);
    const src = new ForwardSource(inner);
    const rest = src.stream(0).getReader();
    expectBytes(await readSome(rest, 250), 0, 300); // 3 chunks of 100
    await rest.cancel();
    expectBytes(await range(src, 300, 350), 300, 350);
    expectBytes(await range(src, 350, 420), 350, 420);
    expectBytes(await range(src, 420, 500), 420, 500);
    expect(inner.calls).toEqual([[0, undefined]]);
    expect(inner.delivered).toEqual([500]);
  });

  it('keeps the bytes read past a read’s end for the next read (no extra inner reads)', async () => {
    const inner = new FakeSource(DATA, { chunks: 1000 });
    const src = new ForwardSource(inner);
    expectBytes(await range(src, 10, 25), 10, 25);
    expect(inner.delivered).toEqual([1000]);
    expectBytes(await range(src, 25, 40), 25, 40);
    expectBytes(await range(src, 40, 1000), 40, 1000);
    expect(inner.delivered).toEqual([1000]);
    // Same with the head cache closed: the tail of a chunk carries over.
    const rest = src.stream(1000).getReader();
    expectBytes(await readSome(rest, 1), 1000, 2000);
    await rest.cancel();
    expectBytes(await range(src, 2000, 2003), 2000, 2003);
    expectBytes(await range(src, 2003, 2999), 2003, 2999);
    expect(inner.delivered).toEqual([3000]);
    expect(inner.calls).toEqual([[0, undefined]]);
  });

  it('honours end bounds, including past the size and empty ranges', async () => {
    const inner = new FakeSource(DATA, { chunks: [7, 300, 1] });
    const src = new ForwardSource(inner);
    expectBytes(await range(src, 3, 4), 3, 4);
    expectBytes(await range(src, 5, 5), 5, 5);
    expectBytes(await range(src, 100, 99), 100, 100); // end before start: nothing
    expectBytes(await range(src, 0, 611), 0, 611);
    expectBytes(await range(src, 9000, 20_000), 9000, SIZE);
    expect(inner.calls).toEqual([[0, undefined]]);
  });

  it('skips empty chunks of the inner stream', async () => {
    const inner = new FakeSource(DATA, { chunks: [0, 13, 0, 0, 250] });
    const src = new ForwardSource(inner);
    expectBytes(await range(src, 0, 20), 0, 20);
    expectBytes(await range(src, 0, 600), 0, 600);
    expectBytes(await readAll(src.stream(300)), 300, SIZE);
    expect(inner.calls).toEqual([[0, undefined]]);
  });

  describe('head cache size', () => {
    it('defaults to 32 MiB', async () => {
      expect(DEFAULT_HEAD_CACHE_BYTES).toBe(32 * 1024 * 1024);
      const big = randomBytes(DEFAULT_HEAD_CACHE_BYTES + 1024, 2);
      {
        const inner = new FakeSource(big, { chunks: 1024 * 1024 });
        const src = new ForwardSource(inner);
        // 32 chunks fit; the 33rd does not, so the head kept is exactly 32 MiB.
        expectBytes(await range(src, 0, DEFAULT_HEAD_CACHE_BYTES + 10), 0, DEFAULT_HEAD_CACHE_BYTES + 10, big);
        expectBytes(await range(src, 0, DEFAULT_HEAD_CACHE_BYTES), 0, DEFAULT_HEAD_CACHE_BYTES, big);
        expect(inner.calls).toEqual([[0, undefined]]);
        expectBytes(await range(src, 5, DEFAULT_HEAD_CACHE_BYTES + 1), 5, DEFAULT_HEAD_CACHE_BYTES + 1, big);
        expect(inner.calls).toEqual([
          [0, undefined],
          [5, DEFAULT_HEAD_CACHE_BYTES + 1],
        ]);
      }
    });

    it('on overflow switches to pass-through: the kept head is still served, dropped bytes fall back', async () => {
      const inner = new FakeSource(DATA);
      const src = new ForwardSource(inner, { headCacheBytes: 250 });
      expectBytes(await range(src, 0, 400), 0, 400); // chunks 0-100, 100-200 kept; 200-300 overflows
      expectBytes(await range(src, 0, 150), 0, 150); // inside the kept head: memory
      expectBytes(await range(src, 120, 200), 120, 200);
      expect(inner.calls).toEqual([[0, undefined]]);
      expectBytes(await range(src, 150, 260), 150, 260); // reaches into dropped bytes
      expectBytes(await range(src, 200, 300), 200, 300); // dropped bytes
      expect(inner.calls).toEqual([
        [0, undefined],
        [150, 260],
        [200, 300],
      ]);
      expectBytes(await readAll(src.stream(400)), 400, SIZE); // forward: the connection
      expect(inner.calls).toHaveLength(3);
      expect(inner.delivered[0]).toBe(SIZE);
    });

    it('overflows at the chunk that would not fit, not before', async () => {
      const inner = new FakeSource(DATA);
      const src = new ForwardSource(inner, { headCacheBytes: 300 });
      expectBytes(await range(src, 0, 350), 0, 350); // 3 chunks fit exactly; the 4th passes through
      expectBytes(await range(src, 0, 300), 0, 300);
      expect(inner.calls).toEqual([[0, undefined]]);
      expectBytes(await range(src, 0, 301), 0, 301);
      expect(inner.calls).toEqual([
        [0, undefined],
        [0, 301],
      ]);
    });

    it('0 keeps nothing: every read back falls back', async () => {
      const inner = new FakeSource(DATA);
      const src = new ForwardSource(inner, { headCacheBytes: 0 });
      expectBytes(await range(src, 0, 10), 0, 10);
      expectBytes(await range(src, 10, 20), 10, 20); // forward: served
      expectBytes(await range(src, 0, 10), 0, 10);
      expect(inner.calls).toEqual([
        [0, undefined],
        [0, 10],
      ]);
    });

    it('rejects a size below 0', () => {
      const inner = new FakeSource(DATA);
      expect(() => new ForwardSource(inner, { headCacheBytes: -1 })).toThrow(VidmuxError);
      expect(() => new ForwardSource(inner, { headCacheBytes: Number.NaN })).toThrow(/Head cache size/);
    });
  });

  describe('one reader at a time', () => {
    it('a second read while one is open falls back; the first goes on unharmed', async () => {
      const inner = new FakeSource(DATA);
      const src = new ForwardSource(inner);
      const first = src.stream(0).getReader();
      expectBytes(await readSome(first, 1), 0, 100);
      expectBytes(await range(src, 100, 150), 100, 150); // would be served were it alone
      expectBytes(await readAll(src.stream(50, 60)), 50, 60);
      expectBytes(await drain(first), 100, SIZE);
      expect(inner.calls).toEqual([
        [0, undefined],
        [100, 150],
        [50, 60],
      ]);
      // Read to its end, the first read released the connection.
      expectBytes(await readAll(src.stream(SIZE)), SIZE, SIZE);
      expect(inner.calls).toHaveLength(3);
    });

    it('a read neither finished nor cancelled keeps the connection: later reads fall back', async () => {
      const inner = new FakeSource(DATA);
      const src = new ForwardSource(inner);
      const reader = src.stream(0, 100).getReader();
      expectBytes(await readSome(reader, 100), 0, 100); // all its bytes, but not `done`
      expectBytes(await range(src, 100, 200), 100, 200);
      expect(inner.calls).toEqual([
        [0, undefined],
        [100, 200],
      ]);
      expect(await reader.read()).toEqual({ done: true, value: undefined });
      expectBytes(await range(src, 200, 300), 200, 300);
      expect(inner.calls).toHaveLength(2);
    });

    it('cancelling a read releases the connection for the next read', async () => {
      const inner = new FakeSource(DATA);
      const src = new ForwardSource(inner);
      const reader = src.stream(0).getReader();
      expectBytes(await readSome(reader, 250), 0, 300);
      await reader.cancel();
      expectBytes(await range(src, 300, 420), 300, 420);
      expectBytes(await readAll(src.stream(420)), 420, SIZE);
      expect(inner.calls).toEqual([[0, undefined]]);
      expect(inner.cancelled).toBe(0);
    });

    it('a failed read releases the connection too (a fallback read still works)', async () => {
      const inner = new FakeSource(DATA, { failAt: 250 });
      const src = new ForwardSource(inner, { headCacheBytes: 0 });
      await expect(readAll(src.stream(0))).rejects.toBe(inner.error);
      expectBytes(await range(src, 0, 200), 0, 200); // backward: falls back (and its stream is fine)
      expect(inner.calls).toEqual([
        [0, undefined],
        [0, 200],
      ]);
    });
  });

  describe('cancelling a read while its chunk is on the way', () => {
    it('keeps that chunk for the next read of the same range: right bytes, from the connection', async () => {
      const inner = new FakeSource(DATA, { stallAt: 200, connectionOnly: true });
      const src = new ForwardSource(inner, { headCacheBytes: 0 });
      await cancelWhileFetching(inner, src, 0, 200);
      const read = range(src, 200, 400); // right after the cancel, the chunk 200-300 still on its way
      await nextTurn();
      inner.resume();
      expectBytes(await read, 200, 400);
      expectBytes(await readAll(src.stream(400)), 400, SIZE);
      expect(inner.calls).toEqual([[0, undefined]]);
      expect(inner.delivered).toEqual([SIZE]);
      expect(inner.cancelled).toBe(0);
    });

    it('keeps that chunk when the head cache is open too, also for a read that drops the head cache', async () => {
      const inner = new FakeSource(DATA, { stallAt: 200, connectionOnly: true });
      const src = new ForwardSource(inner);
      await cancelWhileFetching(inner, src, 0, 200, 1000); // bounded: the head cache stays open
      // Open-ended: closes the head cache while the chunk 200-300 is still on its way.
      const read = readAll(src.stream(150));
      await nextTurn();
      inner.resume();
      expectBytes(await read, 150, SIZE);
      expect(inner.calls).toEqual([[0, undefined]]);
      expect(inner.delivered).toEqual([SIZE]);
    });

    it('a read further ahead skips forward on the connection; the skipped bytes fall back later', async () => {
      const inner = new FakeSource(DATA, { stallAt: 200, connectionOnly: true });
      const src = new ForwardSource(inner, { headCacheBytes: 0 });
      await cancelWhileFetching(inner, src, 0, 200);
      const read = range(src, 250, 260); // inside the chunk on its way
      await nextTurn();
      inner.resume();
      expectBytes(await read, 250, 260);
      expectBytes(await range(src, 260, 280), 260, 280); // the rest of that chunk: kept
      expectBytes(await range(src, 555, 700), 555, 700); // skips 280-555 on the connection
      expect(inner.calls).toEqual([[0, undefined]]);
      expect(inner.delivered).toEqual([700]);
      expectBytes(await range(src, 200, 300), 200, 300); // handed on or skipped: falls back
      expect(inner.calls).toEqual([
        [0, undefined],
        [200, 300],
      ]);
    });

    it('a read far ahead that starts right after the cancel is served from the connection', async () => {
      const inner = new FakeSource(DATA, { stallAt: 200, connectionOnly: true });
      const src = new ForwardSource(inner, { headCacheBytes: 0 });
      await cancelWhileFetching(inner, src, 0, 200);
      const read = range(src, 5050, 5120);
      await nextTurn();
      inner.resume();
      expectBytes(await read, 5050, 5120);
      expect(inner.calls).toEqual([[0, undefined]]);
      expect(inner.delivered).toEqual([5200]);
    });

    it('the late chunk does not free the connection that the next read holds', async () => {
      const inner = new FakeSource(DATA, { stallAt: 200, connectionOnly: true });
      const src = new ForwardSource(inner, { headCacheBytes: 0 });
      await cancelWhileFetching(inner, src, 0, 200);
      const next = src.stream(200).getReader();
      const first = next.read();
      await nextTurn();
      inner.resume();
      const got = await first;
      expectBytes(got.value ?? new Uint8Array(0), 200, 300);
      expectBytes(await range(src, 600, 700), 600, 700); // `next` holds the connection: falls back
      expectBytes(await drain(next), 300, SIZE);
      expect(inner.calls).toEqual([
        [0, undefined],
        [600, 700],
      ]);
    });

    it('reads cancelled one after another while waiting take nothing; the next one gets it all', async () => {
      const inner = new FakeSource(DATA, { stallAt: 200, connectionOnly: true });
      const src = new ForwardSource(inner, { headCacheBytes: 0 });
      await cancelWhileFetching(inner, src, 0, 200);
      const second = src.stream(200).getReader();
      const pending = second.read(); // waits for the same chunk
      await nextTurn();
      await second.cancel();
      expect(await pending).toEqual({ done: true, value: undefined });
      const read = range(src, 200, 450);
      await nextTurn();
      inner.resume();
      expectBytes(await read, 200, 450);
      expect(inner.calls).toEqual([[0, undefined]]);
    });

    it('when that chunk then fails, the next read that needs the connection gets the error', async () => {
      const inner = new FakeSource(DATA, { stallAt: 200, failAt: 200, connectionOnly: true });
      const src = new ForwardSource(inner, { headCacheBytes: 0 });
      await cancelWhileFetching(inner, src, 0, 200);
      const read = range(src, 200, 400);
      await nextTurn();
      inner.resume();
      await expect(read).rejects.toBe(inner.error);
      await expect(range(src, 200, 300)).rejects.toBe(inner.error); // and every later one
      expectBytes(await range(src, 0, 200), 0, 200); // backward: falls back cleanly
      expect(inner.calls).toEqual([
        [0, undefined],
        [0, 200],
      ]);
    });

    it('when that chunk fails with nobody waiting, later reads fail or fall back, never with wrong bytes', async () => {
      const inner = new FakeSource(DATA, { stallAt: 200, failAt: 200, connectionOnly: true });
      const src = new ForwardSource(inner);
      await cancelWhileFetching(inner, src, 0, 200, 1000);
      inner.resume();
      await nextTurn();
      expectBytes(await range(src, 20, 180), 20, 180); // from the head cache
      await expect(range(src, 150, 250)).rejects.toBe(inner.error);
      await expect(readAll(src.stream(0))).rejects.toBe(inner.error); // the head, then the error
      expect(inner.calls).toEqual([[0, undefined]]);
    });

    it('hands on exactly the right bytes for a random mix of reads cancelled while waiting', async () => {
      let seed = 11;
      const rand = (n: number) => {
        seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
        return (seed >>> 8) % n;
      };
      for (let round = 0; round < 40; round++) {
        const inner = new FakeSource(DATA, { chunks: [1 + rand(300), rand(2) ? 0 : 17, 1 + rand(900)], wait: () => rand(3) });
        const src = new ForwardSource(inner, { headCacheBytes: rand(2) === 0 ? rand(2000) : DEFAULT_HEAD_CACHE_BYTES });
        let cursor = 0;
        for (let op = 0; op < 20; op++) {
          const kind = rand(3);
          const start = kind === 0 ? rand(600) : kind === 1 ? cursor + rand(300) : rand(SIZE);
          const end = rand(2) ? undefined : start + 1 + rand(800);
          const stop = Math.min(end ?? SIZE, SIZE);
          const reader = src.stream(start, end).getReader();
          const got = await readSome(reader, rand(600));
          expectBytes(got, Math.min(start, SIZE), Math.min(start + got.length, SIZE));
          const pending = reader.read();
          for (let turns = rand(4); turns > 0; turns--) await nextTurn();
          await reader.cancel();
          const last = await pending; // a chunk that came in time, or `done`
          const at = start + got.length;
          if (last.value) expectBytes(last.value, at, Math.min(at + last.value.length, stop));
          cursor = Math.min(at + (last.value?.length ?? 0), SIZE);
        }
        expectBytes(await readAll(src.stream(cursor)), cursor, SIZE);
        expect(inner.calls[0]).toEqual([0, undefined]);
      }
    });
  });

  describe('onEnd', () => {
    it('is called exactly once, when the inner stream has been read to its end', async () => {
      let ends = 0;
      const inner = new FakeSource(DATA);
      const src = new ForwardSource(inner, { onEnd: () => ends++ });
      expectBytes(await range(src, 0, 100), 0, 100);
      const reader = src.stream(100).getReader();
      expectBytes(await readSome(reader, SIZE - 100), 100, SIZE);
      expect(ends).toBe(0); // every byte, but the inner stream has not said `done` yet
      expect(await reader.read()).toEqual({ done: true, value: undefined });
      expect(ends).toBe(1);
      expectBytes(await readAll(src.stream(SIZE)), SIZE, SIZE);
      expectBytes(await range(src, 0, 10), 0, 10); // a fallback read to... anywhere
      expectBytes(await readAll(src.stream(SIZE - 5)), SIZE - 5, SIZE); // fallback to the end
      expect(ends).toBe(1);
      expect(inner.calls).toEqual([
        [0, undefined],
        [0, 10],
        [SIZE - 5, undefined],
      ]);
    });

    it('fires for a bounded read to the size (one more read lets the inner stream finish)', async () => {
      let ends = 0;
      const inner = new FakeSource(DATA, { chunks: 4096 });
      const src = new ForwardSource(inner, { onEnd: () => ends++ });
      expectBytes(await range(src, 0, SIZE), 0, SIZE);
      expect(ends).toBe(1);
    });

    it('fires with an unknown size when the inner stream ends', async () => {
      let ends = 0;
      const inner = new FakeSource(DATA, { size: null });
      const src = new ForwardSource(inner, { onEnd: () => ends++ });
      expect(src.size).toBeNull();
      expectBytes(await range(src, 0, 64), 0, 64);
      expectBytes(await readAll(src.stream(64)), 64, SIZE);
      expect(ends).toBe(1);
      expect(inner.calls).toEqual([[0, undefined]]);
    });

    it('is not called when the inner stream fails or is cancelled', async () => {
      let ends = 0;
      const failing = new FakeSource(DATA, { failAt: SIZE });
      const src = new ForwardSource(failing, { onEnd: () => ends++ });
      await expect(readAll(src.stream(0))).rejects.toBe(failing.error);
      const other = new ForwardSource(new FakeSource(DATA), { onEnd: () => ends++ });
      const reader = other.stream(0).getReader();
      await readSome(reader, SIZE - 100);
      await reader.cancel();
      expect(ends).toBe(0);
    });
  });

  describe('errors', () => {
    it('an inner stream error reaches the reader after the bytes before it', async () => {
      const inner = new FakeSource(DATA, { failAt: 250 });
      const src = new ForwardSource(inner);
      const reader = src.stream(0).getReader();
      expectBytes(await readSome(reader, 250), 0, 250);
      await expect(reader.read()).rejects.toBe(inner.error);
    });

    it('a later read that needs the broken connection fails the same way; memory reads still work', async () => {
      const inner = new FakeSource(DATA, { failAt: 250 });
      const src = new ForwardSource(inner);
      await expect(range(src, 0, 300)).rejects.toBe(inner.error);
      expectBytes(await range(src, 0, 250), 0, 250); // from the head cache
      await expect(range(src, 240, 260)).rejects.toBe(inner.error);
      expect(inner.calls).toEqual([[0, undefined]]); // no reconnect here: retries belong to the inner source
    });
  });

  describe('signals', () => {
    it('passes the constructor signal to the connection, and to fallbacks without their own', async () => {
      const shared = new AbortController().signal;
      const own = new AbortController().signal;
      const inner = new FakeSource(DATA);
      const src = new ForwardSource(inner, { signal: shared, headCacheBytes: 0 });
      expectBytes(await range(src, 0, 10), 0, 10);
      expectBytes(await readAll(src.stream(0, 10, own)), 0, 10);
      expectBytes(await range(src, 0, 10), 0, 10);
      expect(inner.calls).toEqual([
        [0, undefined],
        [0, 10],
        [0, 10],
      ]);
      expect(inner.signals).toEqual([shared, own, shared]);
    });

    it('aborting the constructor signal stops a read waiting on the connection', async () => {
      const controller = new AbortController();
      const inner = new FakeSource(DATA, { stallAt: 200 });
      const src = new ForwardSource(inner, { signal: controller.signal });
      const reader = src.stream(0).getReader();
      expectBytes(await readSome(reader, 200), 0, 200);
      const pending = reader.read();
      await inner.stalled();
      const reason = new Error('stop');
      controller.abort(reason);
      await expect(pending).rejects.toBe(reason);
    });

    it('a stalled connection holds the stream: reads wait for it, then get the right bytes', async () => {
      const inner = new FakeSource(DATA, { stallAt: 200 });
      const src = new ForwardSource(inner);
      const read = range(src, 150, 400);
      await inner.stalled();
      expectBytes(await range(src, 0, 50), 0, 50); // the first read holds the connection: fallback
      inner.resume();
      expectBytes(await read, 150, 400);
      expect(inner.calls).toEqual([
        [0, undefined],
        [0, 50],
      ]);
    });
  });

  it('reports the size of the inner source', () => {
    expect(new ForwardSource(new FakeSource(DATA)).size).toBe(SIZE);
    expect(new ForwardSource(new FakeSource(DATA, { size: null })).size).toBeNull();
  });

  it('hands on exactly the right bytes for a random mix of reads', async () => {
    // A demuxer-like pattern with random offsets: header reads, open-ended reads stopped part way,
    // jumps forward and back. Whatever is served or falls back, the bytes must be right.
    let seed = 7;
    const rand = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    for (let round = 0; round < 30; round++) {
      const inner = new FakeSource(DATA, { chunks: [1 + rand(300), rand(2) ? 0 : 17, 1 + rand(900)] });
      const src = new ForwardSource(inner, { headCacheBytes: rand(3) === 0 ? rand(2000) : DEFAULT_HEAD_CACHE_BYTES });
      let cursor = 0;
      for (let op = 0; op < 25; op++) {
        const kind = rand(4);
        if (kind === 0) {
          const start = rand(600);
          const end = start + rand(200);
          expectBytes(await range(src, start, end), start, Math.min(end, SIZE));
        } else if (kind === 1) {
          const start = cursor + rand(400);
          const end = start + 1 + rand(700);
          expectBytes(await range(src, start, end), Math.min(start, SIZE), Math.min(end, SIZE));
          cursor = Math.min(end, SIZE);
        } else if (kind === 2) {
          const start = rand(3) === 0 ? rand(SIZE) : cursor;
          const want = rand(1500);
          const reader = src.stream(start).getReader();
          const got = await readSome(reader, want);
          await reader.cancel();
          expect(got.length).toBeGreaterThanOrEqual(Math.min(want, SIZE - start));
          expectBytes(got, start, start + got.length);
          cursor = start + got.length;
        } else {
          const start = rand(SIZE);
          const end = start + rand(300);
          expectBytes(await readRange(src, start, end), start, Math.min(end, SIZE));
        }
      }
      expect(inner.calls[0]).toEqual([0, undefined]);
    }
  });
});
