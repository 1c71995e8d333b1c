/**
 * HLS and DASH through the page provider, end to end in Node: ffmpeg-made streams served over HTTP
 * (Range, faults), resolved into formats, one downloaded into one MP4 by the real engine, checked
 * by decoding against `ffmpeg -c copy` of the same rendition.
 */
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startStreamServer, type StreamServer } from '../../test/fakes/stream-server';
import { ffprobeJson } from '../../test/fixtures/ffmpeg';
import {
  dashMultiPeriod,
  dashNumber,
  dashSegmentList,
  dashTime,
  decodedMd5s,
  hlsByteRange,
  hlsFmp4WithAudio,
  hlsTs,
  hlsTsAes,
  protectedStreams,
  referenceMd5s,
  type StreamFixture,
} from '../../test/fixtures/streams';
import { chooseFormat } from '../jobs/choose-format';
import { downloadContext } from '../jobs/download-context';
import { HttpClient } from '../net/http';
import { NodeFileSink } from '../node/files';
import type { JobProgress } from '../progress';
import { PageProvider } from './page';
import type { Format, MediaInfo } from './types';

let server: StreamServer;
const out = mkdtempSync(join(tmpdir(), 'vidmux-streams-'));
const target = (path: string) => ({ media: async () => new NodeFileSink(path), subtitle: async () => new NodeFileSink(`${path}.srt`) });
const fixtures: Record<string, StreamFixture> = {};

beforeAll(async () => {
  const made = await Promise.all([hlsFmp4WithAudio(), dashNumber(), dashTime(), dashSegmentList(), hlsTs(), hlsTsAes(), hlsByteRange(), dashMultiPeriod()]);
  server = await startStreamServer();
  for (const f of made) {
    fixtures[f.name] = f;
    server.mount(f.name, { dir: f.dir });
  }
  const p = await protectedStreams();
  server.mount(p.name, { dir: p.dir });
}, 180_000);
afterAll(() => server?.close());
beforeEach(() => server?.reset());

/** A fresh provider on its own client, whose retries wait only a moment (the table's delays are its own test's). */
const provider = (connections?: number) =>
  new PageProvider({ http: new HttpClient({ provider: 'page', sleep: (_ms, signal) => new Promise((r, j) => (signal?.aborted ? j(signal.reason) : setTimeout(r, 5))) }), ...(connections ? { connections } : {}) });

async function save(info: MediaInfo, format: Format, name: string, progress: JobProgress[] = []): Promise<string> {
  const path = join(out, name);
  await provider().download(info, { format, subtitles: [] }, downloadContext({ target: target(path), onProgress: (p) => progress.push(p) }));
  return path;
}

async function expectSameMedia(path: string, f: StreamFixture, rendition: string): Promise<void> {
  expect(await decodedMd5s(path, '0:v')).toEqual(await referenceMd5s(f, rendition, 'video'));
  expect(await decodedMd5s(path, '0:a')).toEqual(await referenceMd5s(f, rendition, 'audio'));
  const probe = await ffprobeJson(path);
  expect(probe.format.format_name).toContain('mp4');
  expect(probe.streams.map((s: { codec_type: string }) => s.codec_type).sort()).toEqual(['audio', 'video']);
}

describe('HLS', () => {
  it('fMP4 with separate audio renditions: a format per variant and language; the chosen one saved as one MP4', async () => {
    const f = fixtures['hls-fmp4-audio']!;
    const info = await provider().resolve(server.url(f.name, f.manifest));
    expect(info.durationSeconds).toBeCloseTo(6, 0);
    const av = info.formats.filter((x) => x.kind === 'video+audio');
    expect(av.map((x) => [x.height, x.language])).toEqual([
      [360, 'en'],
      [360, 'fr'],
      [180, 'en'],
      [180, 'fr'],
    ]);
    expect(av[1]!.label).toMatch(/360p · H\.264 · MP4 · \d+ kbps · Français \(fr\)/);
    expect(info.formats.filter((x) => x.kind === 'audio').map((x) => x.language)).toEqual(['en', 'fr']);
    const progress: JobProgress[] = [];
    const path = await save(info, av[1]!, 'fmp4-360-fr.mp4', progress);
    await expectSameMedia(path, f, '360p-fr');
    // Progress counts the segments of both tracks (an init and 3 or more media segments each), and ends complete.
    const segments = progress.at(-1)!.overall.segments!;
    expect(segments.done).toBe(segments.total);
    expect(segments.total).toBeGreaterThanOrEqual(8);
    // The best by default: 360p with the default (English) audio.
    expect(chooseFormat(info, { quality: 'best' })).toMatchObject({ height: 360, language: 'en' });
  });

  it('MPEG-TS variants with the sound in the video segments, in one pass', async () => {
    const f = fixtures['hls-ts']!;
    const info = await provider().resolve(server.url(f.name, f.manifest));
    const best = chooseFormat(info, { quality: 'best' });
    expect(best).toMatchObject({ height: 360, kind: 'video+audio' });
    const path = await save(info, best, 'ts-360.mp4');
    await expectSameMedia(path, f, '360p');
    // Each segment was fetched once: the one source feeds both tracks.
    const segs = server.requestsFor(/\/v0\/.*\.ts$/);
    expect(segs.length).toBe(new Set(segs.map((r) => r.path)).size);
  });

  it('AES-128: explicit IV, IV from the media sequence, key rotation; each key fetched once', async () => {
    const f = fixtures['hls-ts-aes']!;
    for (const id of ['rotate', 'iv', 'seq']) {
      const playlist = f.renditions[id]!.playlists![0]!;
      const info = await provider().resolve(server.url(f.name, playlist));
      const path = await save(info, chooseFormat(info, { quality: 'best' }), `aes-${id}.mp4`);
      await expectSameMedia(path, f, id);
    }
    for (const key of Object.keys((f as StreamFixture & { keys: Record<string, string> }).keys)) {
      const fetched = server.requestsFor(key).filter((r) => r.status === 200);
      expect(fetched.length, key).toBeLessThanOrEqual(3); // once per download that uses it
    }
  });

  it('EXT-X-BYTERANGE over one file', async () => {
    const f = fixtures['hls-byterange']!;
    const info = await provider().resolve(server.url(f.name, f.manifest));
    const path = await save(info, chooseFormat(info, { quality: 'best' }), 'byterange.mp4');
    await expectSameMedia(path, f, '360p');
  });

  it('WebVTT subtitle renditions are offered, and saved beside the video as one .vtt on its timeline', async () => {
    const f = fixtures['hls-fmp4-audio']!;
    const dir = mkdtempSync(join(tmpdir(), 'vidmux-subs-'));
    // The fixture's master with a SUBTITLES group: segmented WebVTT, as packagers write it.
    const master = readFileSync(join(f.dir, f.manifest), 'utf8')
      .replace(/URI="([^"]+)"/g, (_m, u: string) => `URI="${server.url(f.name, u)}"`)
      .replace(/^(v\d\/index\.m3u8)$/gm, (u) => server.url(f.name, u))
      .replace(/,AUDIO="aud"/g, ',AUDIO="aud",SUBTITLES="subs"')
      .replace('#EXT-X-INDEPENDENT-SEGMENTS', '#EXT-X-INDEPENDENT-SEGMENTS\n#EXT-X-MEDIA:TYPE=SUBTITLES,GROUP-ID="subs",NAME="English",LANGUAGE="en",DEFAULT=YES,AUTOSELECT=YES,URI="subs/en.m3u8"');
    mkdirSync(join(dir, 'subs'));
    writeFileSync(join(dir, 'master.m3u8'), master);
    writeFileSync(join(dir, 'subs/en.m3u8'), '#EXTM3U\n#EXT-X-TARGETDURATION:3\n#EXT-X-PLAYLIST-TYPE:VOD\n#EXTINF:3,\ns0.vtt\n#EXTINF:3,\ns1.vtt\n#EXT-X-ENDLIST\n');
    const head = 'WEBVTT\nX-TIMESTAMP-MAP=MPEGTS:900000,LOCAL:00:00:00.000\n\n';
    writeFileSync(join(dir, 'subs/s0.vtt'), `${head}00:00:00.500 --> 00:00:02.000\nFirst line\n\n00:00:02.500 --> 00:00:03.500\nAcross\n`);
    writeFileSync(join(dir, 'subs/s1.vtt'), `${head}00:00:02.500 --> 00:00:03.500\nAcross\n\n00:00:04.000 --> 00:00:05.500\nLast line\n`);
    server.mount('subs', { dir });
    const info = await provider().resolve(server.url('subs', 'master.m3u8'));
    expect(info.subtitles.map((x) => [x.language, x.container, x.label])).toEqual([['en', 'vtt', 'Subtitles · English (en) · VTT']]);
    const path = join(out, 'with-subs.mp4');
    const result = await provider().download(info, { format: chooseFormat(info, { quality: 'best' }), subtitles: info.subtitles }, downloadContext({ target: target(path) }));
    await expectSameMedia(path, f, '360p-en');
    expect(result.subtitles).toHaveLength(1);
    expect(readFileSync(`${path}.srt`, 'utf8')).toBe('WEBVTT\n\n00:00:00.500 --> 00:00:02.000\nFirst line\n\n00:00:02.500 --> 00:00:03.500\nAcross\n\n00:00:04.000 --> 00:00:05.500\nLast line\n');
  });

  it('protected streams are refused as protected', async () => {
    const p = await protectedStreams();
    for (const m of [p.manifests.hlsSampleAes, p.manifests.hlsFairPlay, p.manifests.hlsWidevine, p.manifests.hlsMaster, p.manifests.dash]) {
      await expect(provider().resolve(server.url(p.name, m)), m).rejects.toMatchObject({ code: 'protected', message: expect.stringMatching(/protected/) });
    }
  });

  it('a segment that fails twice is retried', async () => {
    const f = fixtures['hls-fmp4-audio']!;
    const info = await provider().resolve(server.url(f.name, f.manifest));
    server.fault({ path: /v0\/seg001\.m4s$/, times: 2, status: 503 });
    const path = await save(info, info.formats[0]!, 'retried.mp4');
    await expectSameMedia(path, f, '360p-en');
    expect(server.requestsFor(/v0\/seg001\.m4s$/).map((r) => r.status)).toEqual([503, 503, 200]);
  });

  it('segment links that expired are fetched again from a fresh playlist (once per burst)', async () => {
    const f = fixtures['hls-fmp4-audio']!;
    const expiring = server.fault({ path: /\/v0\/.*\.m4s$/, expire: 1500 });
    server.fault({ path: /v0\/seg000\.m4s$/, delayMs: 2500 });
    const one = provider(1);
    const info = await one.resolve(server.url(f.name, f.manifest));
    const path = join(out, 'expired.mp4');
    await one.download(info, { format: info.formats[0]!, subtitles: [] }, downloadContext({ target: target(path) }));
    await expectSameMedia(path, f, '360p-en');
    expect(expiring.hits).toBeGreaterThan(0); // some links had expired: 403s, then fresh ones worked
    expect(server.requestsFor(/v0\/index\.m3u8$/).length).toBeLessThanOrEqual(2 + expiring.hits);
  });
});

describe('what goes wrong', () => {
  it('a segment that is gone fails the download clearly and leaves no file', async () => {
    const f = fixtures['dash-number']!;
    const info = await provider().resolve(server.url(f.name, f.manifest));
    server.fault({ path: /chunk-0-00002\.m4s$/, status: 404 });
    const path = join(out, 'gone.mp4');
    const run = provider().download(info, { format: chooseFormat(info, { quality: 'best' }), subtitles: [] }, downloadContext({ target: target(path) }));
    await expect(run).rejects.toMatchObject({ code: 'not_found', message: expect.stringMatching(/404/) });
    expect(existsSync(path)).toBe(false);
  });

  it('an ad break whose timestamps start over (EXT-X-DISCONTINUITY) is a clear error, never a broken file', async () => {
    const f = fixtures['hls-ts']!;
    const dir = mkdtempSync(join(tmpdir(), 'vidmux-disc-'));
    const seg = (i: number) => server.url(f.name, `v0/seg00${i}.ts`);
    writeFileSync(join(dir, 'spliced.m3u8'), `#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXTINF:2,\n${seg(0)}\n#EXTINF:2,\n${seg(1)}\n#EXT-X-DISCONTINUITY\n#EXTINF:2,\n${seg(0)}\n#EXTINF:2,\n${seg(1)}\n#EXT-X-ENDLIST\n`);
    server.mount('spliced', { dir });
    const info = await provider().resolve(server.url('spliced', 'spliced.m3u8'));
    const path = join(out, 'spliced.mp4');
    const run = provider().download(info, { format: chooseFormat(info, { quality: 'best' }), subtitles: [] }, downloadContext({ target: target(path) }));
    await expect(run).rejects.toMatchObject({ code: 'corrupt_media', message: expect.stringMatching(/discontinuity/) });
    expect(existsSync(path)).toBe(false);
  });

  it('a connection dropped mid-segment is resumed by a retry; the file is whole', async () => {
    const f = fixtures['dash-time']!;
    const info = await provider().resolve(server.url(f.name, f.manifest));
    server.fault({ path: /\.m4s$/, times: 2, drop: true });
    const path = join(out, 'dropped.mp4');
    await provider().download(info, { format: chooseFormat(info, { quality: 'best' }), subtitles: [] }, downloadContext({ target: target(path) }));
    await expectSameMedia(path, f, '360p');
  });
});

describe('DASH', () => {
  for (const name of ['dash-number', 'dash-time', 'dash-list']) {
    it(`${name}: renditions listed; the best saved as one MP4`, async () => {
      const f = fixtures[name]!;
      const info = await provider().resolve(server.url(f.name, f.manifest));
      expect(info.formats.filter((x) => x.kind === 'video+audio').map((x) => x.height)).toEqual([360, 180]);
      const path = await save(info, chooseFormat(info, { quality: 'best' }), `${name}.mp4`);
      await expectSameMedia(path, f, '360p');
      // Segments in flight at once stay within the bound (4 per track, 2 tracks).
      expect(server.concurrency(/\.m4s$/)).toBeLessThanOrEqual(8);
    });
  }

  it('periods that continue are one file; periods that change the encoding are refused', async () => {
    const f = fixtures['dash-multi-period']! as StreamFixture & { refused: string };
    const info = await provider().resolve(server.url(f.name, f.manifest));
    const path = await save(info, chooseFormat(info, { quality: 'best' }), 'periods.mp4');
    await expectSameMedia(path, f, '360p');
    const refused = provider().resolve(server.url(f.name, f.refused));
    await expect(refused).rejects.toMatchObject({ code: 'unsupported', message: expect.stringMatching(/changes its encoding/) });
  });
});

describe('a MediaSource video: which stream its page loaded', () => {
  // The page is on this computer too, like the fake's streams (a page on the internet may not make
  // the page provider fetch local addresses: page.test.ts).
  const watch = 'http://127.0.0.1/watch';
  it('the master playlist and its media playlists are one stream: all renditions offered', async () => {
    const f = fixtures['hls-fmp4-audio']!;
    const streams = ['master.m3u8', 'v0/index.m3u8', 'audio-en/index.m3u8'].map((p) => server.url(f.name, p));
    const media = { id: 'v1', kind: 'manifest' as const, src: streams.at(-1)!, mimeType: null, width: 640, height: 360, duration: 6, streams };
    const info = await provider().resolve(watch, { media });
    expect(info.formats.filter((x) => x.kind === 'video+audio')).toHaveLength(4);
  });

  it('of two streams the page played, the one seen last', async () => {
    const hls = fixtures['hls-fmp4-audio']!;
    const dash = fixtures['dash-number']!;
    const streams = [server.url(dash.name, dash.manifest), server.url(hls.name, hls.manifest), server.url(hls.name, 'v1/index.m3u8')];
    const media = { id: 'v1', kind: 'manifest' as const, src: streams.at(-1)!, mimeType: null, width: 640, height: 360, duration: 6, streams };
    const info = await provider().resolve(watch, { media });
    expect(info.formats.some((x) => x.language === 'fr')).toBe(true);
    const older = { ...media, streams: [streams[1]!, streams[2]!, streams[0]!] };
    const other = await provider().resolve(watch, { media: older });
    expect(other.formats.some((x) => x.language === 'fr')).toBe(false);
  });
});
