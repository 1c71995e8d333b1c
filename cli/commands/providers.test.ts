/**
 * The real CLI process (`node dist/cli/vidmux.mjs ...`, the built bin) against the provider fakes: info and
 * download through VidPickr, RenderIO and Tornado, fallback between them, and the failure line.
 * Output files are checked with ffprobe.
 */
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDERIO_TEST_KEY, startRenderIoFake, type RenderIoFake } from '../../test/fakes/renderio-server';
import { startTornadoFake, TORNADO_TEST_KEY, type TornadoFake } from '../../test/fakes/tornado-server';
import { startVidPickrFake, VIDPICKR_TEST_KEY, type VidPickrFake } from '../../test/fakes/vidpickr-server';
import { VIDMUX_BIN } from '../../test/fixtures/cli-bin';
import { ffprobeJson } from '../../test/fixtures/ffmpeg';

const ROOT = resolve(__dirname, '../..');
const YT = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
let vidpickr: VidPickrFake;
let renderio: RenderIoFake;
let tornado: TornadoFake;
let out: string;

beforeAll(async () => {
  [vidpickr, renderio, tornado] = await Promise.all([
    startVidPickrFake(),
    startRenderIoFake(),
    startTornadoFake({ realTime: true, timings: { pendingMs: 300, downloadingMs: 300, muxingMs: 300, uploadingMs: 300, replicationLagMs: 0 } }),
  ]);
  out = await mkdtemp(join(tmpdir(), 'vidmux-cli-providers-'));
});
afterAll(async () => {
  await Promise.all([vidpickr?.close(), renderio?.close(), tornado?.close()]);
  await rm(out, { recursive: true, force: true });
});

type Env = Record<string, string>;
const envFor = (which: Array<'vidpickr' | 'renderio' | 'tornado'>, over: Env = {}): Env => ({
  ...(which.includes('vidpickr') ? { VIDPICKR_API_KEY: VIDPICKR_TEST_KEY, VIDPICKR_BASE_URL: vidpickr.baseUrl } : {}),
  ...(which.includes('renderio') ? { RENDERIO_API_KEY: RENDERIO_TEST_KEY, RENDERIO_BASE_URL: renderio.baseUrl } : {}),
  ...(which.includes('tornado') ? { TORNADO_API_KEY: TORNADO_TEST_KEY, TORNADO_BASE_URL: tornado.baseUrl } : {}),
  ...over,
});

/** Runs the CLI with only the given environment (no keys leak in from the machine). */
function cli(args: string[], env: Env): Promise<{ code: number; stdout: string; stderr: string }> {
  const base = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/tmp' };
  return new Promise((done) => {
    execFile(process.execPath, [VIDMUX_BIN, ...args], { cwd: ROOT, timeout: 120_000, env: { ...base, ...env } }, (err, stdout, stderr) => {
      done({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr });
    });
  });
}

const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');

describe('vidmux info', () => {
  it('--provider vidpickr --json: one object with the formats and subtitles', async () => {
    const r = await cli(['info', YT, '--provider', 'vidpickr', '--json'], envFor(['vidpickr']));
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(1);
    const info = JSON.parse(r.stdout);
    expect(info).toMatchObject({ provider: 'vidpickr', title: 'Never Gonna Give You Up' });
    expect(new Set(info.formats.filter((f: { kind: string }) => f.kind === 'video+audio').map((f: { height: number }) => f.height))).toEqual(new Set([480, 720, 1080]));
    expect(info.subtitles.map((s: { language: string }) => s.language)).toContain('en');
  });

  it('without a key for the asked provider: exit 1 naming the variable', async () => {
    const r = await cli(['info', YT, '--provider', 'vidpickr'], {});
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/VIDPICKR_API_KEY is not set/);
  });
});

describe('vidmux download', () => {
  it('VidPickr: 720p muxed from two tracks plus English subtitles beside it', async () => {
    const r = await cli(['download', YT, '--provider', 'vidpickr', '--quality', '720', '--subs', 'en', '--out', out, '--json'], envFor(['vidpickr']));
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ provider: 'vidpickr', file: join(out, 'Never Gonna Give You Up.mp4'), format: { height: 720, delivery: 'tracks' } });
    const probe = await ffprobeJson(res.file);
    expect(probe.streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(['video', 'audio']);
    expect(probe.streams[0].height).toBe(720);
    // H.264 first by default; the AAC (M4A) track is the sound beside MP4 video.
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['h264', 'aac']);
    expect(res.bytes).toBe(readFileSync(res.file).length);
    expect(res.subtitles).toEqual([join(out, 'Never Gonna Give You Up.en.srt')]);
    expect(readFileSync(res.subtitles[0], 'utf8')).toMatch(/-->/);
  });

  it('falls back: VidPickr failing, RenderIO delivers, and stderr says so', async () => {
    vidpickr.fault('info', { kind: 'upstream_failed' }, 100);
    try {
      const r = await cli(['download', YT, '--out', out, '--json'], envFor(['vidpickr', 'renderio']));
      expect(r.code, r.stderr).toBe(0);
      const res = JSON.parse(r.stdout);
      expect(res.provider).toBe('renderio');
      expect(r.stderr).toMatch(/VidPickr failed \(.+\); trying RenderIO/);
      expect(sha256(res.file)).toBe(sha256(renderio.media.videos[0]!.path));
      expect((await ffprobeJson(res.file)).streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(['video', 'audio']);
    } finally {
      vidpickr.clearFaults();
    }
  });

  it('Tornado: audio only', async () => {
    const r = await cli(['download', 'https://vimeo.com/76979871', '--provider', 'tornado', '--quality', 'audio', '--out', out, '--json'], envFor(['tornado']));
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ provider: 'tornado', format: { kind: 'audio' } });
    expect((await ffprobeJson(res.file)).streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(['audio']);
  });

  it('when every provider fails: exit 1, one line naming each provider and why, no file left', async () => {
    const before = await readdir(out);
    const r = await cli(['download', YT, '--out', out, '--json'], envFor(['vidpickr', 'renderio'], { VIDPICKR_API_KEY: 'vpk_live_not_a_real_key_0000', RENDERIO_API_KEY: `ffsk_${'0'.repeat(64)}` }));
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    const last = lines.at(-1)!;
    expect(last).toMatch(/^error: No provider could do it\. vidpickr: .+; renderio: .+; page: .+/);
    expect(r.stderr).not.toContain('vpk_live_not_a_real_key_0000');
    expect(await readdir(out)).toEqual(before);
    expect(existsSync(join(out, '.part'))).toBe(false);
  });

});

describe('vidmux download: the extension’s chooser and naming', () => {
  it('--codec vp9: the user’s codec order picks VP9 where VidPickr has it (as the extension’s setting does)', async () => {
    const r = await cli(['download', YT, '--provider', 'vidpickr', '--codec', 'vp9', '--out', out, '--json', '--name', '{title} {height}p {id}.{ext}'], envFor(['vidpickr']));
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    // Best quality is 1080, where VidPickr has AV1 (MP4) and VP9 (WebM): VP9, with the Opus (WebM) beside it, in MP4.
    expect(res).toMatchObject({ provider: 'vidpickr', format: { height: 1080, videoCodec: expect.stringMatching(/^vp09/), container: 'mp4' }, file: join(out, 'Never Gonna Give You Up 1080p dQw4w9WgXcQ.mp4') });
    const probe = await ffprobeJson(res.file);
    expect(probe.format.format_name).toContain('mp4');
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['vp9', 'opus']);
    expect(probe.streams[0].height).toBe(1080);
    // Without --codec the default order (H.264 first) picks H.264 at the same height.
    const plain = await cli(['download', YT, '--provider', 'vidpickr', '--quality', '720', '--out', out, '--json'], envFor(['vidpickr']));
    expect(JSON.parse(plain.stdout).format.videoCodec).toMatch(/^avc1/);
  });

  it('--container webm: 1080p VP9 + Opus kept in WebM, a .webm file', async () => {
    const r = await cli(['download', YT, '--provider', 'vidpickr', '--quality', '1080', '--container', 'webm', '--out', out, '--json', '--name', '{title} {height}p webm.{ext}'], envFor(['vidpickr']));
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ provider: 'vidpickr', format: { height: 1080, videoCodec: expect.stringMatching(/^vp09/), container: 'webm' }, file: join(out, 'Never Gonna Give You Up 1080p webm.webm') });
    expect(res.bytes).toBe(readFileSync(res.file).length);
    const probe = await ffprobeJson(res.file);
    expect(probe.format.format_name).toBe('matroska,webm');
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['vp9', 'opus']);
    expect(probe.streams[0].height).toBe(1080);
  });

  it('--quality audio --audio-format mp3: VidPickr offers no MP3, so RenderIO makes it; stderr says why', async () => {
    const r = await cli(['download', YT, '--quality', 'audio', '--audio-format', 'mp3', '--out', out, '--json'], envFor(['vidpickr', 'renderio']));
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ provider: 'renderio', format: { kind: 'audio', container: 'mp3' }, file: expect.stringMatching(/\.mp3$/) });
    expect(r.stderr).toMatch(/VidPickr failed \(vidpickr offers no MP3 for this video\.\); trying RenderIO/);
    const probe = await ffprobeJson(res.file);
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['mp3']);
  });

  it('--format: the exact format `info --json` listed, from the provider that offered it', async () => {
    const info = JSON.parse((await cli(['info', YT, '--provider', 'vidpickr', '--json'], envFor(['vidpickr']))).stdout);
    const audio = info.formats.find((f: { kind: string; container: string }) => f.kind === 'audio' && f.container === 'm4a');
    const r = await cli(['download', YT, '--format', audio.id, '--out', out, '--json'], envFor(['vidpickr']));
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ provider: 'vidpickr', format: { id: audio.id, kind: 'audio' } });
  });

  it('--subs-only: only the subtitle file, named after the video', async () => {
    const r = await cli(['download', YT, '--provider', 'vidpickr', '--subs-only', '--subs', 'tr', '--out', out, '--json', '--name', 'subs/{title}.{ext}'], envFor(['vidpickr']));
    expect(r.code, r.stderr).toBe(0);
    const res = JSON.parse(r.stdout);
    expect(res).toMatchObject({ provider: 'vidpickr', format: { kind: 'subtitle', language: 'tr', container: 'srt' }, file: join(out, 'subs', 'Never Gonna Give You Up.srt') });
    expect(readFileSync(res.file, 'utf8')).toMatch(/-->/);
  });

  it('--format is that provider’s own: the others are not tried for it', async () => {
    vidpickr.fault('info', { kind: 'upstream_failed' }, 100);
    try {
      const r = await cli(['download', YT, '--format', 'vidpickr:video:720:avc1.4d401f', '--out', out, '--json'], envFor(['vidpickr', 'renderio']));
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/^error: VidPickr could not get this video from YouTube/m);
      expect(r.stderr).not.toMatch(/RenderIO/);
    } finally {
      vidpickr.clearFaults();
    }
    expect(await cli(['download', YT, '--format', 'vidpickr:video:720:x', '--provider', 'renderio'], {})).toMatchObject({ code: 2, stderr: expect.stringMatching(/is vidpickr's, not renderio's/) });
  });

  it('usage errors name the flag: an unknown codec, a bad template, a format of no provider', async () => {
    expect(await cli(['download', YT, '--codec', 'h266'], {})).toMatchObject({ code: 2, stderr: expect.stringMatching(/--codec takes avc, hevc, av1, vp9/) });
    expect(await cli(['download', YT, '--name', '../{title}.{ext}'], {})).toMatchObject({ code: 2, stderr: expect.stringMatching(/--name: The template must not contain "\.\."/) });
    expect(await cli(['download', YT, '--format', 'nobody:1'], {})).toMatchObject({ code: 2, stderr: expect.stringMatching(/--format takes a format id/) });
    expect(await cli(['download', YT, '--audio-format', 'flac'], {})).toMatchObject({ code: 2 });
  });
});
