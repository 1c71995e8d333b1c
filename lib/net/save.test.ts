/**
 * Only media is saved, and only one version of it: a copy checks what the server sent before a
 * byte is written (web pages, empty answers, bytes no media starts with), sends If-Range on every
 * range, and starts again from byte 0 when the file changed on the server meanwhile.
 */
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startMediaServer, type FaultSpec, type MediaServer } from '../../test/fakes/media-server';
import { MemoryFileSink } from '../../test/fixtures/memory-sink';
import { VidmuxError } from '../errors';
import { sniffMedia } from '../media-sniff';
import { HttpClient } from './http';
import { openRangedSource } from './ranged-fetch';
import { copyToSink } from './save';

const FTYP = Buffer.from([0, 0, 0, 24, ...Buffer.from('ftypisom'), 0, 0, 2, 0, ...Buffer.from('isommp41')]);
const DATA = Buffer.concat([FTYP, randomBytes(2 * 1024 * 1024)]);
const CHUNK = 256 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

let server: MediaServer;
beforeAll(async () => {
  server = await startMediaServer();
  await server.addFile('clip.mp4', DATA);
  await server.addFile('noise.mp4', randomBytes(100_000));
});
afterAll(() => server.close());

const fast = () => new HttpClient({ sleep: async () => {} });

async function copy(name: string, faults: FaultSpec = {}, reopen = true) {
  const client = fast();
  const url = server.fileUrl(name, faults);
  const open = () => openRangedSource(url, { client, chunkSize: CHUNK, connections: 4 });
  const sink = new MemoryFileSink();
  const from = server.requests.length;
  try {
    const bytes = await copyToSink(await open(), sink, { media: { what: 'the video' }, ...(reopen ? { reopen: open } : {}) });
    return { bytes, sink, requests: server.requests.slice(from), error: null };
  } catch (err) {
    expect(err).toBeInstanceOf(VidmuxError);
    return { bytes: 0, sink, requests: server.requests.slice(from), error: err as VidmuxError };
  }
}

describe('only media is saved', () => {
  it('a web page at a .mp4 URL (text/html) is refused before anything is written', async () => {
    const { error, sink } = await copy('clip.mp4', { html: true });
    expect(error).toMatchObject({ code: 'bad_response', message: expect.stringMatching(/^The server sent a web page instead of the video \(127\.0\.0\.1:\d+\/files\/clip\.mp4 answered text\/html/) });
    expect([sink.aborted, sink.written]).toEqual([true, 0]);
  });

  it('a web page served as video/mp4 is found by its bytes', async () => {
    const { error, sink } = await copy('clip.mp4', { htmlAsVideo: true });
    expect(error).toMatchObject({ code: 'bad_response', message: expect.stringMatching(/^The server sent a web page instead of the video/) });
    expect([sink.aborted, sink.written]).toEqual([true, 0]);
  });

  it('a 200 with an empty body is not a file', async () => {
    const { error, sink } = await copy('clip.mp4', { empty: true });
    expect(error).toMatchObject({ code: 'bad_response', message: expect.stringMatching(/^The server sent an empty file instead of the video/) });
    expect(sink.aborted).toBe(true);
  });

  it('bytes no media format starts with are refused, naming them', async () => {
    const { error } = await copy('noise.mp4');
    expect(error).toMatchObject({ code: 'bad_response', message: expect.stringMatching(/is not the video: no video or audio format starts with the bytes [0-9a-f ]{23}\.$/) });
  });

  it('the sniffer knows the containers a saved file may be', () => {
    const ts = new Uint8Array(400);
    ts[0] = ts[188] = 0x47;
    expect(sniffMedia(FTYP).kind).toBe('media');
    expect(sniffMedia(ts)).toEqual({ kind: 'media', container: 'mpegts' });
    expect(sniffMedia(new Uint8Array([0x1a, 0x45, 0xdf, 0xa3, 1]))).toEqual({ kind: 'media', container: 'webm' });
    expect(sniffMedia(Buffer.from('ID3\x04\x00'))).toEqual({ kind: 'media', container: 'mp3' });
    expect(sniffMedia(new Uint8Array([0xff, 0xf1, 0x50, 0x80]))).toEqual({ kind: 'media', container: 'aac' });
    expect(sniffMedia(Buffer.from('\uFEFF  <!DOCTYPE html><html>'))).toEqual({ kind: 'html' });
    expect(sniffMedia(Buffer.from('{"error":"nope"}'))).toEqual({ kind: 'unknown' });
  });
});

describe('one version of the file', () => {
  it('every range after the probe carries If-Range with the probe’s ETag', async () => {
    const { error, sink, requests } = await copy('clip.mp4');
    expect(error).toBeNull();
    expect(sha(sink.bytes)).toBe(sha(DATA));
    const probe = requests[0]!;
    expect([probe.range, probe.ifRange]).toEqual(['bytes=0-0', null]);
    const ranged = requests.slice(1).filter((r) => r.range && r.start! > 0);
    expect(ranged.length).toBeGreaterThan(4);
    expect(new Set(ranged.map((r) => r.ifRange))).toEqual(new Set([expect.stringMatching(/^"[0-9a-f]+-8"$/)]));
  });

  it('a file that changes on the server mid-download is fetched again from byte 0: the saved file is all the new version', async () => {
    // The probe and the first ranges see version 1; from the 4th request on the server has version 2.
    const { error, sink, requests } = await copy('clip.mp4', { changeAfter: 3 });
    expect(error).toBeNull();
    const v2 = Buffer.from(DATA.map((b, i) => (i < 64 ? b : b ^ 0x5a)));
    expect(sha(sink.bytes)).toBe(sha(v2));
    expect(sink.closed).toBe(true);
    // Some requests answered 200 (If-Range did not match): they started the new version.
    expect(requests.some((r) => r.status === 200 && r.range !== null)).toBe(true);
  });

  it('changed and resized: a clear error, nothing saved', async () => {
    const { error, sink } = await copy('clip.mp4', { changeAfter: 3, grow: 1000 });
    expect(error).toMatchObject({ code: 'source_changed', message: expect.stringMatching(/changed on the server during the download and its size changed too \(2097176 -> 2098176 bytes\)/) });
    expect([sink.aborted, sink.closed]).toEqual([true, false]);
  });

  it('without a way to start again, a change is an error, never a spliced file', async () => {
    const { error, sink } = await copy('clip.mp4', { changeAfter: 3 }, false);
    expect(error).toMatchObject({ code: 'source_changed', message: expect.stringMatching(/changed on the server during the download \(its ETag went from "[^"]+" to "[^"]+-v2"\)/) });
    expect(sink.aborted).toBe(true);
  });
});

describe('writes of a copy', () => {
  it('a byte-stream source is copied through one buffer, filled and written again and again; the file is the same', async () => {
    class BuffersSink extends MemoryFileSink {
      buffers = new Set<ArrayBufferLike>();
      writes = 0;
      override async write(position: number, bytes: Uint8Array): Promise<void> {
        this.buffers.add(bytes.buffer);
        this.writes++;
        await super.write(position, bytes);
      }
    }
    const sink = new BuffersSink();
    const bytes = await copyToSink(await openRangedSource(server.fileUrl('clip.mp4'), { client: fast(), chunkSize: CHUNK, connections: 4 }), sink, { media: { what: 'the video' } });
    expect(bytes).toBe(DATA.length);
    expect(sha(sink.bytes)).toBe(sha(DATA));
    expect(sink.closed).toBe(true);
    expect(sink.writes).toBe(Math.ceil(DATA.length / (1024 * 1024)));
    // Each read hands the buffer back transferred: a new ArrayBuffer object, the same memory.
    // What shows the reuse: no write's bytes outlive the next read (all detached but the last).
    expect([...sink.buffers].filter((b) => b.byteLength > 0)).toHaveLength(1);
  });

  it('a sink that takes parts gets the network chunks of a plain stream as they came, never joined; the file is the same', async () => {
    class PartsSink extends MemoryFileSink {
      calls: number[] = [];
      async writeParts(position: number, parts: readonly Uint8Array[]): Promise<void> {
        this.calls.push(parts.length);
        for (const p of parts) {
          await this.write(position, p);
          position += p.length;
        }
      }
    }
    const client = fast();
    const sink = new PartsSink();
    // One connection: the sequential download hands on the network's chunks as a plain stream.
    const bytes = await copyToSink(await openRangedSource(server.fileUrl('clip.mp4'), { client, chunkSize: CHUNK, connections: 1 }), sink, { media: { what: 'the video' } });
    expect(bytes).toBe(DATA.length);
    expect(sha(sink.bytes)).toBe(sha(DATA));
    expect(sink.closed).toBe(true);
    // Batches of several chunks each went through writeParts (the first one, sniffed, is joined).
    expect(sink.calls.length).toBeGreaterThan(0);
    expect(sink.calls.slice(1).some((n) => n > 1)).toBe(true);
  });
});
