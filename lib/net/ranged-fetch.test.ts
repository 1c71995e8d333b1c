import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMediaServer, type FaultSpec, type MediaServer } from '../../test/fakes/media-server';
import { VidmuxError } from '../errors';
import type { Progress } from '../progress';
import { HttpClient } from './http';
import { openRangedSource, parseContentRange, type RangedFetchOptions } from './ranged-fetch';

const SIZE = 3 * 1024 * 1024 + 12345; // not a multiple of the chunk size
const CHUNK = 256 * 1024;
const DATA = randomBytes(SIZE);
const SHA = sha256(DATA);

let server: MediaServer;
beforeAll(async () => {
  server = await startMediaServer();
  await server.addFile('clip.mp4', DATA);
  await server.addFile('empty.bin', new Uint8Array(0));
});
afterAll(() => server.close());
beforeEach(() => server.resetStats());

/** A fetch that counts responses open at once (from the request until the body ends or is dropped). */
function countingFetch() {
  const state = { active: 0, max: 0, fetch: undefined as unknown as typeof fetch };
  state.fetch = async (input, init) => {
    state.active++;
    state.max = Math.max(state.max, state.active);
    let open = true;
    const end = () => {
      if (open) {
        open = false;
        state.active--;
      }
    };
    init?.signal?.addEventListener('abort', end, { once: true });
    try {
      const res = await fetch(input, init);
      if (!res.body) {
        end();
        return res;
      }
      const reader = res.body.getReader();
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          try {
            const { done, value } = await reader.read();
            if (done) {
              end();
              c.close();
            } else c.enqueue(value);
          } catch (err) {
            end();
            c.error(err);
          }
        },
        cancel(reason) {
          end();
          return reader.cancel(reason);
        },
      });
      return new Response(body, { status: res.status, headers: res.headers });
    } catch (err) {
      end();
      throw err;
    }
  };
  return state;
}

function sha256(data: Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** A client that records retry waits instead of sleeping, and gives up on stalls fast. */
function fastClient(extra: ConstructorParameters<typeof HttpClient>[0] = {}) {
  const sleeps: number[] = [];
  const client = new HttpClient({ sleep: async (ms) => void sleeps.push(ms), random: () => 0, stallTimeoutMs: 300, ...extra });
  return { client, sleeps };
}

/** Reads a whole stream; returns the sha256 and length of what came out. */
async function drain(stream: ReadableStream<Uint8Array>): Promise<{ sha: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    hash.update(value);
    bytes += value.length;
  }
  return { sha: hash.digest('hex'), bytes };
}

/** Reads a whole stream by BYOB reads into one buffer of `size` bytes, reused; returns what `drain` does. */
async function drainInto(stream: ReadableStream<Uint8Array>, size: number): Promise<{ sha: string; bytes: number }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const reader = stream.getReader({ mode: 'byob' });
  let buffer = new ArrayBuffer(size);
  for (;;) {
    const { done, value } = await reader.read(new Uint8Array(buffer));
    if (!value) throw new Error('the read gave no buffer back');
    buffer = value.buffer as ArrayBuffer;
    if (done) break;
    hash.update(value);
    bytes += value.length;
  }
  return { sha: hash.digest('hex'), bytes };
}

async function download(faults: FaultSpec, opts: RangedFetchOptions = {}) {
  const { client, sleeps } = fastClient();
  const source = await openRangedSource(server.fileUrl('clip.mp4', faults), { client, chunkSize: CHUNK, ...opts });
  const result = await drain(source.stream());
  return { ...result, source, sleeps };
}

/** Range requests after the probe, as [start, end) pairs. */
function ranges(): Array<[number | null, number | null]> {
  return server.requests.slice(1).map((r) => [r.start, r.end]);
}

describe('ranged fetch, clean server', () => {
  it('delivers the exact bytes in order with 4 connections by default', async () => {
    // A cap so requests overlap long enough for the server to see them together.
    const { sha, bytes, source } = await download({ cap: 4_000_000 });
    expect(bytes).toBe(SIZE);
    expect(sha).toBe(SHA);
    expect(source.size).toBe(SIZE);
    expect(source.rangesSupported).toBe(true);
    expect(server.maxActive).toBe(4);
    expect(server.requests.every((r) => r.status === 206)).toBe(true);
  });

  it('a BYOB reader gets the exact bytes in its own buffer, whatever its size, over byte-stream bodies and plain ones, through splits and resets', async () => {
    const counter = countingFetch(); // its bodies are plain streams: no BYOB read of the network
    for (const fetchImpl of [undefined, counter.fetch]) {
      for (const [size, faults] of [
        [1000, { cap: 6_000_000 }],
        [64 * 1024 + 1, { reset: 100_000, after: 1, times: 3 }],
        [2 * 1024 * 1024, { cap: 6_000_000 }],
      ] as const) {
        server.resetStats();
        const { client } = fastClient(fetchImpl ? { fetch: fetchImpl } : {});
        const source = await openRangedSource(server.fileUrl('clip.mp4', faults), { client, chunkSize: 96 * 1024, connections: 4, minSplitBytes: 8 * 1024 });
        const what = `${fetchImpl ? 'plain' : 'byte-stream'} bodies, reads of ${size}`;
        expect(await drainInto(source.stream(), size), what).toEqual({ sha: SHA, bytes: SIZE });
        expect(await drainInto(source.stream(5, SIZE - 5), size), what).toEqual({ sha: sha256(DATA.subarray(5, SIZE - 5)), bytes: SIZE - 10 });
      }
    }
  });

  it("a plain body's chunks that share one buffer are never reused as slabs, even when that buffer is a slab's size", async () => {
    // Every other response's chunks are 16 KiB views into a buffer of the slab's size (chunkSize
    // 96 KiB), as a custom fetch may give; the others are byte streams, gathered in slabs. Once
    // copied out, such a view's buffer must not become a slab while later views of it wait.
    const shared = 96 * 1024;
    let responses = 0;
    const sharing: typeof fetch = async (input, init) => {
      const res = await fetch(input, init);
      if (responses++ % 2 === 1) return res;
      const reader = res.body!.getReader();
      let buffer = new Uint8Array(shared);
      let filled = 0;
      const body = new ReadableStream<Uint8Array>({
        async pull(c) {
          const { done, value } = await reader.read();
          if (done) return c.close();
          for (let at = 0; at < value.length; ) {
            if (filled === shared) {
              buffer = new Uint8Array(shared);
              filled = 0;
            }
            const n = Math.min(value.length - at, shared - filled, 16 * 1024);
            buffer.set(value.subarray(at, at + n), filled);
            c.enqueue(buffer.subarray(filled, filled + n));
            filled += n;
            at += n;
          }
        },
        cancel: (reason) => reader.cancel(reason),
      });
      return new Response(body, { status: res.status, headers: res.headers });
    };
    const { client } = fastClient({ fetch: sharing });
    const source = await openRangedSource(server.fileUrl('clip.mp4', { cap: 6_000_000 }), { client, chunkSize: shared, connections: 4 });
    expect(await drainInto(source.stream(), 1000)).toEqual({ sha: SHA, bytes: SIZE });
  });

  it('streams a sub-range', async () => {
    const { client } = fastClient();
    const source = await openRangedSource(server.fileUrl('clip.mp4'), { client, chunkSize: CHUNK });
    const { sha } = await drain(source.stream(1000, 1_000_000));
    expect(sha).toBe(sha256(DATA.subarray(1000, 1_000_000)));
  });

  it('never opens more than 10 connections to a host, across downloads of one client', async () => {
    // Counted on the client side: a connection dropped at a split is closed for us at once,
    // while the server notices a moment later.
    const counter = countingFetch();
    const { client } = fastClient({ fetch: counter.fetch });
    const a = await openRangedSource(server.fileUrl('clip.mp4', { cap: 4_000_000 }), { client, chunkSize: 64 * 1024, connections: 50 });
    const b = await openRangedSource(server.fileUrl('clip.mp4', { cap: 4_000_000 }), { client, chunkSize: 64 * 1024, connections: 8 });
    expect(a.connections).toBe(10);
    const [ra, rb] = await Promise.all([drain(a.stream()), drain(b.stream())]);
    expect(ra.sha).toBe(SHA);
    expect(rb.sha).toBe(SHA);
    expect(counter.max).toBe(10);
    expect(counter.active).toBe(0);
  });

  it('splits the tail between idle connections without losing or repeating a byte', async () => {
    for (const connections of [2, 3, 5, 8, 10]) {
      server.resetStats();
      const { client } = fastClient();
      const source = await openRangedSource(server.fileUrl('clip.mp4', { cap: 6_000_000 }), {
        client,
        chunkSize: 96 * 1024,
        connections,
        minSplitBytes: 8 * 1024,
      });
      expect((await drain(source.stream())).sha, `${connections} connections`).toBe(SHA);
    }
    // Deterministic split: 4 chunks (1 MiB x 3 + 12 kB) on 4 capped connections. The small one ends
    // first; its connection must take over half of a big one rather than sit idle.
    server.resetStats();
    const { client } = fastClient();
    const source = await openRangedSource(server.fileUrl('clip.mp4', { cap: 4_000_000 }), { client, chunkSize: 1024 * 1024, connections: 4 });
    expect((await drain(source.stream())).sha).toBe(SHA);
    expect(server.requests.some((r) => r.start !== null && r.start % (1024 * 1024) !== 0 && r.start !== 3 * 1024 * 1024)).toBe(true);
  });

  it('keeps memory bounded: with a paused consumer it fetches no more than the buffer limit', async () => {
    const { client } = fastClient();
    const source = await openRangedSource(server.fileUrl('clip.mp4'), { client, chunkSize: CHUNK, connections: 2 });
    const reader = source.stream().getReader();
    await reader.read(); // start, then stop reading
    await new Promise((r) => setTimeout(r, 400));
    const requested = server.requests.slice(1).reduce((s, r) => s + ((r.end ?? 0) - (r.start ?? 0)), 0);
    expect(source.bufferLimitBytes).toBe(3 * CHUNK);
    expect(requested).toBeLessThanOrEqual(source.bufferLimitBytes);
    await reader.cancel();
  });

  it('reports progress at most 10 times a second, ending with the full size', async () => {
    const seen: Array<{ t: number; p: Progress }> = [];
    await download({ cap: 3_000_000 }, { onProgress: (p) => seen.push({ t: Date.now(), p }) });
    const last = seen.at(-1)!.p;
    expect(last).toMatchObject({ bytesDone: SIZE, bytesTotal: SIZE, etaSeconds: 0 });
    expect(last.speedBps).toBeGreaterThan(0);
    const gaps = seen.slice(1, -1).map((s, i) => s.t - seen[i]!.t);
    expect(gaps.every((g) => g >= 95)).toBe(true);
    expect(seen.length).toBeGreaterThan(3);
    expect(seen.map((s) => s.p.bytesDone)).toEqual([...seen.map((s) => s.p.bytesDone)].sort((x, y) => x - y));
  });

  it('handles an empty file', async () => {
    const { client } = fastClient();
    const source = await openRangedSource(server.fileUrl('empty.bin'), { client });
    expect(source.size).toBe(0);
    expect((await drain(source.stream())).bytes).toBe(0);
  });
});

describe('ranged fetch, faults', () => {
  it('connection reset mid-body: resumes from the last good byte, not the chunk start', async () => {
    const { sha, sleeps } = await download({ reset: 100_000, after: 1, times: 3 });
    expect(sha).toBe(SHA);
    expect(sleeps).toEqual([1000, 1000, 1000]);
    const resets = server.requests.filter((r) => r.faulted);
    expect(resets).toHaveLength(3);
    // Each broken chunk is asked for again from where its bytes stopped.
    for (const r of resets) {
      const resumed = server.requests.find((q) => q.start !== null && q.start > r.start! && q.start <= r.start! + 100_000 && q.end === r.end);
      expect(resumed, `resume of ${r.start}-${r.end}`).toBeDefined();
      expect(resumed!.start! - r.start!).toBeGreaterThan(0);
    }
  });

  it('connection reset on every request: still completes, since every attempt makes progress', async () => {
    const { sha } = await download({ reset: 200_000, after: 1 }, { connections: 4 });
    expect(sha).toBe(SHA);
  });

  it('5xx: retried with back-off, bytes intact', async () => {
    const { sha, sleeps } = await download({ status: 503, after: 1, times: 2 });
    expect(sha).toBe(SHA);
    expect(sleeps.sort()).toEqual([1000, 1000]);
  });

  it('5xx that persists: explicit http_error with the status, no hang', async () => {
    const err = await download({ status: 500, after: 1 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VidmuxError);
    expect(err).toMatchObject({ code: 'http_error', status: 500 });
    expect((err as Error).message).toMatch(/server error \(500.*gave up after 3 retries/);
  });

  it('502 once: retried after 2 s; 502 twice in a row: fails', async () => {
    const ok = await download({ status: 502, after: 1, times: 1 });
    expect(ok.sha).toBe(SHA);
    expect(ok.sleeps).toEqual([2000]);
    await expect(download({ status: 502, after: 1 }, { connections: 2 })).rejects.toMatchObject({ code: 'http_error', status: 502 });
  });

  it('429 with Retry-After: waits as told, bytes intact', async () => {
    const { sha, sleeps } = await download({ status: 429, retryAfter: 2, after: 1, times: 3 });
    expect(sha).toBe(SHA);
    expect(sleeps).toEqual([2000, 2000, 2000]);
  });

  it('truncated body (clean end, short of Content-Range): detected and resumed', async () => {
    const { sha, sleeps } = await download({ truncate: 50_000, after: 1, times: 4 });
    expect(sha).toBe(SHA);
    expect(sleeps).toHaveLength(4);
    expect(server.requests.filter((r) => r.faulted).every((r) => r.bytesSent === 50_000)).toBe(true);
  });

  it('truncated body in sequential mode (size known from the probe): detected and resumed', async () => {
    const { sha } = await download({ truncate: 700_000, after: 1, times: 2 }, { connections: 1 });
    expect(sha).toBe(SHA);
    expect(server.requests.filter((r) => r.faulted)).toHaveLength(2);
  });

  it('server ignores Range (200): falls back to one sequential stream', async () => {
    const { sha, source } = await download({ ignoreRange: true });
    expect(sha).toBe(SHA);
    expect(source.rangesSupported).toBe(false);
    expect(source.size).toBe(SIZE);
    expect(server.requests.map((r) => r.status)).toEqual([200, 200]);
    expect(server.maxActive).toBe(1);
  });

  it('server ignores Range and a reset hits: restarts the body and skips what it already has', async () => {
    const { sha } = await download({ ignoreRange: true, reset: 1_000_000, after: 1, times: 1 });
    expect(sha).toBe(SHA);
  });

  it('size unknown (no Content-Length, no ranges): sequential stream to the end', async () => {
    const { sha, bytes, source } = await download({ ignoreRange: true, noLength: true });
    expect(source.size).toBeNull();
    expect(bytes).toBe(SIZE);
    expect(sha).toBe(SHA);
  });

  it('server that ignores Range cuts every body short: explicit error after the retries', async () => {
    // Every answer is the whole file cut at 1 MB: no attempt can make progress past it.
    const { client, sleeps } = fastClient();
    const source = await openRangedSource(server.fileUrl('clip.mp4', { ignoreRange: true, truncate: 1_000_000 }), { client });
    const err = await drain(source.stream()).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VidmuxError);
    expect(err).toMatchObject({ code: 'network' });
    expect((err as Error).message).toMatch(/connection .* broke.*gave up after 3 retries/);
    expect(sleeps).toEqual([1000, 4000, 16000]);
  });

  it('a server that sends 64 KB then stalls on every try runs out of retries (a trickle does not reset them)', async () => {
    const { client, sleeps } = fastClient();
    const source = await openRangedSource(server.fileUrl('clip.mp4', { stall: 65_536, after: 1 }), { client, chunkSize: CHUNK, connections: 1 });
    const err = await drain(source.stream()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'timeout', message: expect.stringMatching(/stopped sending data for 300 ms \(the stall limit\)\. \(gave up after 3 retries\)$/) });
    expect(sleeps).toEqual([1000, 4000, 16000]);
  });

  it('a server dripping bytes (never stalling) is stopped by the low-speed limit, and given up', async () => {
    const { client, sleeps } = fastClient({ lowSpeed: { bytesPerSecond: 5_000, windowMs: 400 } });
    const source = await openRangedSource(server.fileUrl('clip.mp4', { drip: 1_000, after: 1 }), { client, chunkSize: CHUNK, connections: 1 });
    const err = await drain(source.stream()).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'timeout', message: expect.stringMatching(/sent less than 5000 bytes\/s for 400 ms \(the low-speed limit\)\. \(gave up after 3 retries\)$/) });
    expect(sleeps).toEqual([1000, 4000, 16000]);
  });

  it('stall: abandoned after the stall timeout and resumed', async () => {
    const started = Date.now();
    const { sha, sleeps } = await download({ stall: 120_000, after: 1, times: 2 });
    expect(sha).toBe(SHA);
    expect(sleeps).toHaveLength(2);
    expect(Date.now() - started).toBeLessThan(5000);
  });

  it('stall that persists at the same byte: explicit timeout error, no hang', async () => {
    const err = await download({ stall: 0, after: 1 }, { connections: 2 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'timeout' });
    expect((err as Error).message).toMatch(/stopped sending data.*gave up/);
  });

  it('wrong Content-Range: explicit bad_response error', async () => {
    const err = await download({ badRange: true, after: 1 }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'bad_response' });
    expect((err as Error).message).toMatch(/Content-Range/);
  });

  it('expiring URL: 403 mid-download, re-resolved, continues from the same byte', async () => {
    const { client } = fastClient();
    let refreshes = 0;
    const url = server.expiringUrl('clip.mp4', 300, { cap: 2_000_000 });
    const source = await openRangedSource(url, {
      client,
      chunkSize: CHUNK,
      connections: 2,
      refresh: async (stale) => {
        refreshes++;
        return server.refreshUrl(stale);
      },
    });
    const { sha } = await drain(source.stream());
    expect(sha).toBe(SHA);
    expect(refreshes).toBeGreaterThanOrEqual(1);
    expect(server.requests.some((r) => r.status === 403)).toBe(true);
    expect(source.url).not.toBe(url);
  });

  it('expiring URL with no way to refresh: explicit forbidden error', async () => {
    const { client } = fastClient();
    const source = await openRangedSource(server.expiringUrl('clip.mp4', 300, { cap: 2_000_000 }), { client, chunkSize: CHUNK });
    await expect(drain(source.stream())).rejects.toMatchObject({ code: 'forbidden', status: 403 });
  });

  it('cancellation stops every connection at once', async () => {
    const { client } = fastClient();
    const source = await openRangedSource(server.fileUrl('clip.mp4', { cap: 500_000 }), { client, chunkSize: CHUNK });
    const ctrl = new AbortController();
    const done = drain(source.stream(0, undefined, ctrl.signal));
    await new Promise((r) => setTimeout(r, 200));
    expect(server.active).toBeGreaterThan(0);
    const t = Date.now();
    ctrl.abort();
    await expect(done).rejects.toMatchObject({ code: 'cancelled' });
    expect(Date.now() - t).toBeLessThan(500);
    await new Promise((r) => setTimeout(r, 100));
    expect(server.active).toBe(0);
  });
});

describe('ranged fetch, size unknown', () => {
  it('a caller asking past the end of a resource of unknown size gets a short read at once, not retries', async () => {
    const { client, sleeps } = fastClient();
    const source = await openRangedSource(server.fileUrl('clip.mp4', { ignoreRange: true, noLength: true }), { client, chunkSize: CHUNK });
    expect(source.size).toBeNull();
    const result = await drain(source.stream(0, SIZE * 10));
    expect(result).toEqual({ sha: SHA, bytes: SIZE });
    expect(sleeps).toEqual([]);
  });
});

describe('parseContentRange', () => {
  it('reads valid headers and rejects nonsense', () => {
    expect(parseContentRange('bytes 0-99/1000')).toEqual({ start: 0, end: 99, total: 1000 });
    expect(parseContentRange('bytes 5-9/*')).toEqual({ start: 5, end: 9, total: null });
    expect(parseContentRange('bytes 9-5/100')).toBeNull();
    expect(parseContentRange('bytes 0-100/100')).toBeNull();
    expect(parseContentRange(null)).toBeNull();
  });
});
