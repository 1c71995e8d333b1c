/**
 * Contract tests of the VIDIO client against its fake (providers.md section 4; the HTTP layer is
 * the INFERRED one of 4.3). Time is the fake's clock: the injected sleep advances it, so polling,
 * 409 waits and retries never really wait, and polls can be counted against time.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startVidioFake, THUMBNAIL_JPEG, VIDIO_CREATOR_KEY, VIDIO_DEFAULT_TIMINGS, VIDIO_TEST_KEY, type VidioFake, type VidioFakeOptions } from '../../test/fakes/vidio-server';
import { ffprobeJson } from '../../test/fixtures/ffmpeg';
import { VIDIO_FRAME_SIZES, vidioMedia, type VidioMedia } from '../../test/fixtures/vidio-media';
import { VidmuxError } from '../errors';
import type { ByteSink, ByteSource } from '../io';
import { NodeFileSink, NodeFileSource } from '../node/files';
import { cancelledError } from '../net/retry-policy';
import type { JobProgress } from '../progress';
import { JobProgressSchema } from '../schemas/progress';
import { ASPECT_RATIOS, REEL_STATUS_WORDS, REEL_STATUSES, ReelOptionsSchema, VidioContractOverrideSchema, type ReelOptionsInput } from '../schemas/reel';
import { HttpClient } from '../net/http';
import { reelBody, VIDIO_CONTRACT, VidioProvider, type ReelProgress, type VidioOptions } from './vidio';
import { rejection } from '../../test/fixtures/rejection';

const OPTIONS: ReelOptionsInput = { category: 'ball-sports', lengthSeconds: 30, aspect: 'landscape' };
/** Processed this long after creation with the default timings (submitted + queued + processing). */
const PROCESSED_AFTER = VIDIO_DEFAULT_TIMINGS.submittedMs + VIDIO_DEFAULT_TIMINGS.queuedMs + VIDIO_DEFAULT_TIMINGS.processingMs;
const INTERVAL = VIDIO_CONTRACT.pollIntervalMs;

let media: VidioMedia;
let fake: VidioFake;
const fakes: VidioFake[] = [];
const out = mkdtempSync(join(tmpdir(), 'vidmux-vidio-'));
let fileNo = 0;
const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

beforeAll(async () => {
  media = await vidioMedia();
  fake = await startVidioFake({ media });
});
afterAll(async () => {
  await Promise.all([fake, ...fakes].map((f) => f?.close()));
});

async function another(opts: VidioFakeOptions = {}): Promise<VidioFake> {
  const f = await startVidioFake({ media, ...opts });
  fakes.push(f);
  return f;
}

/** A client on `f`'s clock: every sleep advances the fake clock instead of waiting. */
function client(f: VidioFake = fake, extra: Partial<VidioOptions> = {}) {
  const sleeps: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw cancelledError(signal);
    sleeps.push(ms);
    f.clock.advance(ms);
    await new Promise((r) => setImmediate(r));
  };
  const provider = new VidioProvider({ apiKey: VIDIO_TEST_KEY, baseUrl: f.baseUrl, now: () => f.clock.now(), sleep, ...extra });
  return { provider, sleeps };
}

/** Bytes as a source: `size` null hides the size; `pace` waits between chunks (real time). */
function memorySource(data: Uint8Array, opts: { size?: number | null; chunk?: number; pace?: number; onPull?: (done: number) => void } = {}): ByteSource {
  const chunk = opts.chunk ?? 64 * 1024;
  return {
    size: opts.size === undefined ? data.length : opts.size,
    stream: (start = 0, end = data.length, signal?: AbortSignal) => {
      let pos = start;
      return new ReadableStream<Uint8Array>(
        {
          pull: async (c) => {
            if (signal?.aborted) return c.error(cancelledError(signal));
            if (opts.pace) await new Promise((r) => setTimeout(r, opts.pace));
            if (pos >= end) return c.close();
            const n = Math.min(chunk, end - pos);
            c.enqueue(data.slice(pos, pos + n));
            pos += n;
            opts.onPull?.(pos);
          },
        },
        { highWaterMark: 0 },
      );
    },
  };
}

/** A source that claims a size and must never be read. */
function hugeSource(size: number): ByteSource & { reads: number } {
  const s = {
    size,
    reads: 0,
    stream: () => {
      s.reads++;
      throw new Error('must not be read');
    },
  };
  return s;
}

/** A sink that remembers whether it was aborted. */
class MemorySink implements ByteSink {
  aborted = false;
  closed = false;
  bytes = 0;
  async write(_p: number, d: Uint8Array) {
    this.bytes += d.length;
  }
  async close() {
    this.closed = true;
  }
  async abort() {
    this.aborted = true;
  }
}


async function uploaded(provider: VidioProvider, file = media.inputs.mp4): Promise<string> {
  return provider.upload(await NodeFileSource.open(file), { name: 'match.mp4' });
}

/** A job that `createReel` made, with the fake's view of it. */
async function created(provider: VidioProvider, options: ReelOptionsInput = OPTIONS): Promise<string> {
  return provider.createReel([await uploaded(provider)], options);
}

describe('VidioProvider: the contract it assumes', () => {
  it('keeps every inferred fact in VIDIO_CONTRACT, overridable', () => {
    expect(VIDIO_CONTRACT).toMatchObject({ baseUrl: 'https://api.vidio.ai/v1', keyHeader: 'X-API-Key', uploadPath: '/uploads', reelsPath: '/highlight-reels', jobPath: '/jobs/{id}', renderPath: '/jobs/{id}/render' });
    const p = new VidioProvider({ apiKey: 'k', contract: { pollIntervalMs: 1234 } });
    expect(p.baseUrl).toBe('https://api.vidio.ai/v1');
    expect(p.contract.pollIntervalMs).toBe(1234);
    expect(p.contract.renderPath).toBe(VIDIO_CONTRACT.renderPath);
    expect(new VidioProvider({ apiKey: 'k', baseUrl: fake.baseUrl }).baseUrl).toBe(fake.baseUrl);
    expect(() => new VidioProvider({ apiKey: 'k', baseUrl: 'http://example.com/v1' })).toThrow(/https/);
  });

  it('a user’s corrections to the inferred contract (options page, VIDIO_CONTRACT) change the header and paths it uses', async () => {
    const seen: Array<{ url: string; header: string | null; defaultHeader: string | null }> = [];
    const http = new HttpClient({
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        const headers = new Headers(init?.headers);
        seen.push({ url: String(input), header: headers.get('x-vidio-key'), defaultHeader: headers.get('x-api-key') });
        return new Response(JSON.stringify({ job_id: 'j1', status: 'queued', outputs: [] }), { headers: { 'content-type': 'application/json' } });
      }) as typeof fetch,
    });
    const contract = VidioContractOverrideSchema.parse({ keyHeader: 'X-Vidio-Key', jobPath: '/v2/reel-jobs/{id}' });
    const p = new VidioProvider({ apiKey: 'vidio_k3y_0001', baseUrl: 'https://api.vidio.example/api', contract, http });
    expect((await p.getJob('j1')).status).toBe('queued');
    expect(seen).toEqual([{ url: 'https://api.vidio.example/api/v2/reel-jobs/j1', header: 'vidio_k3y_0001', defaultHeader: null }]);
    // What the options page and the CLI refuse, with a reason.
    for (const bad of [{ keyHeader: 'X API Key' }, { jobPath: '/jobs' }, { renderPath: 'jobs/{id}/render' }, { uploadPath: '/up?x=1' }]) {
      expect(VidioContractOverrideSchema.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
  });

  it('a render answered 409 because the job already rendered meanwhile is done, not retried for minutes', async () => {
    const calls: string[] = [];
    const http = new HttpClient({
      fetch: (async (input: RequestInfo | URL, init?: RequestInit) => {
        calls.push(`${init?.method ?? 'GET'} ${new URL(String(input)).pathname}`);
        if (init?.method === 'POST') return new Response(JSON.stringify({ error: { code: 'conflict', message: 'already rendering' } }), { status: 409, headers: { 'content-type': 'application/json' } });
        return new Response(JSON.stringify({ job_id: 'j1', status: 'rendered', outputs: [], output_url: 'https://files.vidio.example/r.mp4' }), { headers: { 'content-type': 'application/json' } });
      }) as typeof fetch,
    });
    const p = new VidioProvider({ apiKey: 'vidio_k3y_0001', baseUrl: 'https://api.vidio.example/v1', http, sleep: async () => undefined });
    expect(await p.render('j1', 0)).toMatchObject({ status: 'rendered', output_url: 'https://files.vidio.example/r.mp4' });
    expect(calls).toEqual(['POST /v1/jobs/j1/render', 'GET /v1/jobs/j1']);
  });

  it('reel options: VIDIO’s defaults filled in, anything out of range refused', () => {
    expect(ReelOptionsSchema.parse(OPTIONS)).toEqual({ ...OPTIONS, musicVolume: 100, originalVolume: 100, outputIndex: 0, chooseOutput: false });
    for (const bad of [{ lengthSeconds: 0 }, { lengthSeconds: 3601 }, { lengthSeconds: 1.5 }, { aspect: 'wide' }, { music: 'jazz' }, { musicVolume: 101 }, { originalVolume: -1 }, { outputIndex: -1 }]) {
      expect(ReelOptionsSchema.safeParse({ ...OPTIONS, ...bad }).success, JSON.stringify(bad)).toBe(false);
    }
    expect(ReelOptionsSchema.parse({ ...OPTIONS, music: null }).music).toBeNull();
  });

  it('create_highlight_reel’s body: documented names, inputs in order, VIDIO’s defaults left out', () => {
    const o = { category: 'wedding', lengthSeconds: 45, aspect: 'portrait', music: null, musicVolume: 100, originalVolume: 100, outputIndex: 0, chooseOutput: false } as const;
    expect(reelBody(['a', 'b'], o)).toEqual({ input_keys: ['a', 'b'], video_category: 'wedding', output_length: 45, aspect_ratio: 'portrait' });
    expect(reelBody(['b', 'a'], { ...o, music: 'romantic', musicVolume: 40, originalVolume: 80 })).toEqual({
      input_keys: ['b', 'a'],
      video_category: 'wedding',
      output_length: 45,
      aspect_ratio: 'portrait',
      music_category: 'romantic',
      music_volume: 40,
      original_audio_volume: 80,
    });
  });
});

describe('VidioProvider: the key', () => {
  it('checkKey: a key VIDIO takes', async () => {
    const info = await client().provider.checkKey();
    expect(info.summary).toMatch(/Key works/);
    expect(info.details).toMatchObject({ key: expect.stringMatching(/\.\.\./), contract: 'inferred, unverified' });
    expect(JSON.stringify(info)).not.toContain(VIDIO_TEST_KEY);
  });

  it('401: a wrong key, in words, masked', async () => {
    const key = 'vidio_live_0123456789abcdefWRONG';
    const e = await rejection(client(fake, { apiKey: key }).provider.checkKey());
    expect([e.code, e.status, e.provider]).toEqual(['unauthorized', 401, 'vidio']);
    expect(e.message).toMatch(/did not accept the API key \(vidio_live_\.\.\.RONG\).*Check it in the options/);
    expect(e.message).not.toContain(key);
  });

  it('403: a plan without API access', async () => {
    const e = await rejection(client(fake, { apiKey: VIDIO_CREATOR_KEY }).provider.checkKey());
    expect([e.code, e.status]).toEqual(['forbidden', 403]);
    expect(e.message).toContain('VIDIO API access needs the Studio plan or above');
  });

  it('no key: refused before anything is sent', async () => {
    const from = fake.requests.length;
    const e = await rejection(client(fake, { apiKey: null }).provider.checkKey());
    expect(e.code).toBe('unauthorized');
    expect(fake.requests.length).toBe(from);
  });
});

describe('VidioProvider: upload', () => {
  it('streams the file as multipart `file` with its Content-Length; VIDIO gets exactly its bytes', async () => {
    const bytes = readFileSync(media.inputs.mp4);
    const progress: Array<[number, number | null]> = [];
    const from = fake.requests.length;
    const key = await client().provider.upload(await NodeFileSource.open(media.inputs.mp4), { name: 'match "final".mp4', onProgress: (d, t) => progress.push([d, t]) });
    expect(fake.uploads.get(key)).toMatchObject({ md5: md5(bytes), bytes: bytes.length, contentType: 'video/mp4', filename: 'match %22final%22.mp4', container: 'mp4' });
    const [req] = fake.log({ from, path: /^\/v1\/uploads$/ });
    expect(req!.headers['content-type']).toMatch(/^multipart\/form-data; boundary=/);
    expect(Number(req!.headers['content-length'])).toBe(req!.bodyBytes);
    expect(req!.headers['transfer-encoding']).toBeUndefined();
    expect(req!.apiKey).toBe(VIDIO_TEST_KEY);
    // Progress: what fetch took, in order, to the whole file.
    expect(progress[0]).toEqual([0, bytes.length]);
    expect(progress.at(-1)).toEqual([bytes.length, bytes.length]);
    expect(progress.map(([d]) => d)).toEqual([...progress.map(([d]) => d)].sort((a, b) => a - b));
  });

  it('a file the browser holds: streamed where fetch can; a server that will not take a stream (HTTP/1.1 in Chrome) gets a Blob body, then always', async () => {
    const bytes = readFileSync(media.inputs.mp4);
    const f = await another();
    const bodies: string[] = [];
    // Chrome's answer to a stream body on an HTTP/1.1 connection: a TypeError, nothing sent.
    const h1Fetch: typeof fetch = async (input, init) => {
      const kind = init?.body instanceof ReadableStream ? 'stream' : init?.body instanceof Blob ? 'blob' : typeof init?.body;
      bodies.push(kind);
      if (kind === 'stream') throw new TypeError('Failed to fetch (net::ERR_H2_OR_QUIC_REQUIRED)');
      return fetch(input, init);
    };
    const source = { size: bytes.length, blob: new Blob([bytes]), stream: (start = 0, end = bytes.length) => new Blob([bytes]).slice(start, end).stream() };
    const progress: number[] = [];
    const { provider } = client(f, { fetch: h1Fetch });
    const key = await provider.upload(source, { name: 'saved.mp4', onProgress: (d) => progress.push(d) });
    expect(f.uploads.get(key)).toMatchObject({ md5: md5(bytes), bytes: bytes.length });
    expect(progress.at(-1)).toBe(bytes.length);
    const again = await provider.upload(source, { name: 'saved.mp4' });
    expect(f.uploads.get(again)!.md5).toBe(md5(bytes));
    expect(bodies).toEqual(['stream', 'blob', 'blob']);
  });

  it('a source of unknown size goes chunked, bytes still exact', async () => {
    const bytes = readFileSync(media.inputs.ts);
    const key = await client().provider.upload(memorySource(bytes, { size: null, chunk: 1000 }), { name: 'clip.ts' });
    expect(fake.uploads.get(key)).toMatchObject({ md5: md5(bytes), bytes: bytes.length, contentType: 'video/mp2t', container: 'mpegts' });
  });

  it('WebM is sent as video/webm', async () => {
    const key = await client().provider.upload(await NodeFileSource.open(media.inputs.webm), { name: 'clip.webm' });
    expect(fake.uploads.get(key)).toMatchObject({ contentType: 'video/webm', container: 'webm', md5: md5(readFileSync(media.inputs.webm)) });
  });

  it('over 2 GB: refused before a byte is sent', async () => {
    const from = fake.requests.length;
    const src = hugeSource(VIDIO_CONTRACT.maxUploadBytes + 1);
    const e = await rejection(client().provider.upload(src, { name: 'wedding.mp4' }));
    expect(e.code).toBe('bad_input');
    expect(e.message).toMatch(/“wedding\.mp4” is 2\.0 GB: VIDIO takes files up to 2 GB/);
    expect([src.reads, fake.requests.length]).toEqual([0, from]);
    // The whole reel is refused before the first (small) file goes out, too.
    const e2 = await rejection(client().provider.makeReel([{ source: await NodeFileSource.open(media.inputs.mp4), name: 'a.mp4' }, { source: src, name: 'b.mp4' }], OPTIONS, { sink: new MemorySink() }));
    expect(e2.code).toBe('bad_input');
    expect(fake.requests.length).toBe(from);
  });

  it('a source of unknown size that grows past the limit is stopped while it streams', async () => {
    const data = new Uint8Array(300_000);
    data.set(readFileSync(media.inputs.mp4).subarray(0, 1000));
    const e = await rejection(client(fake, { contract: { maxUploadBytes: 100_000 } }).provider.upload(memorySource(data, { size: null }), { name: 'long.mp4' }));
    expect(e.code).toBe('bad_input');
    expect(e.message).toMatch(/bigger than the 100 KB VIDIO takes/);
  });

  it('413 from VIDIO: too big, in words', async () => {
    const small = await another({ maxUploadBytes: 10_000 });
    const e = await rejection(client(small).provider.upload(await NodeFileSource.open(media.inputs.mp4), { name: 'match.mp4' }));
    expect([e.code, e.status]).toEqual(['bad_input', 413]);
    expect(e.message).toMatch(/“match\.mp4” is too big for VIDIO: "Files may be at most 10000 bytes"/);
    expect(small.uploads.size).toBe(0);
  });

  it('415 / 422: a file VIDIO cannot read, named, with VIDIO’s words', async () => {
    const e = await rejection(client().provider.upload(await NodeFileSource.open(media.inputs.notVideo), { name: 'notes.txt' }));
    expect([e.code, e.status]).toEqual(['unsupported', 415]);
    expect(e.message).toMatch(/VIDIO cannot read “notes\.txt” as a video: "The file is not a video VIDIO can read/);
    const empty = await rejection(client().provider.upload(memorySource(new Uint8Array(0), { size: null }), { name: 'empty.mp4' }));
    expect([empty.code, empty.status]).toEqual(['unsupported', 422]);
    expect(empty.message).toContain('"The file is empty"');
    // A known empty file never leaves.
    expect((await rejection(client().provider.upload(memorySource(new Uint8Array(0)), { name: 'empty.mp4' }))).code).toBe('bad_input');
  });

  it('5xx: the upload is sent again from its start (retry table); 429 waits what Retry-After says', async () => {
    const bytes = readFileSync(media.inputs.mp4);
    const from = fake.requests.length;
    fake.switches.fail = { count: 1, status: 503, path: /^\/uploads$/ };
    const { provider, sleeps } = client();
    const key = await provider.upload(await NodeFileSource.open(media.inputs.mp4), { name: 'match.mp4' });
    expect(fake.uploads.get(key)!.md5).toBe(md5(bytes));
    expect(fake.log({ from, path: /^\/v1\/uploads$/ }).map((r) => r.status)).toEqual([503, 200]);
    expect(sleeps).toEqual([1000]);

    fake.switches.rateLimit = { count: 1, retryAfter: 9, path: /^\/uploads$/ };
    const c2 = client();
    await c2.provider.upload(await NodeFileSource.open(media.inputs.mp4), { name: 'match.mp4' });
    expect(c2.sleeps).toHaveLength(1);
    expect(c2.sleeps[0]).toBeGreaterThanOrEqual(9000);
    expect(c2.sleeps[0]).toBeLessThan(9600);
  });

  it('cancel during the upload stops it at once', async () => {
    const data = new Uint8Array(8 * 1024 * 1024);
    data.set(readFileSync(media.inputs.mp4).subarray(0, 1000));
    const ctrl = new AbortController();
    const abortedBefore = fake.abortedUploads();
    const uploadsBefore = fake.uploads.size;
    let pulled = 0;
    const src = memorySource(data, { pace: 2, onPull: (n) => (pulled = n) });
    const started = Date.now();
    const p = client().provider.upload(src, { name: 'big.mp4', signal: ctrl.signal, onProgress: (d) => d >= 256 * 1024 && ctrl.abort() });
    const e = await rejection(p);
    expect(e.code).toBe('cancelled');
    expect(Date.now() - started).toBeLessThan(2000);
    const stoppedAt = pulled;
    expect(stoppedAt).toBeLessThan(data.length / 2);
    await new Promise((r) => setTimeout(r, 100));
    expect(pulled).toBe(stoppedAt); // nothing more is read after the cancel
    await expect.poll(() => fake.abortedUploads()).toBe(abortedBefore + 1);
    expect(fake.uploads.size).toBe(uploadsBefore);
  });
});

describe('VidioProvider: create', () => {
  it('sends the documented parameter names, and nothing when the options are wrong', async () => {
    const { provider } = client();
    const a = await uploaded(provider);
    const b = await uploaded(provider, media.inputs.webm);
    const from = fake.requests.length;
    const jobId = await provider.createReel([b, a], { ...OPTIONS, music: 'sports', musicVolume: 70, originalVolume: 90 });
    const [req] = fake.log({ from, path: /^\/v1\/highlight-reels$/ });
    expect(JSON.parse(req!.body!)).toEqual({ input_keys: [b, a], video_category: 'ball-sports', output_length: 30, aspect_ratio: 'landscape', music_category: 'sports', music_volume: 70, original_audio_volume: 90 });
    expect(fake.jobs.get(jobId)!.request.input_keys).toEqual([b, a]);

    const before = fake.requests.length;
    const bad = await rejection(provider.createReel([a], { ...OPTIONS, lengthSeconds: 0 }));
    expect(bad.code).toBe('bad_input');
    expect(bad.message).toMatch(/lengthSeconds/);
    expect((await rejection(provider.createReel([], OPTIONS))).code).toBe('bad_input');
    expect(fake.requests.length).toBe(before);
  });

  it('400 names the rejected field, in words', async () => {
    const e = await rejection(client().provider.createReel(['in_0000000000000000'], OPTIONS));
    expect([e.code, e.status]).toEqual(['bad_input', 400]);
    expect(e.message).toBe('VIDIO rejected the uploaded videos (input_keys): "Unknown input_key: in_0000000000000000".');
  });

  it('an unknown path (a wrong contract) is a 404 in words', async () => {
    const e = await rejection(client(fake, { contract: { reelsPath: '/reels' } }).provider.createReel([await uploaded(client().provider)], OPTIONS));
    expect([e.code, e.status]).toEqual(['not_found', 404]);
    expect(e.message).toMatch(/check the VIDIO address/);
  });
});

describe('VidioProvider: waiting for the job', () => {
  it('polls at the interval until processed: neither hammering nor stopping early, every status in words', async () => {
    const { provider, sleeps } = client();
    const jobId = await created(provider);
    const t0 = fake.clock.now();
    const from = fake.requests.length;
    const seen: Array<[string, string]> = [];
    const job = await provider.waitProcessed(jobId, { onStatus: (s, w) => seen.push([s, w]) });
    const polls = fake.log({ from, path: new RegExp(`^/v1/jobs/${jobId}$`) });
    expect(job.status).toBe('processed');
    expect(job.outputs).toHaveLength(3);
    expect(fake.clock.now() - t0).toBeGreaterThanOrEqual(PROCESSED_AFTER);
    // One poll per interval from the start, none before the job could be done, none after.
    expect(polls).toHaveLength(Math.ceil(PROCESSED_AFTER / INTERVAL));
    expect(polls.map((r) => r.at - t0)).toEqual(polls.map((_, i) => (i + 1) * INTERVAL));
    expect(sleeps.every((ms) => ms === INTERVAL)).toBe(true);
    expect(seen).toEqual([
      ['queued', 'Queued at VIDIO'],
      ['processing', 'VIDIO is analysing the video'],
      ['processed', 'Reel ready to render'],
    ]);
  });

  it('a fake moving one status per poll (open question 20) is waited for too', async () => {
    const perPoll = await another({ advance: 'poll' });
    const { provider } = client(perPoll);
    const jobId = await created(provider);
    const from = perPoll.requests.length;
    expect((await provider.waitProcessed(jobId)).status).toBe('processed');
    expect(perPoll.log({ from, method: 'GET' })).toHaveLength(3);
  });

  it('5xx while polling is retried; 429 honours Retry-After', async () => {
    const { provider, sleeps } = client();
    const jobId = await created(provider);
    fake.switches.fail = { count: 2, status: 503, path: /^\/jobs\// };
    fake.switches.rateLimit = { count: 1, retryAfter: 7, path: /^\/jobs\// };
    const job = await provider.waitProcessed(jobId);
    expect(job.status).toBe('processed');
    expect(fake.switches.fail.count).toBe(0);
    expect(sleeps).toContain(1000);
    expect(sleeps).toContain(4000);
    expect(sleeps.some((ms) => ms >= 7000 && ms < 7500)).toBe(true);
  });

  it('VIDIO down for good: polling gives up, in words', async () => {
    const { provider } = client();
    const jobId = await created(provider);
    fake.switches.fail = { count: 1000, status: 500, path: /^\/jobs\// };
    try {
      const e = await rejection(provider.waitProcessed(jobId));
      expect([e.code, e.status]).toEqual(['http_error', 500]);
      expect(e.message).toBe('VIDIO is having problems (500) and could not check the reel job. Try again later.');
    } finally {
      fake.switches.fail = null;
    }
  });

  it('404: an unknown job', async () => {
    const e = await rejection(client().provider.getJob('job_nothere'));
    expect([e.code, e.status]).toEqual(['not_found', 404]);
    expect(e.message).toBe('VIDIO has no job job_nothere: it does not exist or belongs to another key.');
  });

  it('failed: VIDIO’s reason, when processing or when rendering', async () => {
    const { provider } = client();
    fake.switches.failJobs = { count: 1, at: 'processing', error: 'No highlights found in the input.' };
    const jobId = await created(provider);
    const e = await rejection(provider.waitProcessed(jobId));
    expect(e.code).toBe('download_failed');
    expect(e.message).toBe(`VIDIO could not make the reel: No highlights found in the input (job ${jobId}).`);
    // Rendering a failed job fails the same way instead of waiting.
    expect((await rejection(provider.render(jobId, 0))).message).toContain('No highlights found');

    fake.switches.failJobs = { count: 1, at: 'rendering', error: 'Render worker crashed' };
    const second = await created(provider);
    await provider.waitProcessed(second);
    await provider.render(second, 0);
    expect((await rejection(provider.waitRendered(second))).message).toContain('Render worker crashed');
  });

  it('stalled: the same status for too long', async () => {
    const slow = await another({ timings: { processingMs: 10 * 3600_000 } });
    const { provider } = client(slow, { contract: { stallMs: 120_000 } });
    const jobId = await created(provider);
    const from = slow.requests.length;
    const e = await rejection(provider.waitProcessed(jobId));
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/VIDIO has shown “VIDIO is analysing the video” for 2 min without moving on/);
    expect(slow.log({ from, method: 'GET' }).length).toBeLessThan(40);
  });

  it('past the overall limit', async () => {
    const { provider } = client(fake, { contract: { processTimeoutMs: 10_000 } });
    const e = await rejection(provider.waitProcessed(await created(provider)));
    expect(e.code).toBe('timeout');
    expect(e.message).toMatch(/VIDIO did not finish the reel within 10 s \(still “Queued at VIDIO”\)/);
  });

  it('cancel while polling stops at once: no poll after it', async () => {
    const { provider } = client();
    const jobId = await created(provider);
    const ctrl = new AbortController();
    const from = fake.requests.length;
    const e = await rejection(provider.waitProcessed(jobId, { signal: ctrl.signal, onStatus: (s) => s === 'processing' && ctrl.abort() }));
    expect(e.code).toBe('cancelled');
    const polls = fake.log({ from }).length;
    fake.clock.advance(60_000);
    await new Promise((r) => setTimeout(r, 50));
    expect(fake.log({ from }).length).toBe(polls);
  });
});

describe('VidioProvider: render', () => {
  it('before processed: 409 is waited out, not a failure', async () => {
    const { provider, sleeps } = client();
    const jobId = await created(provider);
    const t0 = fake.clock.now();
    const from = fake.requests.length;
    const seen: string[] = [];
    const r = await provider.render(jobId, 1, { onStatus: (s) => seen.push(s) });
    expect(r).toEqual({ job_id: jobId, status: 'rendering', output_url: null });
    const renders = fake.log({ from, path: /\/render$/ });
    expect(renders.slice(0, -1).every((x) => x.status === 409)).toBe(true);
    expect(renders.at(-1)!.status).toBe(200);
    expect(fake.clock.now() - t0).toBeGreaterThanOrEqual(PROCESSED_AFTER);
    expect(sleeps.every((ms) => ms === INTERVAL)).toBe(true);
    expect(seen).toEqual(['submitted', 'queued', 'processing']);
    const url = await provider.waitRendered(jobId);
    expect(url).toMatch(new RegExp(`^${fake.filesOrigin}/renders/${jobId}/1\\.mp4\\?`));
  });

  it('a 409 that never ends is given up after a bounded wait', async () => {
    const slow = await another({ timings: { queuedMs: 10 * 3600_000 } });
    const { provider } = client(slow, { contract: { renderConflictMaxMs: 60_000 } });
    const jobId = await created(provider);
    const e = await rejection(provider.render(jobId, 0));
    expect([e.code, e.status]).toEqual(['timeout', 409]);
    expect(e.message).toMatch(/would not start rendering the reel for 1 min: the job is still queued at vidio \(VIDIO said: "The job is queued/);
  });

  it('an output index VIDIO does not have: 400 on output_index', async () => {
    const { provider } = client();
    const jobId = await created(provider);
    await provider.waitProcessed(jobId);
    const e = await rejection(provider.render(jobId, 3));
    expect([e.code, e.status]).toEqual(['bad_input', 400]);
    expect(e.message).toMatch(/^VIDIO rejected the reel to render \(output_index\): "output_index 3 is out of range/);
  });
});

describe('VidioProvider: makeReel', () => {
  for (const aspect of ASPECT_RATIOS) {
    it(`a ${aspect} reel: uploaded, made, rendered and saved as a ${VIDIO_FRAME_SIZES[aspect].width}x${VIDIO_FRAME_SIZES[aspect].height} MP4; the key never leaves the API`, async () => {
      const { provider } = client();
      const path = join(out, `reel-${++fileNo}.mp4`);
      const progress: JobProgress[] = [];
      const from = fake.requests.length;
      const inputs = [
        { source: await NodeFileSource.open(media.inputs.mp4), name: 'first half.mp4' },
        { source: await NodeFileSource.open(media.inputs.webm), name: 'second half.webm' },
      ];
      const result = await provider.makeReel(inputs, { ...OPTIONS, aspect, music: 'sports', outputIndex: 1 }, { sink: new NodeFileSink(path), onProgress: (p) => progress.push(p) });

      // The saved file is the reel for this aspect ratio, whole.
      expect(result.bytes).toBe(statSync(path).size);
      expect(md5(readFileSync(path))).toBe(md5(readFileSync(media.reels[aspect])));
      const probe = await ffprobeJson(path);
      const video = probe.streams.find((s: { codec_type: string }) => s.codec_type === 'video');
      expect([video.codec_name, video.width, video.height]).toEqual(['h264', VIDIO_FRAME_SIZES[aspect].width, VIDIO_FRAME_SIZES[aspect].height]);
      expect(probe.format.format_name).toMatch(/mp4/);

      // Inputs in order: uploads, input_keys, and the reel's video overlays.
      const job = fake.jobs.get(result.jobId)!;
      const keys = job.request.input_keys;
      expect(keys.map((k) => fake.uploads.get(k)!.filename)).toEqual(['first half.mp4', 'second half.webm']);
      expect(keys.map((k) => fake.uploads.get(k)!.md5)).toEqual([md5(readFileSync(media.inputs.mp4)), md5(readFileSync(media.inputs.webm))]);
      expect(result.outputs).toHaveLength(3);
      const overlays = result.outputs[1]!.overlays!;
      expect(overlays.filter((o) => o.type === 'video').map((o) => o.fileID)).toEqual(keys.map((k) => fake.uploads.get(k)!.fileId));
      expect(overlays.find((o) => o.type === 'sound')?.content).toBe('running-night-393139');
      expect(job.renderIndex).toBe(1);

      // The key went with every API request, and to nothing else.
      const api = fake.log({ from });
      expect(api.length).toBeGreaterThan(5);
      expect(api.every((r) => r.apiKey === VIDIO_TEST_KEY)).toBe(true);
      expect(fake.log({ from, server: 'files' }).length).toBeGreaterThan(0);
      expect(fake.keyLeaks()).toEqual([]);

      // One progress line: uploading with bytes, VIDIO's statuses in words, downloading with bytes.
      for (const p of progress) JobProgressSchema.parse(p);
      const reel = progress as ReelProgress[];
      const phases = reel.map((p) => p.phase).filter((ph, i, a) => ph !== a[i - 1]);
      expect(phases).toEqual(['uploading', 'working', 'downloading']);
      const total = inputs.reduce((s, i) => s + i.source.size, 0);
      const up = reel.filter((p) => p.phase === 'uploading');
      expect(up[0]!.words).toBe('Uploading first half.mp4 (1 of 2)');
      expect(up.at(-1)!.tracks.upload).toMatchObject({ bytesDone: total, bytesTotal: total });
      const statuses = reel.filter((p) => p.phase === 'working').map((p) => p.status);
      expect(statuses).toEqual([...REEL_STATUSES]);
      expect(reel.filter((p) => p.phase === 'working').map((p) => p.words)).toEqual(statuses.map((s) => REEL_STATUS_WORDS[s!]));
      const down = reel.filter((p) => p.phase === 'downloading');
      expect(down.at(-1)!.overall).toMatchObject({ bytesDone: result.bytes, bytesTotal: result.bytes });
      expect(down.every((p) => p.stage === 'downloading')).toBe(true);
    });
  }

  it('tolerates fields VIDIO adds (and hands back only the documented ones)', async () => {
    fake.switches.unknownFields = true;
    try {
      const sink = new MemorySink();
      const result = await client().provider.makeReel([{ source: await NodeFileSource.open(media.inputs.mp4), name: 'a.mp4' }], OPTIONS, { sink });
      expect(sink.closed).toBe(true);
      expect(Object.keys(result.outputs[0]!)).toEqual(['start', 'end', 'thumbnail', 'duration', 'fps', 'overlays']);
      expect(result.outputs[0]!.overlays![0]).not.toHaveProperty('_fake');
    } finally {
      fake.switches.unknownFields = false;
    }
  });

  it('an output index beyond what VIDIO proposed is refused before rendering; the sink is dropped', async () => {
    const sink = new MemorySink();
    const from = fake.requests.length;
    const e = await rejection(client().provider.makeReel([{ source: await NodeFileSource.open(media.inputs.mp4), name: 'a.mp4' }], { ...OPTIONS, outputIndex: 5 }, { sink }));
    expect(e.code).toBe('bad_input');
    expect(e.message).toBe('VIDIO proposed 3 reels (numbered 0 to 2); there is no reel 5 to render.');
    expect(fake.log({ from, path: /\/render$/ })).toEqual([]);
    expect([sink.aborted, sink.bytes]).toEqual([true, 0]);
  });

  it('cancel at any stage: uploading, waiting, rendering, downloading', async () => {
    for (const at of ['uploading', 'working', 'rendering', 'downloading'] as const) {
      const ctrl = new AbortController();
      const sink = new MemorySink();
      const from = fake.requests.length;
      const e = await rejection(
        client().provider.makeReel([{ source: await NodeFileSource.open(media.inputs.mp4), name: 'a.mp4' }], OPTIONS, {
          sink,
          signal: ctrl.signal,
          onProgress: (p) => {
            const r = p as ReelProgress;
            if (r.phase === at || (at === 'rendering' && r.status === 'rendering') || (at === 'working' && r.status === 'queued')) ctrl.abort();
          },
        }),
      );
      expect(e.code, at).toBe('cancelled');
      expect(sink.aborted, at).toBe(true);
      const seen = fake.requests.length;
      fake.clock.advance(60_000);
      await new Promise((r) => setTimeout(r, 50));
      expect(fake.requests.length, `${at}: nothing after the cancel`).toBe(seen);
      if (at === 'uploading') expect(fake.log({ from, path: /highlight-reels/ })).toEqual([]);
    }
  });

  it('choose after seeing: VIDIO’s proposals with their thumbnails (fetched with the key) and lengths, then the picked one is rendered', async () => {
    const sink = new MemorySink();
    const progress: JobProgress[] = [];
    const from = fake.requests.length;
    let asked = 0;
    const result = await client().provider.makeReel([{ source: await NodeFileSource.open(media.inputs.mp4), name: 'a.mp4' }], { ...OPTIONS, chooseOutput: true, outputIndex: 0 }, {
      sink,
      onProgress: (p) => progress.push(p),
      chooseOutput: async () => {
        asked++;
        // Asked only once VIDIO has proposed, and nothing was rendered yet.
        expect(fake.log({ from, path: /\/render$/ })).toEqual([]);
        return 2;
      },
    });
    expect(asked).toBe(1);
    expect(fake.jobs.get(result.jobId)!.renderIndex).toBe(2);
    const shown = progress.find((p) => p.choices)!;
    JobProgressSchema.parse(shown);
    expect(shown.words).toBe('Choose one of the 3 reels VIDIO proposes');
    expect(shown.choices!.map((c) => [c.index, c.durationSeconds])).toEqual(result.outputs.map((o, i) => [i, o.duration]));
    for (const c of shown.choices!) expect(c.thumbnail).toBe(`data:image/jpeg;base64,${THUMBNAIL_JPEG.toString('base64')}`);
    const thumbs = fake.log({ from, path: /\/out\// });
    expect(thumbs).toHaveLength(3);
    expect(thumbs.every((r) => r.apiKey === VIDIO_TEST_KEY && r.status === 200)).toBe(true);
    // The progress after the pick no longer offers choices.
    expect(progress.at(-1)!.choices).toBeUndefined();
  });

  it('choosing: a thumbnail that cannot be had is shown as none; a pick beyond the proposals is refused; no pick in 30 minutes ends the wait', async () => {
    const f = await another();
    f.switches.fail = { status: 500, count: 100, path: /^\/out\// };
    const progress: JobProgress[] = [];
    const inputs = async () => [{ source: await NodeFileSource.open(media.inputs.mp4), name: 'a.mp4' }];
    const e = await rejection(client(f).provider.makeReel(await inputs(), { ...OPTIONS, chooseOutput: true }, { sink: new MemorySink(), onProgress: (p) => progress.push(p), chooseOutput: async () => 7 }));
    expect(progress.find((p) => p.choices)!.choices!.map((c) => c.thumbnail)).toEqual([null, null, null]);
    expect(e.message).toBe('VIDIO proposed 3 reels (numbered 0 to 2); there is no reel 7 to render.');
    f.switches.fail = null;

    const sink = new MemorySink();
    const from = f.requests.length;
    const never = await rejection(client(f).provider.makeReel(await inputs(), { ...OPTIONS, chooseOutput: true }, { sink, chooseOutput: () => new Promise<number>(() => {}) }));
    expect(never.code).toBe('timeout');
    expect(never.message).toMatch(/^No reel was chosen within 30 minutes; VIDIO keeps the job \(job_\w+\) for a while\.$/);
    expect(f.log({ from, path: /\/render$/ })).toEqual([]);
    expect(sink.aborted).toBe(true);
  });

  it('choosing is cancelled at once by the job’s signal; without a chooser (the CLI) outputIndex is rendered', async () => {
    const ctrl = new AbortController();
    const e = await rejection(
      client().provider.makeReel([{ source: await NodeFileSource.open(media.inputs.mp4), name: 'a.mp4' }], { ...OPTIONS, chooseOutput: true }, {
        sink: new MemorySink(),
        signal: ctrl.signal,
        chooseOutput: () =>
          new Promise<number>((_, reject) => {
            ctrl.abort();
            ctrl.signal.addEventListener('abort', () => reject(ctrl.signal.reason));
            reject(ctrl.signal.reason);
          }),
      }),
    );
    expect(e.code).toBe('cancelled');
    const result = await client().provider.makeReel([{ source: await NodeFileSource.open(media.inputs.mp4), name: 'a.mp4' }], { ...OPTIONS, chooseOutput: true, outputIndex: 1 }, { sink: new MemorySink() });
    expect(fake.jobs.get(result.jobId)!.renderIndex).toBe(1);
  });

  it('the reel is fetched without the key even when VIDIO links to its own API host', async () => {
    // Structural: downloads go through the engine's plain client, which has no key hook at all.
    const own = await another({ outputUrlOn: 'api' });
    const { provider } = client(own);
    const sink = new MemorySink();
    const result = await provider.makeReel([{ source: await NodeFileSource.open(media.inputs.mp4), name: 'a.mp4' }], OPTIONS, { sink });
    expect(sink.bytes).toBe(result.bytes);
    const downloads = own.log({ path: /^\/v1\/files\// });
    expect(downloads.length).toBeGreaterThan(0);
    expect(downloads.every((r) => r.apiKey === null && r.status >= 200 && r.status < 300)).toBe(true);
    expect(own.log({ path: /^\/v1\/(uploads|highlight-reels|jobs)/ }).every((r) => r.apiKey === VIDIO_TEST_KEY)).toBe(true);
  });
});
