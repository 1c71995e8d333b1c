/**
 * Contract tests of the RenderIO client against its fake (test/fakes/renderio-server.ts), and of
 * the fake against ../shared/providers.md section 1. One fake clock drives the fake, the client's
 * polling and the HTTP client's retries, so nothing here really waits.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { RENDERIO_OTHER_KEY, RENDERIO_TEST_KEY, startRenderIoFake, type RenderIoFake } from '../../test/fakes/renderio-server';
import { ffprobeJson } from '../../test/fixtures/ffmpeg';
import { VidmuxError } from '../errors';
import { NodeFileSink } from '../node/files';
import { HttpClient } from '../net/http';
import { cancelledError } from '../net/retry-policy';
import { JobProgressSchema, type JobProgress } from '../schemas/progress';
import { MP3_COMMAND, RenderIoProvider, titleFromUrl, type RenderIoConfig } from './renderio';
import { downloadContext } from '../jobs/download-context';
import { pickFormat } from '../jobs/choose-format';
import { MediaInfoSchema } from '../schemas/media';
import type { DownloadContext, MediaInfo } from './types';

const START = Date.parse('2026-05-22T12:00:00Z');
const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const out = mkdtempSync(join(tmpdir(), 'vidmux-renderio-'));
const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

let fake: RenderIoFake;
/** Every wait (poll interval, Retry-After) as asked for; each one moves the fake clock instead. */
let sleeps: number[] = [];
const sleep = async (ms: number, signal?: AbortSignal) => {
  if (signal?.aborted) throw cancelledError(signal);
  sleeps.push(ms);
  fake.clock.advance(ms);
};

function provider(over: Partial<RenderIoConfig> = {}): RenderIoProvider {
  return new RenderIoProvider({
    apiKey: RENDERIO_TEST_KEY,
    baseUrl: fake.baseUrl,
    http: new HttpClient({ provider: 'renderio', sleep, random: () => 0 }),
    now: fake.clock.now,
    sleep,
    ...over,
  });
}

let n = 0;
/** Downloads `formatId` of `url` into a fresh file; returns the path, the result and the progress seen. */
async function download(p: RenderIoProvider, url: string, formatId: string, ctx: Partial<DownloadContext> = {}) {
  const info = await p.resolve(url);
  const format = info.formats.find((f) => f.id === formatId)!;
  const path = join(out, `out-${++n}.${format.container}`);
  const progress: JobProgress[] = [];
  const onProgress = ctx.onProgress;
  const result = await p.download(info, { format, subtitles: [] }, downloadContext({
    target: { media: async () => new NodeFileSink(path), subtitle: async () => new NodeFileSink(`${path}.srt`) },
    ...ctx,
    onProgress: (pr) => {
      progress.push(pr);
      onProgress?.(pr);
    },
  }));
  return { path, result, progress, info };
}

async function failure(promise: Promise<unknown>): Promise<VidmuxError> {
  try {
    await promise;
  } catch (err) {
    expect(err).toBeInstanceOf(VidmuxError);
    return err as VidmuxError;
  }
  throw new Error('expected a failure');
}

const api = (s: RenderIoFake = fake) => s.requests.filter((r) => r.server === 'api');
const storage = (s: RenderIoFake = fake) => s.requests.filter((r) => r.server === 'storage');
const polls = () => api().filter((r) => r.method === 'GET' && /^\/api\/v1\/commands\/[^/]+$/.test(r.path));

/** Calls the fake directly, as a test of the fake itself. */
async function call(method: string, path: string, opts: { key?: string | null; body?: string; type?: string | null } = {}) {
  const key = opts.key === undefined ? RENDERIO_TEST_KEY : opts.key;
  const type = opts.type === undefined ? 'application/json' : opts.type;
  const res = await fetch(`${fake.baseUrl}${path}`, {
    method,
    headers: { ...(key ? { 'x-api-key': key } : {}), ...(opts.body !== undefined && type ? { 'content-type': type } : {}) },
    ...(opts.body === undefined ? {} : { body: opts.body }),
  });
  const text = await res.text();
  let json: any = null;
  try {
    json = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, json, text };
}

beforeAll(async () => {
  fake = await startRenderIoFake({ now: () => START });
});
afterAll(() => fake?.close());
beforeEach(() => {
  // A fresh rate-limit minute and a clean slate for each test.
  fake.clock.advance(61_000);
  fake.clearLog();
  sleeps = [];
  Object.assign(fake.switches, { planRefused: false, rateLimitPerMinute: 60, resignOnPoll: false, storageTtlSeconds: 24 * 3600 });
});

describe('RenderIoProvider: supports and resolve', () => {
  it('supports the public video sites RenderIO handles, nothing else', () => {
    const p = provider();
    for (const url of [
      VIDEO,
      'https://youtu.be/dQw4w9WgXcQ',
      'https://www.tiktok.com/@user/video/1234567890',
      'https://vimeo.com/76979871',
      'https://x.com/user/status/1234567890',
      'https://twitter.com/user/status/1234567890',
      'https://www.instagram.com/reel/Cabc123/',
      'https://www.reddit.com/r/videos/comments/abc/title/',
      'https://www.twitch.tv/videos/123456',
      'https://www.facebook.com/watch/?v=123',
      'https://fb.watch/abc/',
      'https://www.dailymotion.com/video/x8abc',
    ]) {
      expect(p.supports(url), url).toBe(true);
    }
    for (const url of ['https://example.com/video.mp4', 'https://www.youtube.com/', 'ftp://youtube.com/watch?v=x', 'not a url', 'https://notyoutube.com/watch?v=dQw4w9WgXcQ']) {
      expect(p.supports(url), url).toBe(false);
    }
  });

  it('offers every format_selector plus MP3 without asking RenderIO anything', async () => {
    const info = await provider().resolve(VIDEO);
    expect(() => MediaInfoSchema.parse(info)).not.toThrow();
    expect(info).toMatchObject({ provider: 'renderio', url: VIDEO, title: 'YouTube video dQw4w9WgXcQ', durationSeconds: null, subtitles: [] });
    expect(info.formats.map((f) => f.id)).toEqual([
      'renderio:best', 'renderio:2160p', 'renderio:1440p', 'renderio:1080p', 'renderio:720p', 'renderio:480p', 'renderio:360p', 'renderio:audio_only', 'renderio:mp3',
    ]);
    expect(info.formats.every((f) => f.provider === 'renderio' && f.delivery === 'file')).toBe(true);
    expect(info.formats.find((f) => f.id === 'renderio:1080p')).toMatchObject({ kind: 'video+audio', container: 'mp4', height: 1080, label: '1080p · MP4' });
    expect(info.formats.find((f) => f.id === 'renderio:audio_only')).toMatchObject({ kind: 'audio', container: 'm4a' });
    expect(info.formats.find((f) => f.id === 'renderio:mp3')).toMatchObject({ kind: 'audio', container: 'mp3', audioCodec: 'mp3', label: 'Audio · MP3' });
    // Picked by height, not by order.
    expect(pickFormat(info.formats, '1080').id).toBe('renderio:1080p');
    expect(pickFormat(info.formats, '360').id).toBe('renderio:360p');
    expect(pickFormat(info.formats, 'audio').id).toBe('renderio:audio_only');
    expect(fake.requests).toEqual([]);
    expect(titleFromUrl('https://www.tiktok.com/@user/video/1234567890')).toBe('TikTok video 1234567890');
  });

  it('refuses early without a key, with an unsafe base URL, or for a site it does not handle', async () => {
    expect((await failure(provider({ apiKey: null }).resolve(VIDEO))).code).toBe('unauthorized');
    expect((await failure(provider({ baseUrl: 'http://renderio.example/api/v1' }).resolve(VIDEO))).code).toBe('bad_input');
    expect((await failure(provider().resolve('https://example.com/a.mp4'))).code).toBe('unsupported');
    expect(fake.requests).toEqual([]);
  });
});

describe('RenderIoProvider: download', () => {
  it('submits, polls 2 s apart through QUEUED/PROCESSING, fetches storage_url without the key, output byte for byte', async () => {
    const { path, result, progress } = await download(provider(), VIDEO, 'renderio:720p');

    const [submit] = api();
    expect(submit).toMatchObject({ method: 'POST', path: '/api/v1/ytdlp-download', status: 200, apiKey: RENDERIO_TEST_KEY });
    expect(submit!.contentType).toMatch(/^application\/json/);
    expect(submit!.body).toEqual({ input_urls: { in_video: VIDEO }, format_selector: '720p', metadata: { source: 'vidmux' } });

    // QUEUED for 1 s, PROCESSING for 3 s: polls at +2, +4 s on the fake clock, never closer than 1 s.
    const times = polls().map((r) => r.at - submit!.at);
    expect(times).toEqual([2000, 4000]);
    expect(polls().every((r) => r.apiKey === RENDERIO_TEST_KEY)).toBe(true);

    const id = polls()[0]!.path.split('/').pop()!;
    const file = fake.outputFile(id, 'out_video')!;
    expect(file.height).toBe(720);
    expect(result).toEqual({ bytes: file.bytes, subtitles: [] });
    expect(sha256(path)).toBe(sha256(file.path));
    const probe = await ffprobeJson(path);
    expect(probe.streams.map((s: any) => [s.codec_type, s.codec_name])).toEqual([['video', 'h264'], ['audio', 'aac']]);
    expect(probe.streams[0]).toMatchObject({ width: 1280, height: 720 });
    expect(Number(probe.format.duration)).toBeCloseTo(3, 0);

    // The key never leaves the API origin: the storage host saw none.
    expect(storage().length).toBeGreaterThan(0);
    expect(storage().every((r) => r.apiKey === null)).toBe(true);
    expect(new URL(fake.storageOrigin).origin).not.toBe(new URL(fake.baseUrl).origin);

    // One progress shape: resolving while RenderIO works, then downloading up to the whole file.
    for (const pr of progress) JobProgressSchema.parse(pr);
    const stages = progress.map((p) => p.stage);
    expect(stages[0]).toBe('resolving');
    expect(stages.indexOf('downloading')).toBeGreaterThan(stages.lastIndexOf('resolving'));
    expect(progress.at(-1)!.overall).toMatchObject({ bytesDone: file.bytes, bytesTotal: file.bytes });
    expect(progress.at(-1)!.tracks.file).toBeDefined();
  });

  it('gets the closest available height, the M4A for audio_only and the tallest for best', async () => {
    const url = 'https://vimeo.com/76979871';
    fake.setOutcome(url, { heights: [360] });
    const only360 = await download(provider(), url, 'renderio:1080p');
    expect((await ffprobeJson(only360.path)).streams[0]).toMatchObject({ codec_type: 'video', height: 360 });

    const both = 'https://vimeo.com/11111111';
    const h480 = await download(provider(), both, 'renderio:480p'); // |480-360| < |480-720|
    expect((await ffprobeJson(h480.path)).streams[0].height).toBe(360);
    const h2160 = await download(provider(), both, 'renderio:2160p');
    expect((await ffprobeJson(h2160.path)).streams[0].height).toBe(720);
    const best = await download(provider(), both, 'renderio:best');
    expect(sha256(best.path)).toBe(sha256(fake.media.videos[0]!.path));
    expect(h480.result.bytes).not.toBe(h2160.result.bytes);

    const audio = await download(provider(), both, 'renderio:audio_only');
    expect(sha256(audio.path)).toBe(sha256(fake.media.m4a.path));
    expect((await ffprobeJson(audio.path)).streams.map((s: any) => s.codec_type)).toEqual(['audio']);
    const bodies = api().filter((r) => r.method === 'POST').map((r) => (r.body as any).format_selector);
    expect(bodies).toEqual(['1080p', '480p', '2160p', 'best', 'audio_only']);
  });

  it('makes MP3 with POST /run-ytdlp-command and the libmp3lame recipe', async () => {
    const { path, result } = await download(provider(), 'https://www.tiktok.com/@user/video/1234567890', 'renderio:mp3');
    const submit = api()[0]!;
    expect(submit.path).toBe('/api/v1/run-ytdlp-command');
    expect(submit.body).toEqual({
      input_urls: { in_video: 'https://www.tiktok.com/@user/video/1234567890' },
      ffmpeg_command: '-i {{in_video}} -vn -c:a libmp3lame -q:a 2 {{out_audio}}',
      output_files: { out_audio: 'audio.mp3' },
      metadata: { source: 'vidmux' },
    });
    expect(MP3_COMMAND).toBe('-i {{in_video}} -vn -c:a libmp3lame -q:a 2 {{out_audio}}');
    expect(result.bytes).toBe(fake.media.mp3.bytes);
    expect(sha256(path)).toBe(sha256(fake.media.mp3.path));
    const probe = await ffprobeJson(path);
    expect(probe.streams.map((s: any) => [s.codec_type, s.codec_name])).toEqual([['audio', 'mp3']]);
    expect(Number(probe.format.duration)).toBeGreaterThan(2.5);
    expect(storage().every((r) => r.apiKey === null)).toBe(true);
  });

  it('FAILED: reads error_message first (with error_status)', async () => {
    const url = 'https://www.youtube.com/watch?v=private0001';
    fake.setOutcome(url, { result: 'failed', errorStatus: 'DOWNLOAD_FAILED', errorMessage: 'Video unavailable. This video is private.', error: 'something else' });
    const err = await failure(download(provider(), url, 'renderio:best'));
    expect(err.code).toBe('download_failed');
    expect(err.message).toBe('RenderIO could not make the file: Video unavailable. This video is private (DOWNLOAD_FAILED).');
    expect(storage()).toEqual([]);
  });

  it('FAILED: falls back to the seed’s `error`, then to "unknown error"', async () => {
    const url = 'https://www.youtube.com/watch?v=private0002';
    fake.setOutcome(url, { result: 'failed', errorStatus: null, errorMessage: null, error: 'Sign in to confirm your age' });
    expect((await failure(download(provider(), url, 'renderio:best'))).message).toBe('RenderIO could not make the file: Sign in to confirm your age.');
    fake.setOutcome(url, { result: 'failed', errorStatus: null, errorMessage: null, error: null });
    expect((await failure(download(provider(), url, 'renderio:best'))).message).toBe('RenderIO could not make the file: unknown error.');
  });

  it('never polls more than once a second, and gives up after the timeout (default 10 min)', async () => {
    const url = 'https://www.youtube.com/watch?v=neverending';
    fake.setOutcome(url, { never: true });
    const fast = provider({ pollIntervalMs: 10, timeoutMs: 30_000 });
    const err = await failure(download(fast, url, 'renderio:best'));
    expect(err.code).toBe('timeout');
    const gaps = polls().slice(1).map((r, i) => r.at - polls()[i]!.at);
    expect(gaps.length).toBeGreaterThan(5);
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(1000);

    fake.clearLog();
    sleeps = [];
    const t0 = fake.clock.now();
    const slow = await failure(download(provider(), url, 'renderio:best'));
    expect(slow.code).toBe('timeout');
    expect(slow.message).toMatch(/within 10 min \(still processing\)/);
    expect(fake.clock.now() - t0).toBeGreaterThanOrEqual(10 * 60_000);
    expect(fake.clock.now() - t0).toBeLessThan(10 * 60_000 + 5000);
    expect(new Set(sleeps)).toEqual(new Set([2000]));
    expect(polls().length).toBe(300);
  });

  it('stops polling when the signal aborts', async () => {
    const url = 'https://www.youtube.com/watch?v=cancelme01';
    fake.setOutcome(url, { never: true });
    const ctrl = new AbortController();
    let resolving = 0;
    const err = await failure(
      download(provider(), url, 'renderio:best', {
        signal: ctrl.signal,
        onProgress: (p) => {
          if (p.stage === 'resolving' && ++resolving === 3) ctrl.abort();
        },
      }),
    );
    expect(err.code).toBe('cancelled');
    expect(polls().length).toBe(2);
  });

  it('cancelling while the file is fetched leaves no file behind', async () => {
    const ctrl = new AbortController();
    const path = join(out, 'cancelled.mp4');
    const p = provider();
    const info = await p.resolve(VIDEO);
    const err = await failure(
      p.download(info, { format: info.formats.find((f) => f.id === 'renderio:best')!, subtitles: [] }, downloadContext({
        target: { media: async () => new NodeFileSink(path), subtitle: async () => new NodeFileSink(`${path}.srt`) },
        signal: ctrl.signal,
        onProgress: (pr) => pr.stage === 'downloading' && ctrl.abort(),
      })),
    );
    expect(err.code).toBe('cancelled');
    expect(existsSync(path) || existsSync(`${path}.part`)).toBe(false);
  });

  it('an expired storage_url is refetched by re-polling; if RenderIO returns the same link, it says so', async () => {
    // Expire the link between the job finishing and the bytes being fetched.
    const expireOnce = () => {
      let done = false;
      return (p: JobProgress) => {
        if (p.stage === 'downloading' && !done) {
          done = true;
          fake.clock.advance(25 * 3600_000);
        }
      };
    };
    const err = await failure(download(provider(), VIDEO, 'renderio:360p', { onProgress: expireOnce() }));
    expect(err.code).toBe('expired');
    expect(err.message).toMatch(/link to the file RenderIO made has expired/);
    expect(storage().some((r) => r.status === 403)).toBe(true);

    fake.clearLog();
    fake.switches.resignOnPoll = true;
    const ok = await download(provider(), VIDEO, 'renderio:360p', { onProgress: expireOnce() });
    expect(sha256(ok.path)).toBe(sha256(fake.media.videos[1]!.path));
    const urls = new Set(storage().map((r) => r.query.expires));
    expect(urls.size).toBe(2);
    expect(storage().every((r) => r.apiKey === null)).toBe(true);
  });

  it('a storage host that refuses the file is named as such, not as a problem with the key or the plan', async () => {
    // The bucket answers 401/404 with S3's XML: nothing RenderIO said about the key.
    const storageRefuses = (status: number) =>
      provider({
        http: new HttpClient({
          provider: 'renderio',
          sleep,
          fetch: (input, init) => (String(input).startsWith(fake.storageOrigin) ? Promise.resolve(new Response('<?xml version="1.0"?><Error><Code>AccessDenied</Code></Error>', { status })) : fetch(input, init)),
        }),
      });
    for (const status of [401, 404]) {
      const err = await failure(download(storageRefuses(status), VIDEO, 'renderio:360p'));
      expect(err.message).toMatch(/^RenderIO failed while fetching the finished file: .+ \(\d{3}\)\.$/);
      expect(err.message).not.toMatch(/API key|Growth plan|AccessDenied/);
    }
  });

  it('never sends the key to storage_url even when it is on the API origin', async () => {
    const same = await startRenderIoFake({ now: () => START, storage: 'api' });
    try {
      const p = new RenderIoProvider({ apiKey: RENDERIO_TEST_KEY, baseUrl: same.baseUrl, http: new HttpClient({ sleep: async (ms) => same.clock.advance(ms) }), now: same.clock.now, sleep: async (ms) => same.clock.advance(ms) });
      const info = await p.resolve(VIDEO);
      const path = join(out, 'same-origin.mp4');
      await p.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: { media: async () => new NodeFileSink(path), subtitle: async () => new NodeFileSink(`${path}.srt`) } }));
      const files = same.requests.filter((r) => r.server === 'storage');
      expect(new URL(same.storageOrigin).origin).toBe(new URL(same.baseUrl).origin);
      expect(files.length).toBeGreaterThan(0);
      expect(files.every((r) => r.apiKey === null && r.path.startsWith('/storage/files/'))).toBe(true);
      expect(sha256(path)).toBe(sha256(same.media.videos[0]!.path));
    } finally {
      await same.close();
    }
  });
});

describe('RenderIoProvider: errors a person understands', () => {
  it('401: wrong or revoked key, masked in the message', async () => {
    const wrong = `ffsk_${'9'.repeat(60)}dead`;
    const err = await failure(download(provider({ apiKey: wrong }), VIDEO, 'renderio:best'));
    expect(err).toMatchObject({ code: 'unauthorized', status: 401, provider: 'renderio' });
    expect(err.message).toContain('ffsk_...dead');
    expect(JSON.stringify(err.toJSON())).not.toContain(wrong);
    expect(err.message).toMatch(/Check the key/);

    // A server that echoes the key back does not get it into the message either.
    fake.failNext({ status: 401, path: '/commands', body: { error: 'UNAUTHORIZED', message: `Key ${RENDERIO_TEST_KEY} was revoked` } });
    const echoed = await failure(provider().checkKey());
    expect(echoed.code).toBe('unauthorized');
    expect(echoed.message).not.toContain(RENDERIO_TEST_KEY);
    expect(echoed.message).toContain('ffsk_...0718');

    expect((await failure(provider({ apiKey: null }).checkKey())).code).toBe('unauthorized');
    expect(api().length).toBe(2); // no request without a key
  });

  it('403: plan refusal', async () => {
    fake.switches.planRefused = true;
    const err = await failure(download(provider(), VIDEO, 'renderio:best'));
    expect(err).toMatchObject({ code: 'forbidden', status: 403 });
    expect(err.message).toMatch(/Growth plan or higher/);
  });

  it('404: a job that vanishes while it is polled, or another account’s', async () => {
    fake.failNext({ status: 404, path: '/commands/' });
    const err = await failure(download(provider(), VIDEO, 'renderio:best'));
    expect(err).toMatchObject({ code: 'not_found', status: 404 });
    expect(err.message).toMatch(/^RenderIO has no job .+: it does not exist or belongs to another account\.$/);
    // The fake keeps accounts apart: one key's job is not found with another key.
    const other = await call('POST', '/ytdlp-download', { key: RENDERIO_OTHER_KEY, body: JSON.stringify({ input_urls: { in_video: VIDEO } }) });
    expect(other.status).toBe(200);
    expect((await call('GET', `/commands/${other.json.command_id}`)).status).toBe(404);
    expect((await call('GET', `/commands/${other.json.command_id}`, { key: RENDERIO_OTHER_KEY })).json).toMatchObject({ status: 'QUEUED' });
  });

  it('400 INVALID_REQUEST and 422 VALIDATION_ERROR bodies are read', async () => {
    fake.failNext({ status: 400, path: '/ytdlp-download', body: { error: 'INVALID_REQUEST', message: 'Invalid input key "in-video".' } });
    const bad = await failure(download(provider(), VIDEO, 'renderio:best'));
    expect(bad).toMatchObject({ code: 'bad_input', status: 400, message: 'RenderIO rejected the request as invalid: Invalid input key "in-video".' });
    fake.failNext({ status: 422, path: '/ytdlp-download', body: { detail: [{ loc: ['body', 'input_urls'], msg: 'field required', type: 'value_error' }, { loc: ['body', 'metadata'], msg: 'too many keys', type: 'value_error' }] } });
    const invalid = await failure(download(provider(), VIDEO, 'renderio:best'));
    expect(invalid).toMatchObject({ code: 'bad_input', status: 422, message: 'RenderIO could not read the request: body.input_urls: field required; body.metadata: too many keys.' });
  });

  it('429: waits Retry-After (on the fake clock) and goes on; persistent 429 becomes rate_limited', async () => {
    fake.switches.rateLimitPerMinute = 2;
    const p = provider();
    await p.checkKey();
    expect(p.rateLimitRemaining).toBe(1);
    await p.checkKey();
    expect(p.rateLimitRemaining).toBe(0);
    const t0 = fake.clock.now();
    const info = await p.checkKey();
    expect(api().map((r) => r.status)).toEqual([200, 200, 429, 200]);
    expect((await call('GET', '/commands?limit=1')).status).toBe(200);
    const refused = await call('GET', '/commands?limit=1');
    expect(refused.status).toBe(429);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
    expect(refused.headers.get('x-ratelimit-remaining')).toBe('0');
    expect(refused.json).toMatchObject({ error: 'RATE_LIMITED' });
    expect(sleeps).toEqual([60_000]);
    expect(fake.clock.now() - t0).toBe(60_000);
    expect(info.summary).toMatch(/^Key works/);

    fake.switches.rateLimitPerMinute = 0;
    fake.clearLog();
    const err = await failure(p.checkKey());
    expect(err).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(err.message).toMatch(/^RenderIO is limiting how often this key may call it/);
    expect(api().length).toBe(6); // 1 + 5 retries
  });

  it('5xx: 502 retried once, 500 backed off and then reported', async () => {
    fake.failNext({ status: 502, path: '/commands' });
    await provider().checkKey();
    expect(api().map((r) => r.status)).toEqual([502, 200]);
    expect(sleeps).toEqual([2000]);
    fake.clearLog();
    sleeps = [];
    fake.failNext({ status: 500, path: '/commands', times: 4 });
    const err = await failure(provider().checkKey());
    expect(err).toMatchObject({ code: 'http_error', status: 500, provider: 'renderio' });
    expect(err.message).toMatch(/^RenderIO failed while checking the key: .*server error/);
    expect(api().length).toBe(4); // 1 + 3 retries, 1 s / 4 s / 16 s apart
    expect(sleeps).toEqual([1000, 4000, 16000]);
  });

  it('unknown fields are tolerated; a response of the wrong shape is bad_response', async () => {
    // The fake adds fields RenderIO does not document (created_at, vendor_trace); downloads above pass.
    const raw = await call('GET', '/commands?limit=1');
    fake.failNext({ status: 200, path: '/commands/', body: { command_id: 'x', status: 'DONE' } });
    const err = await failure(download(provider(), VIDEO, 'renderio:best'));
    expect(err.code).toBe('bad_response');
    expect(err.message).toMatch(/status/);
    expect(raw.status).toBe(200);
  });
});

describe('RenderIoProvider: checkKey', () => {
  it('GET /commands?limit=1 gives a summary with the last job and the rate limit left', async () => {
    const fresh = `ffsk_${'c'.repeat(64)}`;
    fake.addKey(fresh);
    const none = await provider({ apiKey: fresh }).checkKey();
    expect(none.summary).toBe('Key works · no jobs yet · 59 requests left before rate limiting');
    expect(none.details).toMatchObject({ key: 'ffsk_...cccc', lastJobStatus: null, rateLimitRemaining: 59 });
    expect(api()[0]).toMatchObject({ method: 'GET', path: '/api/v1/commands', query: { limit: '1' }, apiKey: fresh });
    await download(provider({ apiKey: fresh }), VIDEO, 'renderio:360p');
    const after = await provider({ apiKey: fresh }).checkKey();
    expect(after.summary).toMatch(/^Key works · last job success · \d+ requests left before rate limiting$/);
    fake.revokeKey(fresh);
    expect((await failure(provider({ apiKey: fresh }).checkKey())).code).toBe('unauthorized');
  });
});

describe('RenderIO fake: the contract itself', () => {
  const body = (b: unknown) => JSON.stringify(b);
  const submit = (b: unknown, path = '/ytdlp-download') => call('POST', path, { body: body(b) });

  it('auth: 401 UNAUTHORIZED without or with a wrong key; X-RateLimit-Remaining on every response', async () => {
    const none = await call('GET', '/commands', { key: null });
    expect(none.status).toBe(401);
    expect(none.json).toMatchObject({ error: 'UNAUTHORIZED' });
    expect(none.headers.get('x-ratelimit-remaining')).not.toBeNull();
    expect((await call('GET', '/commands', { key: 'ffsk_nope' })).status).toBe(401);
    const ok = await call('GET', '/commands');
    expect(ok.status).toBe(200);
    expect(ok.headers.get('x-ratelimit-remaining')).toBe('59');
    expect((await call('GET', '/nothing-here')).status).toBe(404);
  });

  it('400 INVALID_REQUEST for every field rule, 422 detail for bodies that are not JSON objects', async () => {
    const u = { in_video: VIDEO };
    const cases: Array<[unknown, string?]> = [
      [{}],
      [{ input_urls: 'x' }],
      [{ input_urls: {} }],
      [{ input_urls: { video: VIDEO } }],
      [{ input_urls: { 'in-video': VIDEO } }],
      [{ input_urls: { in_: VIDEO } }],
      [{ input_urls: { in_video: 'not a url' } }],
      [{ input_urls: { in_video: 42 } }],
      [{ input_urls: u, format_selector: 'hd' }],
      [{ input_urls: u, metadata: Object.fromEntries(Array.from({ length: 11 }, (_, i) => [`k${i}`, i])) }],
      [{ input_urls: u, metadata: { nested: { a: 1 } } }],
      [{ input_urls: u, ffmpeg_command: MP3_COMMAND, output_files: { out_audio: 'audio.mp3' } }],
      [{ input_urls: u, output_files: { out_audio: 'a.mp3' } }],
      [{ input_urls: u, ffmpeg_command: MP3_COMMAND }, '/run-ytdlp-command'],
      [{ input_urls: u, ffmpeg_command: '-i {{in_video}} {{audio}}', output_files: { audio: 'a.mp3' } }, '/run-ytdlp-command'],
      [{ input_urls: u, ffmpeg_command: '-i {{in_video}} -vn out.mp3', output_files: { out_audio: 'audio.mp3' } }, '/run-ytdlp-command'],
      [{ input_urls: u, ffmpeg_command: '-i {{in_other}} {{out_audio}}', output_files: { out_audio: 'audio.mp3' } }, '/run-ytdlp-command'],
      [{ input_urls: u, ffmpeg_command: '-i {{in_video}} {{out_audio}}', output_files: { out_audio: 'noextension' } }, '/run-ytdlp-command'],
      [{ input_urls: u, output_files: { out_audio: 'a.mp3' } }, '/run-ytdlp-command'],
    ];
    for (const [b, path] of cases) {
      const r = await submit(b, path);
      expect([r.status, r.json?.error], JSON.stringify(b)).toEqual([400, 'INVALID_REQUEST']);
      expect(typeof r.json.message).toBe('string');
    }
    for (const raw of ['[1,2]', '"text"', 'null', '{not json']) {
      const r = await call('POST', '/ytdlp-download', { body: raw });
      expect(r.status, raw).toBe(422);
      expect(r.json.detail[0]).toMatchObject({ loc: ['body'], msg: expect.any(String), type: expect.stringMatching(/^(value|type)_error$/) });
    }
    expect((await call('POST', '/ytdlp-download', { body: body({ input_urls: u }), type: 'text/plain' })).status).toBe(422);
    expect((await call('GET', '/ytdlp-download')).status).toBe(405);
    // A valid one, with several inputs: each in_<x> becomes out_<x>.
    const ok = await submit({ input_urls: { in_video: VIDEO, in_clip_2: 'https://vimeo.com/1' }, metadata: { user: 'u1', n: 3, ok: true } });
    expect(ok.status).toBe(200);
    fake.clock.advance(5000);
    const done = await call('GET', `/commands/${ok.json.command_id}`);
    expect(Object.keys(done.json.output_files).sort()).toEqual(['out_clip_2', 'out_video']);
    expect(done.json.metadata).toEqual({ user: 'u1', n: 3, ok: true });
    // 403 plan refusal comes before body checks; GET endpoints are unaffected.
    fake.switches.planRefused = true;
    expect((await submit({})).json).toMatchObject({ error: 'FORBIDDEN' });
    expect((await call('GET', '/commands')).status).toBe(200);
  });

  it('status progression on the clock and per poll; CommandPollResponse and OutputFileMeta fields', async () => {
    const r = await submit({ input_urls: { in_video: VIDEO }, format_selector: '720p' });
    const id = r.json.command_id as string;
    const get = async () => (await call('GET', `/commands/${id}`)).json;
    const q = await get();
    expect(q).toMatchObject({ command_id: id, status: 'QUEUED', command_type: 'YTDLP_COMMAND', error_status: null, error_message: null, metadata: null });
    expect(q.output_files.out_video).toMatchObject({ storage_url: null, status: 'PROCESSING' });
    expect(q.original_request).toMatchObject({ input_urls: { in_video: VIDEO }, output_files: { out_video: 'video.mp4' } });
    fake.clock.advance(1000);
    expect((await get()).status).toBe('PROCESSING');
    fake.clock.advance(3000);
    const s = await get();
    expect(s.status).toBe('SUCCESS');
    const meta = s.output_files.out_video;
    expect(meta).toMatchObject({
      file_id: expect.any(String), status: 'STORED', rendi_store_type: 'OUTPUT', is_deleted: false, filename: 'video.mp4',
      mime_type: 'video/mp4', width: 1280, height: 720, file_format: 'mp4', codec: 'h264', duration: 3,
    });
    expect(meta.size_mbytes).toBeCloseTo(fake.media.videos[0]!.bytes / 1024 / 1024, 4);
    expect(s.total_processing_seconds).toBe(4);

    const url = new URL(meta.storage_url);
    expect(url.origin).toBe(fake.storageOrigin);
    expect(Number(url.searchParams.get('expires'))).toBe(Math.floor(fake.clock.now() / 1000) + 24 * 3600);
    expect(url.searchParams.get('signature')).toMatch(/^[0-9a-f]{64}$/);
    expect((await get()).output_files.out_video.storage_url).toBe(meta.storage_url); // same link each poll
    const file = await fetch(url);
    expect(file.status).toBe(200);
    expect(Buffer.from(await file.arrayBuffer()).equals(readFileSync(fake.media.videos[0]!.path))).toBe(true);
    const ranged = await fetch(url, { headers: { range: 'bytes=10-19' } });
    expect([ranged.status, ranged.headers.get('content-range')]).toEqual([206, `bytes 10-19/${fake.media.videos[0]!.bytes}`]);
    await ranged.arrayBuffer();
    const forged = new URL(url);
    forged.searchParams.set('expires', String(Number(url.searchParams.get('expires')) + 3600));
    expect((await fetch(forged)).status).toBe(403);
    fake.clock.advance(24 * 3600_000 + 1000);
    const expired = await fetch(url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toMatch(/expired/);

    // DELETE /commands/{id}/files
    expect((await call('DELETE', `/commands/${id}/files`)).status).toBe(200);
    expect((await get()).output_files.out_video).toMatchObject({ is_deleted: true, storage_url: null });

    fake.setOutcome('https://vimeo.com/perpoll', { perPoll: true });
    const pp = (await submit({ input_urls: { in_video: 'https://vimeo.com/perpoll' } })).json.command_id;
    const seen: string[] = [];
    for (let i = 0; i < 4; i++) seen.push((await call('GET', `/commands/${pp}`)).json.status);
    expect(seen).toEqual(['QUEUED', 'PROCESSING', 'SUCCESS', 'SUCCESS']);

    fake.setOutcome('https://vimeo.com/broken', { result: 'failed' });
    const f = (await submit({ input_urls: { in_video: 'https://vimeo.com/broken' } })).json.command_id;
    fake.clock.advance(5000);
    const failed = (await call('GET', `/commands/${f}`)).json;
    expect(failed).toMatchObject({ status: 'FAILED', error_status: 'DOWNLOAD_FAILED', error_message: expect.any(String) });
    expect(failed.error).toBe(failed.error_message);
    expect(failed.output_files.out_video).toMatchObject({ status: 'FAILED', storage_url: null });
  });

  it('GET /commands: newest first, limit/offset/status, 400 for bad parameters', async () => {
    const key = `ffsk_${'d'.repeat(64)}`;
    fake.addKey(key);
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) {
      if (i) fake.clock.advance(1500);
      ids.push((await call('POST', '/ytdlp-download', { key, body: body({ input_urls: { in_video: `https://vimeo.com/${i + 100}` } }) })).json.command_id);
    }
    const all = (await call('GET', '/commands', { key })).json;
    expect(all).toMatchObject({ limit: 50, offset: 0 });
    expect(all.total).toBeUndefined();
    expect(all.commands.map((c: any) => c.command_id)).toEqual([...ids].reverse());
    expect((await call('GET', '/commands?limit=1&offset=1', { key })).json.commands.map((c: any) => c.command_id)).toEqual([ids[1]]);
    const queued = (await call('GET', '/commands?status=QUEUED', { key })).json.commands.map((c: any) => c.command_id);
    expect(queued).toEqual([ids[2]]);
    for (const q of ['limit=0', 'limit=101', 'limit=abc', 'offset=-1', 'status=done', 'status=success']) {
      const r = await call('GET', `/commands?${q}`, { key });
      expect([r.status, r.json.error], q).toEqual([400, 'INVALID_REQUEST']);
    }
  });

  it('serves https with a given certificate (the browser reaches it at the real hostname)', async () => {
    let tls: { key: string; cert: string };
    try {
      const dir = mkdtempSync(join(tmpdir(), 'vidmux-rio-tls-'));
      execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=renderio.dev',
        '-addext', 'subjectAltName=DNS:renderio.dev,IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
      tls = { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') };
    } catch {
      return; // no openssl here: nothing to make a certificate with
    }
    const secure = await startRenderIoFake({ now: () => START, tls });
    try {
      expect(secure.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      expect(secure.storageOrigin).toMatch(/^https:/);
      const status = await new Promise<number>((resolve, reject) => {
        const req = httpsRequest(`${secure.baseUrl}/commands?limit=1`, { ca: tls.cert, servername: 'renderio.dev', headers: { 'x-api-key': RENDERIO_TEST_KEY } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect(status).toBe(200);
    } finally {
      await secure.close();
    }
  });
});
