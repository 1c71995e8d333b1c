/**
 * Contract tests of the VidPickr client against its fake (test/fakes/vidpickr-server.ts), which
 * implements shared/providers.md section 2 exactly. Real media (fMP4 for `mp4`/`m4a` entries, WebM for
 * `webm` ones, as the vendor's /info example lists them), real HTTP on 127.0.0.1, a fake clock for
 * token expiry and rate windows, and a fake sleep so retries do not wait.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { VidmuxError } from '../errors';
import type { ByteSink } from '../io';
import { NodeFileSink } from '../node/files';
import { HttpClient } from '../net/http';
import { JobProgressSchema, type JobProgress } from '../schemas/progress';
import { downloadContext } from '../jobs/download-context';
import { chooseFormat, pickFormat, pickSubtitles, planFormat } from '../jobs/choose-format';
import { WishSchema, type Wish } from '../schemas/job-spec';
import { MediaInfoSchema } from '../schemas/media';
import { downloadWithFallback } from './registry';
import type { Format, MediaInfo, Selection } from './types';
import { bestAudio, parseErrorBody, toMediaInfo, VidPickrError, vidpickrError, VidPickrProvider, type VidPickrTuning } from './vidpickr';
import { ffmpeg, ffprobeJson } from '../../test/fixtures/ffmpeg';
import { renderCues, vidpickrMedia, VIDPICKR_CUES, type VidPickrMedia } from '../../test/fixtures/vidpickr-media';
import {
  defaultVidPickrVideos,
  startVidPickrFake,
  VIDPICKR_FREE_KEY,
  VIDPICKR_TEST_KEY,
  type FakeVideo,
  type VidPickrFake,
  type VidPickrFakeOptions,
} from '../../test/fakes/vidpickr-server';

const WATCH = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const MERGE_ONLY = 'https://youtu.be/MergeOnly01';

let media: VidPickrMedia;
let tmp: string;
const fakes: VidPickrFake[] = [];

beforeAll(async () => {
  media = await vidpickrMedia();
  tmp = mkdtempSync(join(tmpdir(), 'vidpickr-test-'));
});
afterEach(async () => {
  await Promise.all(fakes.splice(0).map((f) => f.close()));
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

interface Setup {
  fake: VidPickrFake;
  provider: VidPickrProvider;
  /** Every wait: the HTTP client's retry waits and the provider's rate-window waits. */
  sleeps: number[];
  /** Every request the client sent: URL and headers. */
  sent: Array<{ url: string; headers: Record<string, string> }>;
}

async function setup(opts: { fake?: VidPickrFakeOptions; key?: string | null; tuning?: VidPickrTuning; now?: () => number } = {}): Promise<Setup> {
  const fake = await startVidPickrFake(opts.fake);
  fakes.push(fake);
  const sleeps: number[] = [];
  const sent: Setup['sent'] = [];
  // A sleep that does not wait: it moves the fake's clock instead.
  const sleep = async (ms: number) => {
    sleeps.push(ms);
    fake.clock.advance(ms);
  };
  const http = new HttpClient({
    provider: 'vidpickr',
    sleep,
    random: () => 0.5,
    fetch: (input, init) => {
      sent.push({ url: String(input), headers: { ...(init?.headers as Record<string, string>) } });
      return fetch(input, init);
    },
  });
  const provider = new VidPickrProvider(
    { apiKey: opts.key === undefined ? VIDPICKR_TEST_KEY : opts.key, baseUrl: fake.baseUrl, http, now: opts.now ?? fake.clock.now, sleep },
    opts.tuning,
  );
  return { fake, provider, sleeps, sent };
}

/** A download target writing into the temp dir. */
function target(name: string) {
  const paths: { media: string; subtitles: string[] } = { media: join(tmp, `${name}.mp4`), subtitles: [] };
  let sink: NodeFileSink | null = null;
  return {
    paths,
    get sink() {
      return sink;
    },
    target: {
      media: async (): Promise<ByteSink> => (sink = new NodeFileSink(paths.media)),
      subtitle: async (f: Format): Promise<ByteSink> => {
        const p = join(tmp, `${name}.${f.language}${f.isAuto ? '.auto' : ''}.${f.container}`);
        paths.subtitles.push(p);
        return new NodeFileSink(p);
      },
    },
  };
}

/**
 * The MD5 of every packet of a file's first video or audio stream, in order; MP4 and WebM alike.
 * framemd5 lines are `stream, dts, pts, duration, size, hash[, side data...]`: a WebM Opus packet
 * with skip samples carries a side-data checksum after its hash, so the hash is field 5, not the last.
 */
async function md5s(file: string, stream: 'v' | 'a'): Promise<string[]> {
  const out = await ffmpeg(['-copyts', '-i', file, '-map', `0:${stream}:0`, '-c', 'copy', '-f', 'framemd5', '-']);
  return out
    .split('\n')
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => l.split(',')[5]!.trim());
}

async function expectMuxed(file: string, video: string | null, audio: string | null): Promise<any> {
  const probe = await ffprobeJson(file);
  const kinds = probe.streams.map((s: any) => s.codec_type).sort();
  expect(kinds).toEqual([...(audio ? ['audio'] : []), ...(video ? ['video'] : [])]);
  if (video) expect(await md5s(file, 'v')).toEqual(await md5s(video, 'v'));
  if (audio) expect(await md5s(file, 'a')).toEqual(await md5s(audio, 'a'));
  return probe;
}

/** SHA-256 of a file; `noTimes` zeroes the creation/modification times of mvhd, tkhd and mdhd. */
function sha(file: string, noTimes = false): string {
  const buf = readFileSync(file);
  if (noTimes) {
    for (const type of ['mvhd', 'tkhd', 'mdhd']) {
      for (let i = buf.indexOf(type); i >= 0; i = buf.indexOf(type, i + 4)) {
        const v1 = buf[i + 4] === 1;
        buf.fill(0, i + 8, Math.min(buf.length, i + 8 + (v1 ? 16 : 8)));
      }
    }
  }
  return createHash('sha256').update(buf).digest('hex');
}

async function catchError(p: Promise<unknown>): Promise<VidPickrError> {
  try {
    await p;
  } catch (err) {
    return err as VidPickrError;
  }
  throw new Error('expected a failure');
}

/** Raw GET against the fake (for contract checks of the fake itself). */
async function raw(fake: VidPickrFake, path: string, key: string | null = VIDPICKR_TEST_KEY, headers: Record<string, string> = {}) {
  const res = await fetch(`${fake.url}${path}`, { headers: { ...(key ? { 'X-API-Key': key } : {}), ...headers } });
  const text = await res.text();
  let body: any = null;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  return { status: res.status, headers: res.headers, text, body };
}

const stableFormats = (info: MediaInfo) => [...info.formats].sort((a, b) => a.id.localeCompare(b.id));

describe('VidPickr /info', () => {
  it('resolves the per-codec shape into one format per height and codec, audio and subtitles', async () => {
    const { provider } = await setup();
    const info = await provider.resolve(WATCH);
    expect(MediaInfoSchema.parse(info)).toEqual(info);
    expect(info).toMatchObject({ provider: 'vidpickr', url: WATCH, title: 'Never Gonna Give You Up', durationSeconds: 4 });
    expect(info.thumbnail).toContain('dQw4w9WgXcQ');
    const video = info.formats.filter((f) => f.kind === 'video+audio');
    // The /info example: 1080 AV1 (mp4) + VP9 (webm), 720 H.264 (mp4) + VP9 (webm), 480 H.264 (mp4).
    // A video's sound is one of audio_only, paired by the chooser: none of its own here.
    expect(video.map((f) => `${f.height} ${f.videoCodec} ${f.audioCodec} ${f.delivery} ${f.sourceContainer} ${f.pairsWithAudio}`).sort()).toEqual([
      '1080 av01.0.08M.08 null tracks mp4 true',
      '1080 vp09.00.50.08 null tracks webm true',
      '480 avc1.4d401e null tracks mp4 true',
      '720 avc1.4d401f null tracks mp4 true',
      '720 vp09.00.31.08 null tracks webm true',
    ]);
    expect(video.find((f) => f.videoCodec === 'vp09.00.31.08')!.label).toBe('720p · VP9 · MP4');
    expect(video.find((f) => f.videoCodec === 'av01.0.08M.08')!.label).toBe('1080p · AV1 · MP4');
    // No `bitrate` on video entries in the example: no made-up total bitrate either.
    expect(video.every((f) => f.bitrateKbps === null)).toBe(true);
    const audio = info.formats.filter((f) => f.kind === 'audio');
    expect(audio.map((f) => `${f.audioCodec} ${f.bitrateKbps} ${f.container} ${f.sourceContainer}`).sort()).toEqual(['mp4a.40.2 128 m4a m4a', 'opus 160 mp4 webm']);
    expect(info.subtitles).toHaveLength(6);
    expect(info.subtitles.map((s) => `${s.language} ${s.isAuto} ${s.container}`).sort()).toEqual([
      'en false srt', 'en false txt', 'en false vtt', 'tr true srt', 'tr true txt', 'tr true vtt',
    ]);
  });

  it('resolves the merge-only shape (one merge token per height, codec chosen by VidPickr)', async () => {
    const { provider } = await setup();
    const info = await provider.resolve(MERGE_ONLY);
    const video = info.formats.filter((f) => f.kind === 'video+audio');
    expect(video.map((f) => `${f.height} ${f.videoCodec}`).sort()).toEqual(['1080 null', '480 null', '720 null']);
    expect(video.map((f) => f.label).sort()).toEqual(['1080p · MP4', '480p · MP4', '720p · MP4']);
  });

  it("accepts seed-001's subtitle fields (language, kind) as well as the SDKs'", async () => {
    const videos = (await defaultVidPickrVideos()).map((v): FakeVideo => ({ ...v, subtitleFields: 'seed' }));
    const { provider } = await setup({ fake: { videos } });
    const info = await provider.resolve(WATCH);
    expect(pickSubtitles(info.subtitles.filter((s) => s.container === 'vtt'), ['tr'])[0]).toMatchObject({ language: 'tr', isAuto: true });
    expect(info.subtitles.filter((s) => s.language === 'en' && !s.isAuto)).toHaveLength(3);
  });

  it('gives the same formats whatever order VidPickr lists them in, and tolerates unknown fields', async () => {
    const { provider, fake } = await setup({ fake: { unknownFields: true } });
    const a = await provider.resolve(WATCH);
    const b = await provider.resolve(WATCH);
    const c = await provider.resolve(WATCH);
    const bodies = fake.requests.filter((r) => r.endpoint === 'info');
    expect(bodies).toHaveLength(3);
    expect(stableFormats(b)).toEqual(stableFormats(a));
    expect(stableFormats(c)).toEqual(stableFormats(a));
    // The fake really does reorder (and adds fields the client does not know).
    const r1 = await raw(fake, `/v1/info?url=${encodeURIComponent(WATCH)}`);
    const r2 = await raw(fake, `/v1/info?url=${encodeURIComponent(WATCH)}`);
    expect(r1.body.resolutions.map((r: any) => r.height)).not.toEqual(r2.body.resolutions.map((r: any) => r.height));
    expect(r1.body).toHaveProperty('view_count');
    expect(r1.body.resolutions[0]).toHaveProperty('fps');
    expect(r1.body.resolutions[0].video_only[0]).toHaveProperty('dynamic_range');
    expect(r1.body.audio_only[0]).toHaveProperty('language');
    // The same formats as a server that sends only the documented fields.
    const plain = await setup();
    expect(stableFormats(await plain.provider.resolve(WATCH))).toEqual(stableFormats(a));
  });

  it('picks audio as the SDKs do (highest bitrate, m4a on a tie) where VidPickr pairs, and leaves the pairing of a video to the chooser', () => {
    const t = (ext: string, bitrate: number) => ({ ext, acodec: ext === 'm4a' ? 'mp4a.40.2' : 'opus', bitrate, download_token: `${ext}${bitrate}` });
    expect(bestAudio([t('webm', 128), t('m4a', 128)])!.ext).toBe('m4a');
    expect(bestAudio([t('m4a', 128), t('webm', 128)])!.ext).toBe('m4a');
    expect(bestAudio([t('m4a', 128), t('webm', 160)])!.ext).toBe('webm');
    const info = toMediaInfo(WATCH, {
      resolutions: [{ height: 480, video_only: [{ vcodec: 'avc1.4d401e', ext: 'mp4', download_token: 'v' }] }],
      audio_only: [t('webm', 128), t('m4a', 128)],
    });
    // The video's sound is the chooser's pick (AAC beside MP4 video), not the list's order.
    expect(info.formats[0]).toMatchObject({ audioCodec: null, pairsWithAudio: true, sourceContainer: 'mp4' });
    expect(planFormat(info, info.formats[0]!).audio?.audioCodec).toBe('mp4a.40.2');
    expect(pickFormat(info.formats, 'audio').container).toBe('m4a');
  });

  it('rejects an /info answer that breaks the documented types, naming the field', async () => {
    const http = new HttpClient({
      fetch: async () => new Response(JSON.stringify({ title: 'x', resolutions: [{ height: 'tall' }] }), { headers: { 'content-type': 'application/json' } }),
    });
    const provider = new VidPickrProvider({ apiKey: VIDPICKR_TEST_KEY, baseUrl: 'http://127.0.0.1:9/v1', http });
    const err = await catchError(provider.resolve(WATCH));
    expect([err.code, err.provider]).toEqual(['bad_response', 'vidpickr']);
    expect(err.message).toContain('resolutions.0.height');
    expect(toMediaInfo(WATCH, { title: 'x' })).toMatchObject({ formats: [], subtitles: [], durationSeconds: null });
  });
});

describe('VidPickr download', () => {
  it('streams both tracks in parallel, muxes them packet for packet, saves subtitles and reports progress', async () => {
    const { provider, fake, sent } = await setup();
    const info = await provider.resolve(WATCH);
    const format = pickFormat(info.formats, '720'); // H.264 first by default
    expect(format.videoCodec).toBe('avc1.4d401f');
    // The chooser pairs AAC (MP4) with MP4 video: the audio_only track the provider streams.
    const audioFormat = planFormat(info, format).audio!;
    expect(audioFormat).toMatchObject({ audioCodec: 'mp4a.40.2', sourceContainer: 'm4a' });
    const subs = [...info.subtitles.filter((s) => s.language === 'en' && s.container !== 'txt'), info.subtitles.find((s) => s.language === 'tr' && s.container === 'txt')!];
    const t = target('full');
    const progress: JobProgress[] = [];
    const result = await provider.download(info, { format, audio: audioFormat, subtitles: subs }, downloadContext({ target: t.target, onProgress: (p) => progress.push(p) }));

    const probe = await expectMuxed(t.paths.media, media.h264_720, media.aac);
    expect(probe.streams.map((s: any) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(result.bytes).toBe(readFileSync(t.paths.media).length);
    expect(probe.format.tags?.title).toBe('Never Gonna Give You Up');
    expect(result.subtitles.map((s) => s.format.id)).toEqual(subs.map((s) => s.id));
    expect(readFileSync(t.paths.subtitles[0]!, 'utf8')).toBe(renderCues(VIDPICKR_CUES.en!, 'srt'));
    expect(readFileSync(t.paths.subtitles[1]!, 'utf8')).toBe(renderCues(VIDPICKR_CUES.en!, 'vtt'));
    expect(readFileSync(t.paths.subtitles[2]!, 'utf8')).toBe(renderCues(VIDPICKR_CUES.tr!, 'txt'));

    // Progress: the one shape, video and audio tracks, downloading then muxing, totals reached.
    for (const p of progress) JobProgressSchema.parse(p);
    expect(progress[0]!.stage).toBe('downloading');
    expect(progress.map((p) => p.stage)).toContain('muxing');
    const last = progress.at(-1)!;
    expect(Object.keys(last.tracks).sort()).toEqual(['audio', 'video']);
    expect(last.tracks.video!.bytesDone).toBe(readFileSync(media.h264_720).length);
    expect(last.tracks.audio!.bytesDone).toBe(readFileSync(media.aac).length);

    // One /info (the resolve is reused), one stream per track plus its probe, both at once.
    const streams = fake.requests.filter((r) => r.endpoint === 'stream');
    expect(fake.requests.filter((r) => r.endpoint === 'info')).toHaveLength(1);
    expect(streams).toHaveLength(4);
    expect(streams.every((r) => r.status === 200 || r.status === 206)).toBe(true);
    expect(fake.requests.filter((r) => r.endpoint === 'subtitle').map((r) => r.query.format)).toEqual(['srt', 'vtt', 'txt']);
    expect(fake.streams.peak).toBeLessThanOrEqual(2);
    // The key went only in X-API-Key, only to VidPickr's origin, never in a URL.
    for (const s of sent) {
      expect(new URL(s.url).origin).toBe(new URL(fake.baseUrl).origin);
      expect(s.url).not.toContain(VIDPICKR_TEST_KEY);
      expect(s.headers['X-API-Key']).toBe(VIDPICKR_TEST_KEY);
    }
    expect(fake.requests.every((r) => r.apiKey === VIDPICKR_TEST_KEY)).toBe(true);
  });

  it('serves the stream as the contract says: fMP4 or WebM bytes as the entry\'s ext names, Content-Type, Content-Length, Content-Disposition', async () => {
    const { fake } = await setup();
    const info = (await raw(fake, `/v1/info?url=${encodeURIComponent(WATCH)}`)).body;
    const v = info.resolutions.find((r: any) => r.height === 480).video_only[0];
    expect([v.ext, v.vcodec]).toEqual(['mp4', 'avc1.4d401e']);
    const a = info.audio_only.find((x: any) => x.ext === 'm4a');
    const vs = await fetch(`${fake.baseUrl}/stream?token=${v.download_token}`, { headers: { 'X-API-Key': VIDPICKR_TEST_KEY } });
    expect(vs.status).toBe(200);
    expect(vs.headers.get('content-type')).toBe('video/mp4');
    expect(vs.headers.get('content-disposition')).toMatch(/^attachment; filename=".+\[480p\]\.mp4"$/);
    expect(Number(vs.headers.get('content-length'))).toBe(readFileSync(media.h264_480).length);
    expect(vs.headers.get('x-ratelimit-remaining')).toBe('59');
    expect(Buffer.from(await vs.arrayBuffer()).equals(readFileSync(media.h264_480))).toBe(true);
    const as = await fetch(`${fake.url}/api/v1/stream?token=${a.download_token}`, { headers: { 'X-API-Key': VIDPICKR_TEST_KEY } });
    expect(as.headers.get('content-type')).toBe('audio/mp4');
    expect(Buffer.from(await as.arrayBuffer()).equals(readFileSync(media.aac))).toBe(true);
    // `webm` entries come as WebM: 1080 VP9 and the Opus track.
    const w = info.resolutions.find((r: any) => r.height === 1080).video_only.find((x: any) => x.ext === 'webm');
    expect(w.vcodec).toBe('vp09.00.50.08');
    const ws = await fetch(`${fake.baseUrl}/stream?token=${w.download_token}`, { headers: { 'X-API-Key': VIDPICKR_TEST_KEY } });
    expect(ws.headers.get('content-type')).toBe('video/webm');
    expect(ws.headers.get('content-disposition')).toMatch(/^attachment; filename=".+\[1080p\]\.webm"$/);
    expect(Number(ws.headers.get('content-length'))).toBe(readFileSync(media.vp9_1080).length);
    expect(Buffer.from(await ws.arrayBuffer()).equals(readFileSync(media.vp9_1080))).toBe(true);
    const o = info.audio_only.find((x: any) => x.ext === 'webm');
    const os = await fetch(`${fake.baseUrl}/stream?token=${o.download_token}`, { headers: { 'X-API-Key': VIDPICKR_TEST_KEY } });
    expect(os.headers.get('content-type')).toBe('audio/webm');
    expect(Buffer.from(await os.arrayBuffer()).equals(readFileSync(media.opus))).toBe(true);
  });

  it('downloads with a resolve made by another instance (the picker’s, in the background) without asking /info again', async () => {
    const { provider: picker, fake } = await setup();
    const info = await picker.resolve(WATCH);
    expect(info.resolved).toMatchObject({ at: expect.any(Number) });
    // The engine is another context: a new provider instance, sharing nothing but the info.
    const engine = new VidPickrProvider({ apiKey: VIDPICKR_TEST_KEY, baseUrl: fake.baseUrl, http: new HttpClient({ sleep: async () => undefined }), now: fake.clock.now });
    const infoCalls = () => fake.requests.filter((r) => r.endpoint === 'info').length;
    expect(infoCalls()).toBe(1);
    const t = target('adopted');
    await engine.download(JSON.parse(JSON.stringify(info)), { format: pickFormat(info.formats, '720'), subtitles: [] }, downloadContext({ target: t.target }));
    expect(infoCalls()).toBe(1);
    await expectMuxed(t.paths.media, media.h264_720, media.opus);
    // A resolve whose private part is not VidPickr's shape is not trusted: the engine resolves itself.
    const forged = { ...info, resolved: { at: fake.clock.now(), state: { resolutions: 'nope' } } };
    const again = new VidPickrProvider({ apiKey: VIDPICKR_TEST_KEY, baseUrl: fake.baseUrl, http: new HttpClient({ sleep: async () => undefined }), now: fake.clock.now });
    await again.download(forged, { format: pickFormat(info.formats, '720'), subtitles: [] }, downloadContext({ target: target('forged').target }));
    expect(infoCalls()).toBe(2);
  });

  it('downloads the merge-only shape through /split_token', async () => {
    const { provider, fake } = await setup();
    const info = await provider.resolve(MERGE_ONLY);
    const t = target('merge');
    await provider.download(info, { format: pickFormat(info.formats, '480'), subtitles: [] }, downloadContext({ target: t.target }));
    await expectMuxed(t.paths.media, media.h264_480, media.opus);
    expect(fake.requests.filter((r) => r.endpoint === 'split_token')).toHaveLength(1);
  });

  it('picks by height and codec, never by list order (VP9 at 1080p behind AV1, even via a video_only merge token)', async () => {
    const videos = (await defaultVidPickrVideos()).map((v): FakeVideo => ({ ...v, videoOnlyEndpoint: 'merge' }));
    const { provider, fake } = await setup({ fake: { videos } });
    await provider.resolve(WATCH); // moves the fake's rotation on: the list order differs now
    const info = await provider.resolve(WATCH);
    const format = pickFormat(info.formats, '1080', ['vp9', 'avc']);
    expect([format.height, format.videoCodec]).toEqual([1080, 'vp09.00.50.08']);
    const t = target('vp9');
    await provider.download(info, { format, subtitles: [] }, downloadContext({ target: t.target }));
    // The WebM VP9 (the second 1080 entry) and WebM Opus, packet for packet, in an MP4.
    const probe = await expectMuxed(t.paths.media, media.vp9_1080, media.opus);
    expect(probe.streams.find((s: any) => s.codec_type === 'video').codec_name).toBe('vp9');
    expect(probe.format.format_name).toContain('mp4');
    expect(fake.requests.filter((r) => r.endpoint === 'split_token')).toHaveLength(1);
  });

  it('a subtitle that fails is left out; the video is still saved', async () => {
    const { provider, fake } = await setup();
    const info = await provider.resolve(WATCH);
    fake.fault('subtitle', { kind: 'non_json', status: 404 });
    const subs = info.subtitles.filter((s) => s.container === 'vtt');
    const t = target('subfail');
    const result = await provider.download(info, { format: pickFormat(info.formats, '480'), subtitles: subs }, downloadContext({ target: t.target }));
    await expectMuxed(t.paths.media, media.h264_480, media.opus);
    expect(result.subtitles.map((s) => s.format.id)).toEqual([subs[1]!.id]);
  });

  it('downloads an audio-only format into an MP4 with one stream', async () => {
    const { provider } = await setup();
    const info = await provider.resolve(WATCH);
    const format = info.formats.find((f) => f.kind === 'audio' && f.container === 'm4a')!;
    const t = target('audio');
    const progress: JobProgress[] = [];
    await provider.download(info, { format, subtitles: [] }, downloadContext({ target: t.target, onProgress: (p) => progress.push(p) }));
    await expectMuxed(t.paths.media, null, media.aac);
    expect(Object.keys(progress.at(-1)!.tracks)).toEqual(['audio']);
  });

  it('re-resolves when tokens expire mid-download and continues from the byte offset, byte-exact', async () => {
    const tuning = { connectionsPerTrack: 2, chunkBytes: 64 * 1024 };
    const clean = await setup({ tuning });
    const info0 = await clean.provider.resolve(WATCH);
    const t0 = target('clean');
    await clean.provider.download(info0, { format: pickFormat(info0.formats, '720'), subtitles: [] }, downloadContext({ target: t0.target }));

    const { provider, fake } = await setup({ tuning });
    const info = await provider.resolve(WATCH);
    const format = pickFormat(info.formats, '720');
    const t = target('expired');
    let streams = 0;
    fake.onRequest = (r) => {
      // A few chunks in, the tokens run out: 601 s is past their 600 s lifetime.
      if (r.endpoint === 'stream' && ++streams === 8) fake.clock.advance(601_000);
    };
    await provider.download(info, { format, subtitles: [] }, downloadContext({ target: t.target }));
    const expired = fake.requests.filter((r) => r.endpoint === 'stream' && r.status === 400);
    expect(expired.length).toBeGreaterThan(0);
    expect(fake.requests.filter((r) => r.endpoint === 'info')).toHaveLength(2);
    // Resumed mid-file (a range request after the renewal), not restarted.
    const after = fake.requests.slice(fake.requests.indexOf(expired[0]!) + 1).filter((r) => r.endpoint === 'stream' && r.status === 206);
    expect(after.some((r) => Number(/bytes=(\d+)-/.exec(r.range ?? '')?.[1]) > 0)).toBe(true);
    await expectMuxed(t.paths.media, media.h264_720, media.opus);
    // Identical to the uninterrupted download, but for the wall-clock creation times the muxer stamps.
    expect(sha(t.paths.media, true)).toBe(sha(t0.paths.media, true));
  });

  it('when renewing an expired token fails, the error is VidPickr’s own words for it (here: a revoked key)', async () => {
    const fake = await startVidPickrFake();
    fakes.push(fake);
    let revoked = false;
    const http = new HttpClient({
      sleep: async (ms) => fake.clock.advance(ms),
      // The key is revoked while the download runs: the re-resolve goes out with a dead key.
      fetch: (input, init) => {
        const url = String(input);
        if (revoked && url.includes('/info')) return fetch(input, { ...init, headers: { ...(init?.headers as Record<string, string>), 'X-API-Key': 'vpk_live_revoked_key_000000' } });
        return fetch(input, init);
      },
    });
    const provider = new VidPickrProvider({ apiKey: VIDPICKR_TEST_KEY, baseUrl: fake.baseUrl, http, now: fake.clock.now, sleep: async (ms) => fake.clock.advance(ms) });
    const info = await provider.resolve(WATCH);
    fake.onRequest = (r) => {
      if (r.endpoint === 'stream' && !revoked) {
        revoked = true;
        fake.clock.advance(601_000); // every token has expired
      }
    };
    const err = await provider.download(info, { format: pickFormat(info.formats, '720'), subtitles: [] }, downloadContext({ target: target('revoked').target })).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: 'unauthorized', message: expect.stringMatching(/^VidPickr does not accept the API key vpk_live_\.\.\.\w{4}: it is unknown or was revoked/) });
  });

  it('renews tokens that expired between resolve and download (the probe gets 400 token expired)', async () => {
    const { provider, fake } = await setup({ now: () => 0 }); // the provider believes its resolve is fresh
    const info = await provider.resolve(MERGE_ONLY);
    fake.clock.advance(700_000);
    let subtitleCalls = 0;
    fake.onRequest = (r) => {
      // The media took long: by the first subtitle call its token has expired too.
      if (r.endpoint === 'subtitle' && ++subtitleCalls === 1) fake.clock.advance(700_000);
    };
    const t = target('late');
    await provider.download(info, { format: pickFormat(info.formats, '720'), subtitles: info.subtitles.filter((s) => s.container === 'srt') }, downloadContext({ target: t.target }));
    await expectMuxed(t.paths.media, media.h264_720, media.opus);
    const log = fake.requests.map((r) => `${r.endpoint} ${r.status}`);
    expect(log).toContain('split_token 400'); // the merge token had expired
    expect(log.filter((l) => l === 'info 200')).toHaveLength(3);
    // The subtitle token expired too: renewed the same way.
    expect(log.filter((l) => l.startsWith('subtitle'))).toEqual(['subtitle 400', 'subtitle 200', 'subtitle 200']);
    expect(readFileSync(t.paths.subtitles[0]!, 'utf8')).toBe(renderCues(VIDPICKR_CUES.en!, 'srt'));
  });

  it('works when /stream sends no Content-Length (sequential, size unknown)', async () => {
    const { provider, fake } = await setup();
    fake.fault('stream', { kind: 'no_content_length' });
    const info = await provider.resolve(WATCH);
    const t = target('nolength');
    const progress: JobProgress[] = [];
    await provider.download(info, { format: pickFormat(info.formats, '480'), subtitles: [] }, downloadContext({ target: t.target, onProgress: (p) => progress.push(p) }));
    await expectMuxed(t.paths.media, media.h264_480, media.opus);
    expect(fake.requests.filter((r) => r.endpoint === 'stream').every((r) => r.status === 200)).toBe(true);
    expect(progress.at(-1)!.overall.bytesTotal).toBeNull();
    expect(progress.at(-1)!.tracks.video!.bytesDone).toBe(readFileSync(media.h264_480).length);
  });

  it('never has more than 10 streams open at once, however many connections are asked for', async () => {
    const { provider, fake } = await setup({
      tuning: { connectionsPerTrack: 16, chunkBytes: 32 * 1024 },
      fake: { limits: { stream: { perMinute: 10_000, perHour: 10_000 } } },
    });
    const info = await provider.resolve(WATCH);
    const t = target('many');
    await provider.download(info, { format: pickFormat(info.formats, '720'), subtitles: [] }, downloadContext({ target: t.target }));
    await expectMuxed(t.paths.media, media.h264_720, media.opus);
    expect(fake.streams.peak).toBeGreaterThan(2);
    expect(fake.streams.peak).toBeLessThanOrEqual(10);
  });

  it('waits for the next window when X-RateLimit-Remaining reads 0 instead of running into 429', async () => {
    const { provider, fake, sleeps } = await setup({ fake: { limits: { stream: { perMinute: 2, perHour: 100 } } } });
    const info = await provider.resolve(WATCH);
    const t = target('window');
    await provider.download(info, { format: pickFormat(info.formats, '480'), subtitles: [] }, downloadContext({ target: t.target }));
    await expectMuxed(t.paths.media, media.h264_480, media.opus);
    expect(fake.requests.filter((r) => r.status === 429)).toEqual([]);
    expect(sleeps.some((ms) => ms > 50_000 && ms <= 60_000)).toBe(true);
  });

  it('stops on cancel and leaves no file', async () => {
    const { provider } = await setup({ tuning: { connectionsPerTrack: 1 } });
    const info = await provider.resolve(WATCH);
    const ctrl = new AbortController();
    const t = target('cancel');
    const err = await catchError(
      provider.download(info, { format: pickFormat(info.formats, '720'), subtitles: [] }, downloadContext({
        target: t.target,
        signal: ctrl.signal,
        onProgress: (p) => {
          if (p.overall.bytesDone > 0) ctrl.abort();
        },
      })),
    );
    expect(err).toBeInstanceOf(VidmuxError);
    expect(err.code).toBe('cancelled');
    expect(() => readFileSync(t.paths.media)).toThrow();
  });
});

describe('VidPickr through the chooser: the audio_only track that fits, MP4 or WebM out', () => {
  /** What the fake streamed, from its tokens: `video <height> <variant>` and `audio <index>`, once each. */
  function streamed(fake: VidPickrFake): string[] {
    const seen = new Set<string>();
    for (const r of fake.requests.filter((x) => x.endpoint === 'stream')) {
      const p = JSON.parse(Buffer.from(r.query.token!.split('.')[1]!, 'base64url').toString('utf8'));
      seen.add(p.k === 'video' ? `video ${p.h} ${p.c}` : `audio ${p.a}`);
    }
    return [...seen].sort();
  }

  /**
   * Saves the documented video as the engine does for a wish: the chooser's format and plan (the
   * Selection lib/jobs/run-job.ts `selectionFor` makes: chooseFormat, then planFormat's audio,
   * output container and saved container), downloaded through the registry, which hands the
   * planned container to the muxer.
   */
  async function job(s: Setup, input: Partial<Wish> & Pick<Wish, 'quality'>) {
    const wish = WishSchema.parse(input);
    const choose = (info: MediaInfo): Selection => {
      const chosen = chooseFormat(info, wish);
      const plan = planFormat(info, chosen, wish);
      expect(plan.unsaveable).toBeNull();
      return { format: { ...chosen, container: plan.container }, audio: plan.audio, mux: plan.mux, subtitles: [] };
    };
    const t = target(`job-${Math.random().toString(36).slice(2)}`);
    const { selection, result } = await downloadWithFallback(WATCH, [s.provider], choose, downloadContext({ target: t.target }));
    expect(result.bytes).toBe(readFileSync(t.paths.media).length);
    return { file: t.paths.media, format: selection.format, selection, probe: await ffprobeJson(t.paths.media) };
  }

  const codecs = (probe: any) => probe.streams.map((x: any) => `${x.codec_type} ${x.codec_name}`).sort();

  it('1080p by default: VP9 (the WebM entry) with the Opus beside it, saved as MP4 whose packets are the WebM sources\' packets', async () => {
    const s = await setup();
    const r = await job(s, { quality: '1080' });
    expect(r.format).toMatchObject({ height: 1080, videoCodec: 'vp09.00.50.08', sourceContainer: 'webm', container: 'mp4' });
    expect(r.selection).toMatchObject({ format: { id: r.format.id }, audio: { audioCodec: 'opus', sourceContainer: 'webm' }, mux: 'mp4' });
    expect(r.probe.format.format_name).toContain('mp4');
    expect(codecs(r.probe)).toEqual(['audio opus', 'video vp9']);
    await expectMuxed(r.file, media.vp9_1080, media.opus);
    // Only the two tracks it saved were streamed: 1080 variant 1 (VP9) and audio 1 (Opus), not the AAC.
    expect(streamed(s.fake)).toEqual(['audio 1', 'video 1080 1']);
  });

  it('codec order AV1 first: the AV1 MP4 entry with the AAC beside it, packets the sources\'', async () => {
    const s = await setup();
    const r = await job(s, { quality: '1080', codecPreference: ['av1', 'vp9', 'avc', 'hevc'] });
    expect(r.format).toMatchObject({ height: 1080, videoCodec: 'av01.0.08M.08', sourceContainer: 'mp4', container: 'mp4' });
    expect(r.selection).toMatchObject({ audio: { audioCodec: 'mp4a.40.2', sourceContainer: 'm4a' }, mux: 'mp4' });
    expect(r.probe.format.format_name).toContain('mp4');
    expect(codecs(r.probe)).toEqual(['audio aac', 'video av1']);
    await expectMuxed(r.file, media.av1_1080, media.aac);
    expect(streamed(s.fake)).toEqual(['audio 0', 'video 1080 0']);
  });

  it('container webm: VP9 + Opus kept in WebM', async () => {
    const s = await setup();
    const r = await job(s, { quality: '1080', container: 'webm' });
    expect(r.format).toMatchObject({ height: 1080, videoCodec: 'vp09.00.50.08', container: 'webm' });
    expect(r.selection).toMatchObject({ audio: { audioCodec: 'opus' }, mux: 'webm' });
    expect(r.probe.format.format_name).toBe('matroska,webm');
    expect(codecs(r.probe)).toEqual(['audio opus', 'video vp9']);
    await expectMuxed(r.file, media.vp9_1080, media.opus);
    expect(streamed(s.fake)).toEqual(['audio 1', 'video 1080 1']);
  });

  it('audio as M4A: the AAC track, not the higher-bitrate Opus, saved as M4A audio', async () => {
    const s = await setup();
    const r = await job(s, { quality: 'audio', audioFormat: 'm4a' });
    expect(r.format).toMatchObject({ kind: 'audio', audioCodec: 'mp4a.40.2', bitrateKbps: 128, container: 'm4a' });
    expect(r.selection).toMatchObject({ audio: null, mux: 'mp4' });
    expect(r.probe.format.format_name).toContain('m4a');
    expect(codecs(r.probe)).toEqual(['audio aac']);
    await expectMuxed(r.file, null, media.aac);
    expect(streamed(s.fake)).toEqual(['audio 0']);
  });
});

describe('VidPickr errors, retries and rate limits', () => {
  it('honours Retry-After on 429 (with jitter) and then succeeds', async () => {
    const { provider, fake, sleeps } = await setup();
    fake.fault('info', { kind: 'rate_limited', retryAfter: 7 }, 2);
    await provider.resolve(WATCH);
    expect(sleeps).toEqual([7250, 7250]);
    expect(fake.requests.map((r) => r.status)).toEqual([429, 429, 200]);
    expect(fake.requests[0]!.headers['x-api-key']).toBe(VIDPICKR_TEST_KEY);
  });

  it('gives up on 429 after 5 retries with a VidPickr message', async () => {
    const { provider, fake, sleeps } = await setup();
    fake.fault('info', { kind: 'rate_limited', retryAfter: 2 }, 20);
    const err = await catchError(provider.resolve(WATCH));
    expect(err).toBeInstanceOf(VidPickrError);
    expect([err.code, err.apiCode, err.status]).toEqual(['rate_limited', 'rate_limited', 429]);
    expect(err.message).toMatch(/VidPickr's rate limit/);
    expect(sleeps).toHaveLength(5);
    expect(fake.requests).toHaveLength(6);
  });

  it('retries 502 exactly once after about 2 s; two in a row is a real failure', async () => {
    const once = await setup();
    once.fake.fault('info', { kind: 'upstream_failed' }, 1);
    await once.provider.resolve(WATCH);
    expect(once.sleeps).toEqual([2000]);

    const twice = await setup();
    twice.fake.fault('info', { kind: 'upstream_failed' }, 2);
    const err = await catchError(twice.provider.resolve(WATCH));
    expect([err.code, err.apiCode, err.status]).toEqual(['download_failed', 'upstream_failed', 502]);
    expect(err.message).toMatch(/could not get this video from YouTube/);
    expect(twice.fake.requests).toHaveLength(2);
  });

  it('502 on a stream is retried once too, and the download completes', async () => {
    const { provider, fake, sleeps } = await setup();
    const info = await provider.resolve(WATCH);
    fake.fault('stream', { kind: 'upstream_failed' }, 1);
    const t = target('stream502');
    await provider.download(info, { format: pickFormat(info.formats, '480'), subtitles: [] }, downloadContext({ target: t.target }));
    await expectMuxed(t.paths.media, media.h264_480, media.opus);
    expect(sleeps).toEqual([2000]);
  });

  it('maps 500 lookup_failed (after back-off) and non-JSON error bodies (http_<status>)', async () => {
    const a = await setup();
    a.fake.fault('info', { kind: 'lookup_failed' }, 10);
    const e500 = await catchError(a.provider.resolve(WATCH));
    expect([e500.apiCode, e500.status]).toEqual(['lookup_failed', 500]);
    expect(e500.message).toMatch(/internal error/);
    expect(a.sleeps).toEqual([1000, 4000, 16000]);

    const b = await setup();
    b.fake.fault('info', { kind: 'non_json', status: 418 });
    const e418 = await catchError(b.provider.resolve(WATCH));
    expect([e418.code, e418.apiCode, e418.status]).toEqual(['http_error', 'http_418', 418]);
    expect(e418.message).toContain("HTTP 418 I'm a teapot");

    const c = await setup();
    c.fake.fault('info', { kind: 'non_json', status: 503 }, 10);
    const e503 = await catchError(c.provider.resolve(WATCH));
    expect([e503.apiCode, e503.status]).toEqual(['http_503', 503]);
  });

  it('401 invalid_api_key and 402 plus_required, with the key masked', async () => {
    const bad = 'vpk_live_doesnotexist0123456789SECRET';
    const a = await setup({ key: bad });
    const e401 = await catchError(a.provider.resolve(WATCH));
    expect([e401.code, e401.apiCode, e401.status]).toEqual(['unauthorized', 'invalid_api_key', 401]);
    expect(e401.message).toContain('vpk_live_...CRET');
    expect(e401.message).not.toContain(bad);
    expect(JSON.stringify(e401.toJSON())).not.toContain(bad);

    const b = await setup({ key: VIDPICKR_FREE_KEY });
    const e402 = await catchError(b.provider.resolve(WATCH));
    expect([e402.code, e402.apiCode, e402.status]).toEqual(['forbidden', 'plus_required', 402]);
    expect(e402.message).toMatch(/no active Plus subscription/);
    expect(e402.message).not.toContain(VIDPICKR_FREE_KEY);
  });

  it('without a key nothing is sent; a server that gets none answers 401 missing_api_key', async () => {
    const { provider, fake } = await setup({ key: null });
    const err = await catchError(provider.resolve(WATCH));
    expect(err.code).toBe('unauthorized');
    expect(fake.requests).toHaveLength(0);
    const r = await raw(fake, `/v1/info?url=${encodeURIComponent(WATCH)}`, null);
    expect(r.status).toBe(401);
    expect(r.body).toEqual({ error: { code: 'missing_api_key', message: expect.any(String) } });
    expect(r.headers.get('x-ratelimit-remaining')).toBe('100');
    const mapped = vidpickrError(401, parseErrorBody(401, r.text), null);
    expect([mapped.code, mapped.apiCode]).toEqual(['unauthorized', 'missing_api_key']);
    expect(mapped.message).toMatch(/needs an API key/);
  });

  it('never sends the key to another origin or over plain http off this machine', async () => {
    const { fake } = await setup();
    const http = new HttpClient({ fetch: () => Promise.reject(new Error('must not be called')) });
    const remote = new VidPickrProvider({ apiKey: VIDPICKR_TEST_KEY, baseUrl: 'http://api.vidpickr.example/v1', http });
    const err = await catchError(remote.resolve(WATCH));
    expect(err.code).toBe('bad_input');
    expect(err.message).not.toContain(VIDPICKR_TEST_KEY);
    expect(fake.requests).toHaveLength(0);
    expect(new VidPickrProvider({ apiKey: 'k' }).baseUrl).toBe('https://api.vidpickr.com/v1');
  });

  it('maps 400 bad_request and the token errors; the fake answers each one as the contract says', async () => {
    const { fake } = await setup();
    const info = (await raw(fake, `/v1/info?url=${encodeURIComponent(WATCH)}`)).body;
    // The documented video has no resolution-level merge tokens: MergeOnly01 has nothing else.
    expect(info.resolutions.every((r: any) => r.download_token === undefined && r.video_only.length > 0)).toBe(true);
    const mergeInfo = (await raw(fake, `/v1/info?url=${encodeURIComponent(MERGE_ONLY)}`)).body;
    expect(mergeInfo.resolutions.every((r: any) => r.endpoint === 'merge' && r.video_only === undefined)).toBe(true);
    const merge = mergeInfo.resolutions[0].download_token as string;
    const video = info.resolutions[0].video_only[0].download_token as string;
    const sub = info.subtitles[0].download_token as string;
    const audio = info.audio_only[0].download_token as string;
    expect(merge.startsWith('v1.eyJ')).toBe(true);
    expect(video.startsWith('v1.eyJ')).toBe(true);
    expect(sub.startsWith('s1.')).toBe(true);
    expect(audio.startsWith('a1.')).toBe(true);

    const cases: Array<[string, number, string]> = [
      ['/v1/info', 400, 'missing required parameter: url'],
      [`/v1/info?url=${encodeURIComponent('https://vimeo.com/123')}`, 400, 'url must be a YouTube watch URL or youtu.be link'],
      [`/v1/stream?token=${sub}`, 400, 'token has no source'],
      [`/v1/split_token?token=${audio}`, 400, 'token is not a merge token'],
      [`/v1/split_token?token=${video}`, 400, 'token is not a merge token'],
      [`/v1/stream?token=${merge}`, 400, 'merge tokens cannot be streamed; exchange it at /v1/split_token'],
      [`/v1/stream?token=${merge.slice(0, -3)}xyz`, 400, 'invalid token'],
      [`/v1/stream?token=${fake.mintToken('v1', { E: 9e9, k: 'video', vid: 'dQw4w9WgXcQ', h: 480 }, { sign: false })}`, 400, 'invalid token'],
      [`/v1/subtitle?token=${sub}&format=ass`, 400, 'format must be srt, vtt or txt'],
    ];
    for (const [path, status, message] of cases) {
      const r = await raw(fake, path);
      expect([path, r.status, r.body]).toEqual([path, status, { error: { code: 'bad_request', message } }]);
      expect(r.headers.get('x-ratelimit-remaining')).not.toBeNull();
    }
    fake.clock.advance(600_000);
    const r = await raw(fake, `/v1/split_token?token=${merge}`);
    expect([r.status, r.body.error]).toEqual([400, { code: 'bad_request', message: 'token expired' }]);

    expect(vidpickrError(400, { code: 'bad_request', message: 'token expired' }, null).code).toBe('expired');
    expect(vidpickrError(400, { code: 'bad_request', message: 'token has no source' }, null).message).toMatch(/no media source/);
    expect(vidpickrError(400, { code: 'bad_request', message: 'missing url' }, null).message).toMatch(/malformed/);
    expect(parseErrorBody(502, '<html>')).toEqual({ code: 'http_502', message: 'HTTP 502 Bad Gateway' });
  });

  it('the fake enforces per-minute and per-hour limits per user (not per key), with Retry-After', async () => {
    const keys = [{ key: 'vpk_live_userA_key1_0123456789abcdef', user: 'a' }, { key: 'vpk_live_userA_key2_0123456789abcdef', user: 'a' }];
    const fake = await startVidPickrFake({ keys, limits: { info: { perMinute: 2, perHour: 3 } }, now: () => 3_600_000 * 100 });
    fakes.push(fake);
    const path = `/v1/info?url=${encodeURIComponent(WATCH)}`;
    const r1 = await raw(fake, path, keys[0]!.key);
    expect([r1.status, r1.headers.get('x-ratelimit-remaining')]).toEqual([200, '1']);
    const r2 = await raw(fake, path, keys[1]!.key);
    expect([r2.status, r2.headers.get('x-ratelimit-remaining')]).toEqual([200, '0']);
    const r3 = await raw(fake, path, keys[0]!.key);
    expect([r3.status, r3.body.error.code, r3.headers.get('retry-after'), r3.headers.get('x-ratelimit-remaining')]).toEqual([429, 'rate_limited', '60', '0']);
    expect(r3.body.error.message).toBe('too many requests, retry in 60s');
    fake.clock.advance(60_000);
    expect((await raw(fake, path, keys[1]!.key)).status).toBe(200);
    const r5 = await raw(fake, path, keys[0]!.key); // hour used up: 3 of 3
    expect(r5.status).toBe(429);
    expect(Number(r5.headers.get('retry-after'))).toBe(3540);
    // Endpoints count separately.
    expect((await raw(fake, `/v1/subtitle?token=x`, keys[0]!.key)).status).toBe(400);
  });

  it('checks a key with a cheap resolve', async () => {
    const { provider, fake } = await setup();
    const account = await provider.checkKey();
    expect(account.summary).toMatch(/Plus/);
    expect(account.details).toMatchObject({ key: 'vpk_live_...KEY1', plan: 'Plus', infoCallsLeftThisMinute: 99 });
    expect(fake.requests.map((r) => r.endpoint)).toEqual(['info']);
    const free = await setup({ key: VIDPICKR_FREE_KEY });
    expect((await catchError(free.provider.checkKey())).apiCode).toBe('plus_required');
    const bad = await setup({ key: 'vpk_live_nope_0123456789abcdefghij' });
    expect((await catchError(bad.provider.checkKey())).apiCode).toBe('invalid_api_key');
  });

  it('supports YouTube URLs only', () => {
    const p = new VidPickrProvider({ apiKey: 'k' });
    for (const u of [WATCH, MERGE_ONLY, 'https://m.youtube.com/watch?v=dQw4w9WgXcQ', 'https://www.youtube.com/shorts/abcdefghijk']) expect(p.supports(u)).toBe(true);
    for (const u of ['https://vimeo.com/123456', 'https://example.com/watch?v=dQw4w9WgXcQ']) expect(p.supports(u)).toBe(false);
  });

  it('the fake speaks https when given a certificate', async () => {
    const dir = mkdtempSync(join(tmp, 'tls-'));
    execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=api.vidpickr.com', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    const fake = await startVidPickrFake({ tls: { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert: readFileSync(join(dir, 'c.pem'), 'utf8') } });
    fakes.push(fake);
    expect(fake.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/v1$/);
    const status = await new Promise<number>((resolve, reject) => {
      httpsRequest(`${fake.baseUrl}/info?url=${encodeURIComponent(WATCH)}`, { headers: { 'X-API-Key': VIDPICKR_TEST_KEY }, rejectUnauthorized: false }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
      })
        .on('error', reject)
        .end();
    });
    expect(status).toBe(200);
  });
});
