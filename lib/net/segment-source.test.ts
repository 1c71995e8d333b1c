/** Segmented tracks over real HTTP (the fault-injecting media server), byte for byte. */
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startMediaServer, type MediaServer } from '../../test/fakes/media-server';
import type { Progress } from '../progress';
import { HttpClient } from './http';
import { SegmentedSource, type SegmentRef } from './segment-source';

let server: MediaServer;
const PARTS = Array.from({ length: 12 }, (_, i) => randomBytes(20_000 + i * 777));
const WHOLE = Buffer.concat(PARTS);
const client = () => new HttpClient({ sleep: async () => undefined, random: () => 0 });

beforeAll(async () => {
  server = await startMediaServer();
  await Promise.all(PARTS.map((p, i) => server.addFile(`seg${i}.m4s`, p)));
  await server.addFile('all.bin', WHOLE);
});
afterAll(() => server.close());
beforeEach(() => server.resetStats());

async function readAll(stream: ReadableStream<Uint8Array>): Promise<Buffer> {
  const parts: Uint8Array[] = [];
  const reader = stream.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return Buffer.concat(parts);
    parts.push(value);
  }
}

const files = (faults: (i: number) => Parameters<MediaServer['fileUrl']>[1] = () => undefined): SegmentRef[] =>
  PARTS.map((_, i) => ({ url: server.fileUrl(`seg${i}.m4s`, faults(i)), range: null }));

/** The same bytes as byte ranges of one file (HLS EXT-X-BYTERANGE, DASH SegmentBase). */
function ranges(faults?: Parameters<MediaServer['fileUrl']>[1]): SegmentRef[] {
  let at = 0;
  return PARTS.map((p) => {
    const r = { url: server.fileUrl('all.bin', faults), range: { start: at, end: at + p.length - 1 } };
    at += p.length;
    return r;
  });
}

describe('SegmentedSource', () => {
  it('hands on the segments in order, byte for byte, never more than `concurrency` requests at once', async () => {
    const source = new SegmentedSource(files(() => ({ cap: 400_000 })), { client: client(), concurrency: 3 });
    expect(source.size).toBeNull();
    expect(await readAll(source.stream())).toEqual(WHOLE);
    expect(server.requests).toHaveLength(PARTS.length);
    expect(server.maxActive).toBe(3);
  });

  it('keeps the other connections busy while a slow segment holds up the one handed on next (bounded look-ahead)', async () => {
    // Segment 0 crawls (20 KB at 40 KB/s); the rest are fast. Handing on in order must not idle the
    // second connection: it goes on fetching segments ahead, up to `ahead`, never two at once more.
    const segs = files((i) => (i === 0 ? { cap: 40_000 } : undefined));
    const source = new SegmentedSource(segs, { client: client(), concurrency: 2, ahead: 6 });
    const reader = source.stream().getReader();
    const read: Uint8Array[] = [];
    try {
      const first = await reader.read();
      read.push(first.value!);
      // When segment 0 was in, the second connection had fetched segments 1..5 (6 ahead of 0).
      expect(server.requests.length).toBe(6);
    } finally {
      for (let r = await reader.read(); !r.done; r = await reader.read()) read.push(r.value);
    }
    expect(Buffer.concat(read)).toEqual(WHOLE);
    expect(server.maxActive).toBe(2);
  });

  it('reads byte ranges of one file, and the right slice from a server that ignores Range', async () => {
    expect(await readAll(new SegmentedSource(ranges(), { client: client() }).stream())).toEqual(WHOLE);
    expect(server.requests.every((r) => r.status === 206)).toBe(true);
    expect(await readAll(new SegmentedSource(ranges({ ignoreRange: true }), { client: client() }).stream())).toEqual(WHOLE);
  });

  it('serves [start, end) of the concatenation', async () => {
    const source = new SegmentedSource(files(), { client: client() });
    expect(await readAll(source.stream(30_000, 95_000))).toEqual(WHOLE.subarray(30_000, 95_000));
    expect(await readAll(source.stream(0, 10))).toEqual(WHOLE.subarray(0, 10));
  });

  it('retries a failing, reset or truncated segment by the retry table, and still hands on exact bytes', async () => {
    const faults = (i: number) => (i === 2 ? { status: 503, times: 1 } : i === 5 ? { reset: 5000, times: 1 } : i === 8 ? { truncate: 100, times: 1 } : undefined);
    expect(await readAll(new SegmentedSource(files(faults), { client: client() }).stream())).toEqual(WHOLE);
    expect(server.requests.filter((r) => r.faulted)).toHaveLength(3);
  });

  it('a segment that does not exist fails the stream with the reason, and stops the rest', async () => {
    const segs = files();
    segs[4] = { url: `${server.origin}/files/missing.m4s`, range: null };
    await expect(readAll(new SegmentedSource(segs, { client: client(), concurrency: 2 }).stream())).rejects.toMatchObject({ code: 'not_found', message: /no such file/ });
    expect(server.requests.length).toBeLessThan(PARTS.length);
  });

  it('an expired segment link asks for a fresh one (the playlist again) and goes on', async () => {
    const asked: number[] = [];
    const segs = PARTS.map((_, i) => ({ url: i === 6 ? server.expiringUrl(`seg${i}.m4s`, 0) : server.fileUrl(`seg${i}.m4s`), range: null }));
    const source = new SegmentedSource(segs, {
      client: client(),
      refresh: async (index) => (asked.push(index), server.fileUrl(`seg${index}.m4s`)),
    });
    expect(await readAll(source.stream())).toEqual(WHOLE);
    expect(asked).toEqual([6]);
  });

  it('transforms each segment before it is handed on (decryption), in order', async () => {
    const seen: number[] = [];
    const source = new SegmentedSource(files(), { client: client(), transform: (bytes, index) => (seen.push(index), bytes.subarray(0, 3)) });
    expect(await readAll(source.stream())).toEqual(Buffer.concat(PARTS.map((p) => p.subarray(0, 3))));
    expect(seen.sort((a, b) => a - b)).toEqual(PARTS.map((_, i) => i));
  });

  it('reports bytes and segments, the last report complete', async () => {
    const reports: Progress[] = [];
    await readAll(new SegmentedSource(files(), { client: client(), onProgress: (p) => reports.push(p) }).stream());
    expect(reports.at(-1)).toMatchObject({ bytesDone: WHOLE.length, segments: { done: PARTS.length, total: PARTS.length } });
  });

  it('refuses a segment larger than a segment can be', async () => {
    await expect(readAll(new SegmentedSource(files(), { client: client(), maxSegmentBytes: 21_000 }).stream())).rejects.toMatchObject({ code: 'bad_response', message: /more than a segment can be/ });
  });

  it('reads a segment of known length into one buffer (a BYOB read of the byte-stream body), still exact', async () => {
    // Paced: the server sends each segment in 16 KB slices, the network's chunks.
    const reader = new SegmentedSource(files(() => ({ cap: 2_000_000 })), { client: client(), concurrency: 2 }).stream().getReader();
    for (const part of PARTS) {
      const { value } = await reader.read();
      expect(value).toEqual(new Uint8Array(part));
      // The segment's own buffer, exactly its length: not a chunk of the network's.
      expect(value!.byteOffset).toBe(0);
      expect(value!.buffer.byteLength).toBe(part.length);
    }
    expect((await reader.read()).done).toBe(true);
  });

  it('reads chunk by chunk, exact, a body whose length is not its Content-Length (gzip) or that is not a byte stream', async () => {
    // Content-Length counts the gzip bytes; fetch hands on the decoded bytes: longer (zeros
    // compress), or shorter (random bytes do not).
    const long = Buffer.concat([WHOLE, Buffer.alloc(300_000)]);
    const gzipServer = createServer((req, res) => {
      const gz = gzipSync(req.url === '/long.ts' ? long : WHOLE);
      res.writeHead(200, { 'content-encoding': 'gzip', 'content-length': String(gz.length) }).end(gz);
    });
    await new Promise<void>((r) => gzipServer.listen(0, '127.0.0.1', r));
    try {
      const at = `http://127.0.0.1:${(gzipServer.address() as AddressInfo).port}`;
      expect(await readAll(new SegmentedSource([{ url: `${at}/long.ts`, range: null }], { client: client() }).stream())).toEqual(long);
      expect(await readAll(new SegmentedSource([{ url: `${at}/whole.ts`, range: null }], { client: client() }).stream())).toEqual(WHOLE);
    } finally {
      gzipServer.close();
    }
    const one: SegmentRef[] = [{ url: 'http://127.0.0.1:1/whole.ts', range: null }];
    // A body that is a plain (not byte) stream of chunks.
    const plain: typeof fetch = async () => {
      let at = 0;
      const body = new ReadableStream<Uint8Array>({
        pull(c) {
          if (at >= WHOLE.length) return c.close();
          c.enqueue(new Uint8Array(WHOLE.subarray(at, at + 7_000)));
          at += 7_000;
        },
      });
      return new Response(body, { headers: { 'content-length': String(WHOLE.length) } });
    };
    expect(await readAll(new SegmentedSource(one, { client: new HttpClient({ fetch: plain, sleep: async () => undefined }) }).stream())).toEqual(WHOLE);
  });

  it('a byte-stream body that ends short of its length is truncated (retried, then the reason), never a hang or a short segment', async () => {
    let answers = 0;
    const short: typeof fetch = async () => {
      answers++;
      let sent = false;
      const body = new ReadableStream({
        type: 'bytes',
        pull(c) {
          if (sent) {
            // A byte source answers a pending BYOB read once closed (as fetch's own does).
            c.close();
            c.byobRequest?.respond(0);
            return;
          }
          c.enqueue(new Uint8Array(WHOLE.subarray(0, 50_000)));
          sent = true;
        },
      });
      return new Response(body as ReadableStream<Uint8Array>, { headers: { 'content-length': String(WHOLE.length) } });
    };
    const one: SegmentRef[] = [{ url: 'http://127.0.0.1:1/short.ts', range: null }];
    await expect(readAll(new SegmentedSource(one, { client: new HttpClient({ fetch: short, sleep: async () => undefined, random: () => 0 }) }).stream())).rejects.toMatchObject({
      code: 'truncated',
      message: /ended segment 1 early, at byte 50000 of/,
    });
    expect(answers).toBeGreaterThan(1);
  });

  it('stops every fetch when cancelled', async () => {
    const ctrl = new AbortController();
    const source = new SegmentedSource(files(() => ({ cap: 50_000 })), { client: client(), signal: ctrl.signal, concurrency: 2 });
    const reading = readAll(source.stream());
    setTimeout(() => ctrl.abort(), 100);
    await expect(reading).rejects.toMatchObject({ code: 'cancelled' });
    await new Promise((r) => setTimeout(r, 100));
    expect(server.active).toBe(0);
    expect(server.requests.length).toBeLessThan(PARTS.length);
  });
});
