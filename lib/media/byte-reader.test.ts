/**
 * SequentialReader: exact bytes for every read pattern the demuxer makes, over byte streams (BYOB,
 * pooled and reused buffers, tails carried across buffers) and plain streams, and views that stay
 * intact while retained even though the reader reuses its buffers.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ByteSource } from '../io';
import { releaseBuffer, retainBuffer, SequentialReader } from './byte-reader';
import { NodeFileSource } from '../node/files';
import { MemorySource } from '../../test/fixtures/media-io';

const dir = mkdtempSync(join(tmpdir(), 'vidmux-reader-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Deterministic pseudo-random numbers. */
function rng(seed: number): () => number {
  let x = seed >>> 0;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 2 ** 32;
  };
}

const SIZE = 7 * 1024 * 1024;
const bytes = (() => {
  const b = new Uint8Array(SIZE);
  const r = rng(7);
  for (let i = 0; i < SIZE; i++) b[i] = (r() * 256) | 0;
  return b;
})();

/** An in-memory byte stream that fills BYOB requests with short, irregular reads (like a network). */
class ByobMemorySource implements ByteSource {
  readonly size = bytes.length;
  stream(start = 0, end = bytes.length): ReadableStream<Uint8Array> {
    let pos = start;
    const r = rng(start + 1);
    return new ReadableStream({
      type: 'bytes',
      pull(c) {
        const req = c.byobRequest!;
        if (pos >= end) {
          c.close();
          req.respond(0);
          return;
        }
        const view = req.view!;
        const n = Math.min(view.byteLength, end - pos, 1 + Math.floor(r() * 300_000));
        new Uint8Array(view.buffer, view.byteOffset, n).set(bytes.subarray(pos, pos + n));
        pos += n;
        req.respond(n);
      },
    });
  }
}

/** Sample-like ranges: mostly contiguous, some gaps, one jump past the skip limit, sizes up to 2.5 buffers. */
function ranges(bufferBytes: number): Array<[number, number]> {
  const r = rng(42);
  const out: Array<[number, number]> = [];
  let pos = 100;
  while (pos < SIZE) {
    const big = r() < 0.02;
    const len = big ? Math.floor(r() * 2.5 * bufferBytes) + 1 : Math.floor(r() * bufferBytes * 0.3) + 1;
    if (pos + len > SIZE) break;
    out.push([pos, len]);
    pos += len;
    if (r() < 0.1) pos += Math.floor(r() * 5000);
    if (out.length === 40) pos += 4.5 * 1024 * 1024; // reopens the stream further on
  }
  return out;
}

async function check(source: ByteSource, sizes: { bufferBytes: number; headroomBytes: number }): Promise<void> {
  const reader = new SequentialReader(source, undefined, undefined, sizes);
  const held: Array<{ view: Uint8Array; at: number; len: number }> = [];
  let i = 0;
  for (const [at, len] of ranges(sizes.bufferBytes)) {
    const got = await reader.read(at, len);
    expect(got.length).toBe(len);
    if (Buffer.compare(got, bytes.subarray(at, at + len)) !== 0) throw new Error(`bytes differ at ${at}+${len}`);
    // Keep every third view like the muxer does for a pending write; the reader reads on meanwhile.
    if (i++ % 3 === 0) {
      retainBuffer(got.buffer);
      held.push({ view: got, at, len });
    }
    while (held.length > 6) {
      const h = held.shift()!;
      // (A reused buffer is detached by the stream: the view would be empty.)
      if (h.view.length !== h.len || Buffer.compare(h.view, bytes.subarray(h.at, h.at + h.len)) !== 0) throw new Error(`retained view at ${h.at} was reused`);
      releaseBuffer(h.view.buffer);
    }
  }
  const tail = await reader.read(SIZE - 10, 100, true);
  expect(Buffer.compare(tail, bytes.subarray(SIZE - 10))).toBe(0);
  await expect(Promise.resolve(reader.read(SIZE - 10, 100))).rejects.toMatchObject({ code: 'truncated' });
  reader.close();
}

describe('SequentialReader', () => {
  const small = { bufferBytes: 64 * 1024, headroomBytes: 16 * 1024 };
  it('reads exact bytes from a byte stream with reused buffers and carried tails', async () => {
    await check(new ByobMemorySource(), small);
  });
  it('reads exact bytes from a local file (BYOB)', async () => {
    const path = join(dir, 'data.bin');
    writeFileSync(path, bytes);
    await check(await NodeFileSource.open(path), small);
  });
  it('reads exact bytes from a plain (non-byte) stream', async () => {
    await check(new MemorySource(bytes, 50_000), small);
  });
  it('reads exact bytes with the default sizes', async () => {
    await check(new ByobMemorySource(), { bufferBytes: 2 * 1024 * 1024, headroomBytes: 256 * 1024 });
  });
});
