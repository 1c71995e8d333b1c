/**
 * Contract tests of the Tornado client against its fake (providers.md section 3). Time is the
 * fake's clock: the injected sleep advances it, so polling and retries never really wait.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTornadoFake, TORNADO_MARKETPLACE_TOKEN, TORNADO_TEST_KEY, type TornadoFake, type TornadoFakeOptions } from '../../test/fakes/tornado-server';
import { ffprobeJson } from '../../test/fixtures/ffmpeg';
import { tornadoMedia, type TornadoMedia } from '../../test/fixtures/tornado-media';
import { VidmuxError } from '../errors';
import { NodeFileSink } from '../node/files';
import type { JobProgress } from '../progress';
import { downloadContext } from '../jobs/download-context';
import { pickFormat } from '../jobs/choose-format';
import { TornadoStorageSchema, type TornadoStorage } from '../schemas/tornado-storage';
import { isTornadoPlaylistUrl } from './coverage';
import { TornadoProvider } from './tornado';
import type { DownloadContext } from './types';

const VIDEO = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
const PRIVATE = 'https://www.youtube.com/watch?v=privateVid1';
const MEMBERS = 'https://www.youtube.com/watch?v=membersOnly';
const GEO = 'https://www.youtube.com/watch?v=geoBlocked01';
const FAILS = 'https://vimeo.com/123456789';
const SKIPPED = 'https://open.spotify.com/episode/drmEpisode01';
const SRT_SUBS = 'https://www.tiktok.com/@someone/video/7300000000000000001';
const PLAYLIST = 'https://www.youtube.com/playlist?list=PLfake0123456789';
const S3: TornadoStorage = {
  provider: 's3',
  endpoint: 'https://s3.us-east-1.amazonaws.com',
  bucket: 'my-videos',
  region: 'us-east-1',
  access_key: 'AKIAIOSFODNN7EXAMPLE',
  secret_key: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
};

const OUTCOMES: TornadoFakeOptions['outcomes'] = {
  [VIDEO]: { status: 'Completed', title: 'Never: "Gonna" / Give..You Up', durationSeconds: 2 },
  [PRIVATE]: { status: 'Warning', error: 'Private video. Sign in if you have been granted access' },
  [MEMBERS]: { status: 'Warning', error: 'Join this channel to get access to members-only content' },
  [GEO]: { status: 'Warning', error: 'The uploader has not made this video available in your country (geo restricted)' },
  [FAILS]: { status: 'Failed', error: 'ffmpeg exited with code 1 while muxing' },
  [SKIPPED]: { status: 'Skipped', error: 'Episode is DRM protected (audio only)' },
  [SRT_SUBS]: { status: 'Completed', subtitles: 'srt', height: 720 },
  [PLAYLIST]: { status: 'Completed', title: 'Fake playlist', playlist: [`${VIDEO}&x=1`, 'https://www.youtube.com/watch?v=plVideo0002', PRIVATE] },
};

let media: TornadoMedia;
let fake: TornadoFake;
const out = mkdtempSync(join(tmpdir(), 'vidmux-tornado-'));
const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
let fileNo = 0;

function target() {
  const base = join(out, `f${++fileNo}`);
  const made = { media: null as string | null, subtitle: null as string | null };
  return {
    made,
    target: {
      media: async () => new NodeFileSink((made.media = `${base}.bin`)),
      subtitle: async (f: { container: string }) => new NodeFileSink((made.subtitle = `${base}.${f.container}`)),
    },
  };
}

/** A client on `f`'s clock: every sleep advances the fake clock instead of waiting. */
function client(f: TornadoFake = fake, extra: Partial<ConstructorParameters<typeof TornadoProvider>[0]> = {}) {
  const sleeps: number[] = [];
  const sleep = async (ms: number, signal?: AbortSignal) => {
    if (signal?.aborted) throw new VidmuxError('cancelled', 'Cancelled.');
    sleeps.push(ms);
    f.clock.advance(ms);
    await new Promise((r) => setImmediate(r));
  };
  const provider = new TornadoProvider({ apiKey: TORNADO_TEST_KEY, baseUrl: f.baseUrl, now: () => f.clock.now(), sleep, ...extra });
  return { provider, sleeps };
}

/** Requests the fake saw from now on. */
function watch(f: TornadoFake = fake) {
  const from = f.requests.length;
  return () => f.requests.slice(from);
}

async function rejection(p: Promise<unknown>): Promise<VidmuxError> {
  try {
    await p;
  } catch (err) {
    expect(err).toBeInstanceOf(VidmuxError);
    return err as VidmuxError;
  }
  throw new Error('expected a rejection');
}

async function resolveAndDownload(url: string, quality: Parameters<typeof pickFormat>[1], opts: { subtitles?: boolean; provider?: TornadoProvider; ctx?: Partial<DownloadContext> } = {}) {
  const provider = opts.provider ?? client().provider;
  const info = await provider.resolve(url);
  const t = target();
  const progress: JobProgress[] = [];
  const result = await provider.download(
    info,
    { format: pickFormat(info.formats, quality), subtitles: opts.subtitles ? info.subtitles : [] },
    downloadContext({ target: t.target, onProgress: (p) => progress.push(p), ...opts.ctx }),
  );
  return { info, result, made: t.made, progress };
}

beforeAll(async () => {
  media = await tornadoMedia();
  fake = await startTornadoFake({ media, outcomes: OUTCOMES });
});
afterAll(() => fake?.close());

describe('TornadoProvider: sites and resolve', () => {
  it('supports the sites Tornado handles, playlists included, and nothing else', () => {
    const { provider } = client();
    for (const url of [
      VIDEO,
      'https://youtu.be/dQw4w9WgXcQ',
      'https://www.youtube.com/shorts/abcdefghijk',
      PLAYLIST,
      'https://www.tiktok.com/@user/video/123',
      'https://vimeo.com/76979871',
      'https://x.com/someone/status/1234567890',
      'https://twitter.com/someone/status/1234567890',
      'https://www.instagram.com/reel/Cabcdef/',
      'https://open.spotify.com/show/abc',
      'https://open.spotify.com/episode/abc',
    ]) {
      expect(provider.supports(url), url).toBe(true);
    }
    expect(provider.supports('https://example.com/video.mp4')).toBe(false);
    expect(provider.supports('https://x.com/someone')).toBe(false);
  });

  it('resolves via POST /metadata (key sent, unknown fields tolerated) into file formats per max_resolution, audio and subtitles', async () => {
    const seen = watch();
    const { provider } = client();
    const info = await provider.resolve(VIDEO);
    expect(info).toMatchObject({ provider: 'tornado', url: VIDEO, title: 'Never: "Gonna" / Give..You Up', durationSeconds: 2 });
    expect(info.thumbnail).toMatch(/^http/);
    const req = seen().find((r) => r.path === '/metadata')!;
    expect(req.method).toBe('POST');
    expect(req.headers['x-api-key']).toBe(TORNADO_TEST_KEY);
    expect(JSON.parse(req.body)).toEqual({ url: VIDEO });
    const video = info.formats.filter((f) => f.kind === 'video+audio');
    expect(video.map((f) => f.height)).toEqual([1080, 720, 480, 360]);
    expect(video.every((f) => f.delivery === 'file' && f.container === 'mp4' && f.provider === 'tornado')).toBe(true);
    expect(video[0]!.label).toBe('Best (1080p) · MP4');
    expect(video[0]!.approxBytes).toBe(readFileSync(media.video[1080]).length);
    expect(info.formats.filter((f) => f.kind === 'audio').map((f) => f.container)).toEqual(['m4a', 'mp3']);
    expect(info.subtitles).toHaveLength(1);
    expect(pickFormat(info.formats, '2160').height).toBe(1080);
    expect(pickFormat(info.formats, '720').height).toBe(720);
    expect(pickFormat(info.formats, 'audio').container).toBe('m4a');
  });

  it('maps a metadata failure to a message and rejects unsupported URLs without a request', async () => {
    const f = await startTornadoFake({ media, outcomes: { [PRIVATE]: { status: 'Warning', metadataError: { status: 400, error: 'Video unavailable: private video' } } } });
    try {
      const e = await rejection(client(f).provider.resolve(PRIVATE));
      expect(e).toMatchObject({ code: 'bad_input', status: 400, provider: 'tornado' });
      expect(e.message).toContain('Video unavailable: private video');
      const seen = watch(f);
      expect((await rejection(client(f).provider.resolve('https://example.com/a.mp4'))).code).toBe('unsupported');
      expect(seen()).toHaveLength(0);
    } finally {
      await f.close();
    }
  });
});

describe('TornadoProvider: download', () => {
  it('submits with an idempotency key, polls every 2 s through every status, and fetches s3_url without the key', async () => {
    const seen = watch();
    const { result, made, progress, info } = await resolveAndDownload(VIDEO, 'best');
    expect(made.media).not.toBeNull();
    expect(result.bytes).toBe(readFileSync(media.video[1080]).length);
    expect(sha256(made.media!)).toBe(sha256(media.video[1080]));
    const probe = await ffprobeJson(made.media!);
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name).sort()).toEqual(['aac', 'h264']);
    expect(probe.streams.find((s: { codec_type: string }) => s.codec_type === 'video').height).toBe(1080);

    const reqs = seen();
    const posts = reqs.filter((r) => r.method === 'POST' && r.path === '/jobs');
    expect(posts).toHaveLength(1);
    expect(posts[0]!.status).toBe(201);
    expect(posts[0]!.headers['x-idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    // The SDK's way: false and null fields are left out.
    expect(JSON.parse(posts[0]!.body)).toEqual({ url: VIDEO, format: 'mp4', max_resolution: 'best', filename: "Never - 'Gonna' - Give.You Up" });
    const polls = reqs.filter((r) => r.method === 'GET' && r.path.startsWith('/jobs/'));
    expect(polls[0]!.status).toBe(404); // replication lag, tolerated
    expect(polls.length).toBeGreaterThanOrEqual(6);
    const s3 = reqs.filter((r) => r.server === 's3');
    expect(s3.length).toBeGreaterThan(0);
    for (const r of s3) {
      expect(r.headers['x-api-key']).toBeUndefined();
      expect(r.headers.authorization).toBeUndefined();
      expect(JSON.stringify(r.headers)).not.toContain(TORNADO_TEST_KEY);
    }
    expect(new URL(fake.s3BaseUrl).origin).not.toBe(new URL(fake.baseUrl).origin);
    for (const r of reqs.filter((x) => x.server === 'api')) expect(r.headers['x-api-key']).toBe(TORNADO_TEST_KEY);
    // Progress: resolving while Tornado works, then downloading, one shape throughout.
    const stages = progress.map((p) => p.stage);
    expect(stages[0]).toBe('resolving');
    expect(stages.at(-1)).toBe('downloading');
    expect(stages.indexOf('downloading')).toBeGreaterThan(stages.lastIndexOf('resolving'));
    expect(progress.at(-1)!.overall.bytesDone).toBe(result.bytes);
    expect(info.title).toContain('Gonna');
  });

  it('polls exactly every 2 s on the injected clock', async () => {
    const { provider, sleeps } = client();
    const info = await provider.resolve(VIDEO);
    await provider.download(info, { format: pickFormat(info.formats, '360'), subtitles: [] }, downloadContext({ target: target().target }));
    expect(sleeps.length).toBeGreaterThanOrEqual(5);
    expect(new Set(sleeps)).toEqual(new Set([2000]));
  });

  it('caps the resolution, saves the subtitles beside the video (VTT, and SRT where the site has SRT)', async () => {
    const a = await resolveAndDownload(VIDEO, '480', { subtitles: true });
    expect(sha256(a.made.media!)).toBe(sha256(media.video[480]));
    expect(a.result.subtitles).toHaveLength(1);
    expect(a.result.subtitles[0]!.format.container).toBe('vtt');
    expect(a.made.subtitle).toMatch(/\.vtt$/);
    expect(sha256(a.made.subtitle!)).toBe(sha256(media.vtt));
    expect(readFileSync(a.made.subtitle!, 'utf8')).toMatch(/^WEBVTT/);
    const probe = await ffprobeJson(a.made.subtitle!);
    expect(probe.streams[0].codec_name).toBe('webvtt');

    const b = await resolveAndDownload(SRT_SUBS, 'best', { subtitles: true });
    expect(sha256(b.made.media!)).toBe(sha256(media.video[720]));
    expect(b.made.subtitle).toMatch(/\.srt$/);
    expect(sha256(b.made.subtitle!)).toBe(sha256(media.srt));
  });

  it('downloads audio only as M4A (AAC) and MP3', async () => {
    const { provider } = client();
    const info = await provider.resolve(VIDEO);
    for (const [container, codec, file] of [['m4a', 'aac', media.m4a], ['mp3', 'mp3', media.mp3]] as const) {
      const seen = watch();
      const t = target();
      const format = info.formats.find((f) => f.kind === 'audio' && f.container === container)!;
      await provider.download(info, { format, subtitles: [] }, downloadContext({ target: t.target }));
      expect(sha256(t.made.media!)).toBe(sha256(file));
      expect((await ffprobeJson(t.made.media!)).streams[0].codec_name).toBe(codec);
      const body = JSON.parse(seen().find((r) => r.method === 'POST' && r.path === '/jobs')!.body);
      expect(body).toMatchObject({ format: container, audio_only: true });
      expect(body).not.toHaveProperty('max_resolution');
    }
  });

  it('a submit whose response is lost is retried with the same idempotency key: one job, cached:true', async () => {
    fake.switches.dropJobResponses = 1;
    const before = fake.jobs.size;
    const seen = watch();
    const { result, made } = await resolveAndDownload(VIDEO, '720');
    expect(sha256(made.media!)).toBe(sha256(media.video[720]));
    expect(result.bytes).toBeGreaterThan(0);
    const posts = seen().filter((r) => r.method === 'POST' && r.path === '/jobs');
    expect(posts).toHaveLength(2);
    expect(posts[0]!.headers['x-idempotency-key']).toBe(posts[1]!.headers['x-idempotency-key']);
    expect(posts[0]!.status).toBe(0); // connection dropped after the job was made
    expect(fake.jobs.size).toBe(before + 1);
  });

  it('a fresh download gets a fresh idempotency key', async () => {
    const seen = watch();
    await resolveAndDownload(VIDEO, '360');
    await resolveAndDownload(VIDEO, '360');
    const keys = seen().filter((r) => r.method === 'POST' && r.path === '/jobs').map((r) => r.headers['x-idempotency-key']);
    expect(keys).toHaveLength(2);
    expect(keys[0]).not.toBe(keys[1]);
  });

  it('renews an expired s3_url by fetching the job again', async () => {
    const seen = watch();
    let advanced = false;
    const { made } = await resolveAndDownload(VIDEO, '360', {
      ctx: {
        onProgress: (p) => {
          if (p.stage === 'downloading' && !advanced) {
            advanced = true;
            fake.clock.advance(25 * 3600_000); // the presigned link is valid 24 h
          }
        },
      },
    });
    expect(sha256(made.media!)).toBe(sha256(media.video[360]));
    const s3 = seen().filter((r) => r.server === 's3');
    expect(s3[0]!.status).toBe(403);
    expect(s3.at(-1)!.status).toBeLessThan(300);
  });

  it.each([
    [PRIVATE, 'forbidden', /because it is private \(Private video/],
    [MEMBERS, 'forbidden', /because it is for channel members only/],
    [GEO, 'forbidden', /blocked in the country/],
    [FAILS, 'download_failed', /could not download this video: ffmpeg exited/],
    [SKIPPED, 'unsupported', /skipped this item: Episode is DRM protected/],
  ])('%s ends with its own message', async (url, code, message) => {
    const e = await rejection(resolveAndDownload(url, 'best'));
    expect(e.code).toBe(code);
    expect(e.message).toMatch(message);
    expect(e.provider).toBe('tornado');
  });

  it('gives up when the job stays 404 for more than 30 s after creation, and tolerates shorter lags', async () => {
    const slow = await startTornadoFake({ media, timings: { replicationLagMs: 20_000 } });
    const lost = await startTornadoFake({ media, timings: { replicationLagMs: 10 * 60_000 } });
    try {
      const ok = await resolveAndDownload(VIDEO, '360', { provider: client(slow).provider });
      expect(sha256(ok.made.media!)).toBe(sha256(media.video[360]));
      const { provider } = client(lost);
      const seen = watch(lost);
      const e = await rejection(provider.download(await provider.resolve(VIDEO), { format: (await provider.resolve(VIDEO)).formats[0]!, subtitles: [] }, downloadContext({ target: target().target })));
      expect(e).toMatchObject({ code: 'not_found', status: 404 });
      const polls = seen().filter((r) => r.method === 'GET' && r.path.startsWith('/jobs/'));
      expect(polls.length).toBeGreaterThanOrEqual(15);
      expect(polls.length).toBeLessThanOrEqual(17);
    } finally {
      await slow.close();
      await lost.close();
    }
  });
});

describe('TornadoProvider: cancel', () => {
  async function cancelWhileQueued(beforeAbort: () => void) {
    const { provider } = client();
    const info = await provider.resolve(VIDEO);
    const ctrl = new AbortController();
    let polled = 0;
    const t = target();
    const seen = watch();
    const e = await rejection(
      provider.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({
        target: t.target,
        signal: ctrl.signal,
        onProgress: (p) => {
          if (p.stage === 'resolving' && ++polled === 2) {
            beforeAbort();
            ctrl.abort();
          }
        },
      })),
    );
    return { e, reqs: seen(), made: t.made };
  }

  it('DELETEs a job the user cancels while it is queued; the job becomes Failed with step Cancelled', async () => {
    const { e, reqs, made } = await cancelWhileQueued(() => {});
    expect(e.code).toBe('cancelled');
    expect(e.message).toContain('was cancelled too');
    const del = reqs.find((r) => r.method === 'DELETE')!;
    expect(del.status).toBe(200);
    expect(del.headers['x-api-key']).toBe(TORNADO_TEST_KEY);
    expect(made.media).toBeNull();
    const id = del.path.split('/').pop()!;
    expect(fake.job(id)).toMatchObject({ status: 'Failed', step: 'Cancelled' });
    // The list shows the stored state; the job cache still says Pending (contract 3.2).
    const list = (await (await fetch(`${fake.baseUrl}/jobs?limit=100`, { headers: { 'x-api-key': TORNADO_TEST_KEY } })).json()) as { jobs: Array<{ id: string; status: string; step: string }> };
    expect(list.jobs.find((j) => j.id === id)).toMatchObject({ status: 'Failed', step: 'Cancelled' });
    const { provider } = client();
    expect(await provider.getJob(id)).toMatchObject({ status: 'Pending' });
    // Cancelling it again: no longer queued.
    expect(await provider.cancelJob(id)).toBe(false);
  });

  it('handles 400 "not in queue or already processing" when the job started meanwhile', async () => {
    const { e, reqs } = await cancelWhileQueued(() => fake.clock.advance(5000));
    expect(e.code).toBe('cancelled');
    expect(e.message).toContain('already started the job');
    const del = reqs.find((r) => r.method === 'DELETE')!;
    expect(del.status).toBe(400);
  });

  it('a job cancelled elsewhere ends as cancelled', async () => {
    const f = await startTornadoFake({ media, timings: { cancelCacheMs: 0 } });
    try {
      let cancelled = false;
      const sleep = async (ms: number) => {
        const id = [...f.jobs.keys()][0];
        if (id && !cancelled) {
          cancelled = true;
          expect((await fetch(`${f.baseUrl}/jobs/${id}`, { method: 'DELETE', headers: { 'x-api-key': TORNADO_TEST_KEY } })).status).toBe(200);
        }
        f.clock.advance(ms);
      };
      const provider = new TornadoProvider({ apiKey: TORNADO_TEST_KEY, baseUrl: f.baseUrl, now: () => f.clock.now(), sleep });
      const info = await provider.resolve(VIDEO);
      const e = await rejection(provider.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: target().target })));
      expect(e.code).toBe('cancelled');
      expect(e.message).toMatch(/job was cancelled/);
    } finally {
      await f.close();
    }
  });
});

describe('TornadoProvider: playlists', () => {
  it('a playlist expands into one entry per video job; downloadEntry fetches each', async () => {
    const { provider } = client();
    const info = await provider.resolve(PLAYLIST);
    expect(isTornadoPlaylistUrl(info.url)).toBe(true);
    expect(info.title).toBe('Fake playlist');
    expect((await rejection(provider.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: target().target })))).code).toBe('bad_input');

    const seen = watch();
    const wish = { quality: '480' as const, audioFormat: 'm4a' as const, subtitles: false };
    const entries = (await provider.expand(PLAYLIST, wish))!;
    const post = seen().find((r) => r.method === 'POST' && r.path === '/jobs')!;
    expect(post.headers['x-idempotency-key']).toBeTruthy();
    expect(JSON.parse(post.body)).toMatchObject({ url: PLAYLIST, max_resolution: '480' });
    expect(entries.map((e) => [e.provider, e.index, e.total])).toEqual([
      ['tornado', 0, 3],
      ['tornado', 1, 3],
      ['tornado', 2, 3],
    ]);
    expect(new Set(entries.map((e) => e.ref)).size).toBe(3);

    const [first, second, third] = entries;
    const t1 = target();
    await provider.downloadEntry(first!, wish, downloadContext({ target: t1.target }));
    expect(sha256(t1.made.media!)).toBe(sha256(media.video[480]));
    const t2 = target();
    await provider.downloadEntry(second!, wish, downloadContext({ target: t2.target }));
    expect(sha256(t2.made.media!)).toBe(sha256(media.video[480]));
    const e = await rejection(provider.downloadEntry(third!, wish, downloadContext({ target: target().target })));
    expect(e.message).toMatch(/private/);
  });

  it('a URL that is not a playlist is not expanded, and nothing is submitted', async () => {
    const { provider } = client();
    const seen = watch();
    expect(await provider.expand(VIDEO, { quality: 'best', audioFormat: 'm4a', subtitles: false })).toBeNull();
    expect(seen().filter((r) => r.method === 'POST')).toEqual([]);
  });
});

describe('TornadoProvider: custom storage', () => {
  it('sends storage inline; the file stays in the bucket: remoteLocation, no download', async () => {
    const seen = watch();
    const { provider } = client(fake, { storage: S3, folder: 'vidmux' });
    const info = await provider.resolve(VIDEO);
    const t = target();
    const result = await provider.download(info, { format: pickFormat(info.formats, '720'), subtitles: info.subtitles }, downloadContext({ target: t.target }));
    const post = seen().find((r) => r.method === 'POST' && r.path === '/jobs')!;
    expect(JSON.parse(post.body)).toMatchObject({ storage: S3, folder: 'vidmux', download_subtitles: true });
    const key = `videos/vidmux/Never - 'Gonna' - Give.You Up.mp4`;
    expect(result.remoteLocation).toBe(`s3://my-videos/${key} (https://s3.us-east-1.amazonaws.com)`);
    expect(t.made.media).toBeNull();
    expect(result.subtitles).toEqual([]);
    expect(seen().filter((r) => r.server === 's3')).toHaveLength(0);
    const uploads = fake.uploads.filter((u) => u.bucket === 'my-videos' && u.key === key);
    expect(uploads).toHaveLength(1);
    expect(uploads[0]!.sha256).toBe(sha256(media.video[720]));
    expect(fake.uploads.some((u) => u.key.endsWith('.vtt'))).toBe(true);
  });

  it.each([
    [{ provider: 'blob', account_name: 'acct', container: 'vids', sas_token: 'sv=2024&sig=abc' }, 'https://acct.blob.core.windows.net/vids/videos/'],
    [{ provider: 'gcs', project_id: 'p', bucket: 'gbucket', service_account_json: '{"type":"service_account"}', base_folder: 'media' }, 'gs://gbucket/media/'],
    [{ provider: 'oss', endpoint: 'https://oss-cn-hangzhou.aliyuncs.com', bucket: 'obucket', access_key_id: 'id', access_key_secret: 'secret', folder_prefix: 'team' }, 'oss://obucket/team/videos/'],
  ] as Array<[TornadoStorage, string]>)('%o: remoteLocation names the bucket and key', async (storage, prefix) => {
    const { provider } = client(fake, { storage });
    const info = await provider.resolve(VIDEO);
    const r = await provider.download(info, { format: pickFormat(info.formats, '360'), subtitles: [] }, downloadContext({ target: target().target }));
    expect(r.remoteLocation?.startsWith(prefix)).toBe(true);
  });

  it('validates storage with the exported schema (blob: key XOR SAS token; GCS JSON; all fields)', () => {
    expect(TornadoStorageSchema.safeParse(S3).success).toBe(true);
    expect(TornadoStorageSchema.safeParse({ ...S3, region: '' }).success).toBe(false);
    expect(TornadoStorageSchema.safeParse({ provider: 's3', bucket: 'b' }).success).toBe(false);
    const blob = { provider: 'blob', account_name: 'a', container: 'c' };
    expect(TornadoStorageSchema.safeParse(blob).success).toBe(false);
    expect(TornadoStorageSchema.safeParse({ ...blob, account_key: 'k', sas_token: 's' }).success).toBe(false);
    expect(TornadoStorageSchema.safeParse({ ...blob, account_key: 'k' }).success).toBe(true);
    expect(TornadoStorageSchema.safeParse({ provider: 'gcs', project_id: 'p', bucket: 'b', service_account_json: 'not json' }).success).toBe(false);
    expect(TornadoStorageSchema.safeParse({ provider: 'oss', endpoint: 'e', bucket: 'b', access_key_id: 'i', access_key_secret: 's', base_folder: '../up' }).success).toBe(false);
    expect(TornadoStorageSchema.safeParse({ provider: 'ftp', host: 'x' }).success).toBe(false);
    expect(() => new TornadoProvider({ apiKey: TORNADO_TEST_KEY, storage: blob as TornadoStorage })).toThrow(/storage settings/);
  });

  it('marketplace tokens go as Bearer and must bring storage', async () => {
    const seen = watch();
    const market = client(fake, { apiKey: TORNADO_MARKETPLACE_TOKEN }).provider;
    expect(market.isMarketplaceKey).toBe(true);
    const info = await market.resolve(VIDEO);
    const e = await rejection(market.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: target().target })));
    expect(e.code).toBe('bad_input');
    expect(e.message).toMatch(/own storage/);
    const withStorage = client(fake, { apiKey: TORNADO_MARKETPLACE_TOKEN, storage: S3 }).provider;
    const r = await withStorage.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: target().target }));
    expect(r.remoteLocation).toMatch(/^s3:\/\/my-videos\//);
    for (const req of seen().filter((x) => x.server === 'api')) {
      expect(req.headers.authorization).toBe(`Bearer ${TORNADO_MARKETPLACE_TOKEN}`);
      expect(req.headers['x-api-key']).toBeUndefined();
    }
  });
});

describe('TornadoProvider: key check and errors', () => {
  it('checkKey reads GET /usage into a summary with the quota', async () => {
    const f = await startTornadoFake({ media, limits: { storageLimitGb: 10, maxResolutionLimit: '720' } });
    try {
      const { provider } = client(f);
      const info = await provider.resolve(VIDEO);
      const t = target();
      await provider.download(info, { format: pickFormat(info.formats, 'best'), subtitles: [] }, downloadContext({ target: t.target }));
      // The plan's max_resolution_limit caps what the job delivers.
      expect(sha256(t.made.media!)).toBe(sha256(media.video[720]));
      const account = await provider.checkKey();
      expect(account.summary).toMatch(/^Vidmux tests: 1 job, 0 GB of 10 GB storage used, up to 720p$/);
      expect(account.details).toMatchObject({ usage_count: 1, storage_limit_gb: 10, max_resolution_limit: '720', auth: 'direct', key: 'sk_test_...a9b8' });
      const req = f.requests.find((r) => r.path === '/usage')!;
      expect(req.headers['x-api-key']).toBe(TORNADO_TEST_KEY);
    } finally {
      await f.close();
    }
  });

  it('401: a wrong key is reported masked, never in full', async () => {
    const bad = 'sk_live_ZZZZ1111yyyy2222xxxx3333wwww4444';
    const p = client(fake, { apiKey: bad }).provider;
    for (const call of [() => p.checkKey(), () => p.resolve(VIDEO), () => p.getJob('550e8400-e29b-41d4-a716-446655440000')]) {
      const e = await rejection(call());
      expect(e).toMatchObject({ code: 'unauthorized', status: 401 });
      expect(e.message).toContain('sk_live_...4444');
      expect(e.message).not.toContain(bad);
      expect(JSON.stringify(e.toJSON())).not.toContain(bad);
    }
    const none = await rejection(new TornadoProvider({ apiKey: null, baseUrl: fake.baseUrl }).checkKey());
    expect(none.code).toBe('unauthorized');
  });

  it('the key only goes to the API origin over https (loopback excepted)', async () => {
    expect(() => new TornadoProvider({ apiKey: TORNADO_TEST_KEY, baseUrl: 'http://api.tornadoapi.io' })).toThrow(/https/);
    expect(new TornadoProvider({ apiKey: TORNADO_TEST_KEY }).baseUrl).toBe('https://api.tornadoapi.io');
  });

  it('400 for a non-UUID job id, 404 (literal null body) for an unknown one or another key’s', async () => {
    const { provider } = client();
    const e400 = await rejection(provider.getJob('not-a-uuid'));
    expect(e400).toMatchObject({ code: 'bad_input', status: 400 });
    expect(e400.message).toContain('Invalid job ID format');
    const e404 = await rejection(provider.getJob('550e8400-e29b-41d4-a716-446655440000'));
    expect(e404).toMatchObject({ code: 'not_found', status: 404 });
    // Another key's job is not found either.
    const f = await startTornadoFake({ media, keys: [TORNADO_TEST_KEY, 'sk_other_000011112222333344445555'], timings: { replicationLagMs: 0 } });
    try {
      const [mine] = (await client(f).provider.expand(PLAYLIST, { quality: 'best', audioFormat: 'm4a', subtitles: false }))!;
      const other = client(f, { apiKey: 'sk_other_000011112222333344445555' }).provider;
      expect((await rejection(other.getJob(mine!.ref))).code).toBe('not_found');
      expect((await rejection(other.cancelJob(mine!.ref))).code).toBe('not_found');
    } finally {
      await f.close();
    }
  });

  it('403 and 422 bodies are read and shown', async () => {
    const { provider } = client();
    fake.switches.fail = { count: 1, status: 403, body: '{"error":"Monthly quota exceeded"}' };
    const e403 = await rejection(provider.checkKey());
    expect(e403).toMatchObject({ code: 'forbidden', status: 403 });
    expect(e403.message).toContain('Monthly quota exceeded');
    fake.switches.fail = { count: 1, status: 422, body: 'Failed to deserialize the JSON body into the target type: video_quality: invalid value' };
    const e422 = await rejection(provider.resolve(VIDEO));
    expect(e422).toMatchObject({ code: 'bad_input', status: 422 });
    expect(e422.message).toContain('video_quality: invalid value');
    fake.switches.fail = null;
  });

  it('429: waits Retry-After (plus jitter) and goes on; refuses after repeated 429s with a clear message', async () => {
    const { provider, sleeps } = client();
    fake.switches.rateLimit = { count: 2, retryAfter: 3 };
    const account = await provider.checkKey();
    expect(account.summary).toContain('jobs');
    expect(sleeps.filter((s) => s >= 3000 && s < 3500)).toHaveLength(2);
    fake.switches.rateLimit = { count: 50, retryAfter: 1 };
    const e = await rejection(provider.checkKey());
    fake.switches.rateLimit = null;
    expect(e).toMatchObject({ code: 'rate_limited', status: 429 });
    expect(e.message).toMatch(/Tornado is at capacity/);
  });

  it('500 and 504: retried, then mapped to messages; a single 500 on submit is retried without a second job', async () => {
    const { provider } = client();
    fake.switches.fail = { count: 10, status: 500 };
    const e500 = await rejection(provider.checkKey());
    expect(e500).toMatchObject({ code: 'http_error', status: 500 });
    expect(e500.message).toMatch(/internal error \(500\)/);
    fake.switches.fail = { count: 10, status: 504 };
    const e504 = await rejection(provider.checkKey());
    expect(e504).toMatchObject({ code: 'timeout', status: 504 });
    expect(e504.message).toMatch(/timed out \(504\)/);
    fake.switches.fail = { count: 1, status: 500, path: /^\/jobs$/ };
    const seen = watch();
    const before = fake.jobs.size;
    await resolveAndDownload(VIDEO, '360', { provider });
    expect(fake.jobs.size).toBe(before + 1);
    const posts = seen().filter((r) => r.method === 'POST' && r.path === '/jobs');
    expect(posts.map((p) => p.status)).toEqual([500, 201]);
    fake.switches.fail = null;
  });

  it('answers that do not match the contract are reported, not trusted', async () => {
    const f = await startTornadoFake({ media });
    try {
      f.switches.fail = { count: 1, status: 200, body: '{"client_name":"x"}', path: /^\/usage$/ };
      const e = await rejection(client(f).provider.checkKey());
      expect(e.code).toBe('bad_response');
      expect(e.message).toMatch(/usage_count/);
    } finally {
      await f.close();
    }
  });
});

describe('Tornado fake: contract details', () => {
  const api = (path: string, init: RequestInit & { key?: string | null } = {}) =>
    fetch(`${fake.baseUrl}${path}`, {
      ...init,
      headers: { 'content-type': 'application/json', ...(init.key === null ? {} : { 'x-api-key': init.key ?? TORNADO_TEST_KEY }), ...(init.headers as Record<string, string>) },
    });
  const post = (body: unknown, headers: Record<string, string> = {}, key?: string) => api('/jobs', { method: 'POST', body: JSON.stringify(body), headers, ...(key ? { key } : {}) });

  it('GET /jobs/{id} answers 401 with a literal null body; other endpoints with {error}', async () => {
    const r = await api('/jobs/550e8400-e29b-41d4-a716-446655440000', { key: null });
    expect(r.status).toBe(401);
    expect(await r.text()).toBe('null');
    const u = await api('/usage', { key: 'sk_wrong' });
    expect(u.status).toBe(401);
    expect(await u.json()).toEqual({ error: 'Invalid API Key' });
  });

  it('validates POST /jobs: filename and folder rules (400), types and storage fields (422), marketplace storage', async () => {
    const ok = { url: VIDEO };
    expect((await post({ ...ok, filename: 'a..b' })).status).toBe(400);
    expect((await post({ ...ok, filename: 'a/b' })).status).toBe(400);
    expect((await post({ ...ok, filename: 'x'.repeat(256) })).status).toBe(400);
    expect((await post({ ...ok, folder: '/abs' })).status).toBe(400);
    expect((await post({ ...ok, folder: '   ' })).status).toBe(400);
    expect((await post({ ...ok, folder: 'x'.repeat(201) })).status).toBe(400);
    expect((await post({ url: 'not a url' })).status).toBe(400);
    const typeErr = await post({ ...ok, audio_only: 'yes' });
    expect(typeErr.status).toBe(422);
    expect(await typeErr.text()).toMatch(/^Failed to deserialize/);
    expect((await post({ ...ok, video_quality: 300 })).status).toBe(422);
    expect((await post({})).status).toBe(422);
    expect((await post({ ...ok, storage: { provider: 's3', bucket: 'b' } })).status).toBe(422);
    expect((await post({ ...ok, storage: { provider: 'blob', account_name: 'a', container: 'c', account_key: 'k', sas_token: 's' } })).status).toBe(400);
    expect((await post({ ...ok, storage: { provider: 'ftp' } })).status).toBe(422);
    const m = await post(ok, { authorization: `Bearer ${TORNADO_MARKETPLACE_TOKEN}` }, 'none');
    expect(m.status).toBe(400);
    const user = await fetch(`${fake.baseUrl}/user/s3`, { headers: { authorization: `Bearer ${TORNADO_MARKETPLACE_TOKEN}` } });
    expect(user.status).toBe(403);
    expect((await fetch(`${fake.baseUrl}/user/s3`, { headers: { 'x-api-key': TORNADO_TEST_KEY } })).status).toBe(200);
  });

  it('replays an idempotency key with the same job_id and cached:true (201)', async () => {
    const a = await post({ url: VIDEO }, { 'x-idempotency-key': 'idem-1' });
    const b = await post({ url: VIDEO }, { 'x-idempotency-key': 'idem-1' });
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    const ja = (await a.json()) as { job_id: string; cached?: boolean };
    const jb = (await b.json()) as { job_id: string; cached?: boolean };
    expect(jb).toEqual({ job_id: ja.job_id, cached: true });
    expect(ja.cached).toBeUndefined();
  });

  it('GET /jobs: limit clamped to 100, lowercase status filter only, total ignores the filter, no presigned URLs', async () => {
    const all = (await (await api('/jobs?limit=1000')).json()) as { jobs: Array<Record<string, unknown>>; total: number };
    expect(all.jobs.length).toBeLessThanOrEqual(100);
    expect(all.total).toBeGreaterThan(5);
    const completed = (await (await api('/jobs?status=completed&limit=100')).json()) as typeof all;
    expect(completed.jobs.every((j) => j.status === 'Completed')).toBe(true);
    expect(completed.total).toBe(all.total);
    expect(completed.jobs[0]).toHaveProperty('s3_key');
    expect(completed.jobs[0]).not.toHaveProperty('s3_url');
    const ignored = (await (await api('/jobs?status=Completed&limit=100')).json()) as typeof all;
    expect(ignored.jobs.length).toBe(Math.min(100, all.total));
    expect(((await (await api('/jobs')).json()) as typeof all).jobs.length).toBe(Math.min(20, all.total));
  });

  it('presigned s3_url: no key needed, valid 24 h on the fake clock, forged or expired -> 403', async () => {
    const { job_id } = (await (await post({ url: VIDEO, max_resolution: '360' })).json()) as { job_id: string };
    fake.clock.advance(60_000);
    const job = (await (await api(`/jobs/${job_id}`)).json()) as { status: string; s3_url: string };
    expect(job.status).toBe('Completed');
    expect(new URL(job.s3_url).origin).toBe(fake.s3BaseUrl);
    const ok = await fetch(job.s3_url, { headers: { range: 'bytes=0-9' } });
    expect(ok.status).toBe(206);
    await ok.arrayBuffer();
    const forgedUrl = job.s3_url.replace(/X-Amz-Signature=[0-9a-f]{4}/, 'X-Amz-Signature=zzzz');
    expect(forgedUrl).not.toBe(job.s3_url);
    const forged = await fetch(forgedUrl);
    expect(forged.status).toBe(403);
    await forged.arrayBuffer();
    fake.clock.advance(24 * 3600_000 + 1000);
    const expired = await fetch(job.s3_url);
    expect(expired.status).toBe(403);
    expect(await expired.text()).toContain('Request has expired');
    // A fresh fetch of the job gives a fresh link.
    const again = (await (await api(`/jobs/${job_id}`)).json()) as { s3_url: string };
    const fresh = await fetch(again.s3_url);
    expect(fresh.status).toBe(200);
    expect(Buffer.from(await fresh.arrayBuffer()).length).toBe(readFileSync(media.video[360]).length);
  });

  it('fresh jobs carry only the core fields; full telemetry once persisted', async () => {
    const { job_id } = (await (await post({ url: VIDEO, max_resolution: '360' })).json()) as { job_id: string };
    fake.clock.advance(9_500);
    const fresh = (await (await api(`/jobs/${job_id}`)).json()) as Record<string, unknown>;
    expect(Object.keys(fresh).sort()).toEqual(['error', 'id', 's3_url', 'status', 'step', 'subtitle_url', 'url']);
    fake.clock.advance(10_000);
    const full = (await (await api(`/jobs/${job_id}`)).json()) as Record<string, unknown>;
    expect(full).toMatchObject({ status: 'Completed', step: 'Finished', actual_quality: '360', max_resolution: '360' });
    expect(typeof full.created_at).toBe('number');
    expect(typeof full.file_size).toBe('number');
  });

  it('serves https (both origins) when given a certificate', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'vidmux-tornado-tls-'));
    try {
      execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'k.pem'), '-out', join(dir, 'c.pem')], { stdio: 'ignore' });
    } catch {
      return; // no openssl here: nothing to check
    }
    const cert = readFileSync(join(dir, 'c.pem'), 'utf8');
    const f = await startTornadoFake({ media, tls: { key: readFileSync(join(dir, 'k.pem'), 'utf8'), cert } });
    try {
      expect(f.baseUrl).toMatch(/^https:\/\/127\.0\.0\.1:/);
      expect(f.s3BaseUrl).toMatch(/^https:/);
      const status = await new Promise<number>((resolve, reject) => {
        httpsRequest(`${f.baseUrl}/usage`, { ca: cert, headers: { 'x-api-key': TORNADO_TEST_KEY } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject).end();
      });
      expect(status).toBe(200);
    } finally {
      await f.close();
    }
  });
});
