import { describe, expect, it } from 'vitest';
import { makeFormat } from '../providers/kit/format';
import { toMediaInfo } from '../providers/vidpickr';
import type { Format } from '../schemas/media';
import { chooseFormat, pickFormat, planFormat } from './choose-format';

/**
 * VidPickr's own `/v1/info` example (seed 001, "GET /v1/info — response"), as the vendor shows it:
 * 1080p offers AV1 in MP4 and VP9 in WebM; audio_only lists M4A AAC 128 then WebM Opus 160.
 */
const DOC_INFO = {
  title: 'Never Gonna Give You Up',
  duration_sec: 213,
  platform: 'youtube',
  thumbnail: 'https://i.ytimg.com/vi_webp/dQw4w9WgXcQ/maxresdefault.webp',
  resolutions: [
    {
      height: 1080,
      video_only: [
        { ext: 'mp4', vcodec: 'av01.0.08M.08', size_mb: 28.4, download_token: 'v1.av1' },
        { ext: 'webm', vcodec: 'vp09.00.50.08', size_mb: 35.1, download_token: 'v1.vp9' },
      ],
    },
  ],
  audio_only: [
    { ext: 'm4a', acodec: 'mp4a.40.2', bitrate: 128, size_mb: 3.2, download_token: 'a1.aac' },
    { ext: 'webm', acodec: 'opus', bitrate: 160, size_mb: 4.1, download_token: 'a1.opus' },
  ],
  subtitles: [{ language: 'en', kind: 'manual', download_token: 's1' }],
};

const info = toMediaInfo('https://www.youtube.com/watch?v=dQw4w9WgXcQ', DOC_INFO);
const plan = (f: Format, prefs = {}) => planFormat(info, f, prefs);

describe('the chooser on VidPickr’s documented /info', () => {
  it('prefers VP9 at 1080p by the default codec order and pairs it with the Opus that comes with it, in MP4', () => {
    const f = chooseFormat(info, { quality: '1080' });
    expect(f.videoCodec).toBe('vp09.00.50.08');
    const p = plan(f);
    expect(p.audio?.audioCodec).toBe('opus');
    expect(p).toMatchObject({ container: 'mp4', mux: 'mp4', unsaveable: null, note: 'VP9 + Opus in MP4' });
  });

  it('takes AV1 with the AAC beside it when the user ranks AV1 first', () => {
    const wish = { quality: '1080' as const, codecPreference: ['av1', 'avc', 'vp9', 'hevc'] as const };
    const f = chooseFormat(info, wish);
    expect(f.videoCodec).toBe('av01.0.08M.08');
    expect(plan(f, wish)).toMatchObject({ container: 'mp4', note: 'AV1 + AAC in MP4' });
    expect(plan(f, wish).audio?.bitrateKbps).toBe(128);
  });

  it('keeps WebM when asked and the source is WebM; AV1 from MP4 stays MP4', () => {
    const vp9 = info.formats.find((f) => f.videoCodec?.startsWith('vp09'))!;
    const av1 = info.formats.find((f) => f.videoCodec?.startsWith('av01'))!;
    expect(plan(vp9, { container: 'webm' })).toMatchObject({ container: 'webm', mux: 'webm', note: 'VP9 + Opus in WebM' });
    expect(plan(av1, { container: 'webm' })).toMatchObject({ container: 'mp4', note: 'AV1 + AAC in MP4' });
  });

  it('follows an explicit audio preference', () => {
    const vp9 = info.formats.find((f) => f.videoCodec?.startsWith('vp09'))!;
    expect(plan(vp9, { audioCodec: 'aac' }).note).toBe('VP9 + AAC in MP4');
    // AAC cannot go into WebM: WebM output takes the Opus even when AAC is preferred.
    expect(plan(vp9, { audioCodec: 'aac', container: 'webm' }).note).toBe('VP9 + Opus in WebM');
  });

  it('saves audio only as M4A AAC (not the higher-bitrate Opus) unless Opus is preferred', () => {
    const aac = chooseFormat(info, { quality: 'audio', audioFormat: 'm4a' });
    expect(aac.audioCodec).toBe('mp4a.40.2');
    expect(plan(aac).note).toBe('AAC in M4A');
    const opus = chooseFormat(info, { quality: 'audio', audioCodec: 'opus' });
    expect(opus.audioCodec).toBe('opus');
    expect(plan(opus).note).toBe('Opus in MP4');
    expect(plan(opus, { container: 'webm' }).note).toBe('Opus in WebM');
  });
});

describe('the chooser never picks what the engine cannot save', () => {
  const f = (id: string, fields: Partial<Format>) => makeFormat('page', id, { kind: 'video+audio', container: 'mp4', delivery: 'tracks', ...fields });

  it('skips a codec it cannot copy even when it is the tallest', () => {
    const formats = [
      f('theora', { videoCodec: 'theora', audioCodec: 'vorbis', height: 1080, sourceContainer: 'ogg' }),
      f('h264', { videoCodec: 'avc1.64001f', audioCodec: 'mp4a.40.2', height: 720 }),
    ];
    expect(pickFormat(formats, 'best').id).toBe('h264');
    expect(planFormat({ formats }, formats[0]!).unsaveable).toMatch(/theora video can't be saved without re-encoding/);
  });

  it('saves VP8 + Vorbis as WebM whatever the container preference (MP4 cannot hold them)', () => {
    const vp8 = f('vp8', { videoCodec: 'vp8', audioCodec: 'vorbis', height: 360, sourceContainer: 'webm' });
    expect(planFormat({ formats: [vp8] }, vp8, { container: 'mp4' })).toMatchObject({ container: 'webm', mux: 'webm', note: 'VP8 + Vorbis in WebM' });
  });

  it('refuses H.264 + Opus into WebM and saves it as MP4 instead', () => {
    const mixed = f('mixed', { videoCodec: 'avc1.64001f', audioCodec: 'opus', height: 720, sourceContainer: 'webm' });
    expect(planFormat({ formats: [mixed] }, mixed, { container: 'webm' })).toMatchObject({ container: 'mp4', note: 'H.264 + Opus in MP4' });
  });

  it('prefers, at one height and codec, a source container that needs no conversion', () => {
    const formats = [
      f('vp9-webm', { videoCodec: 'vp09.00.40.08', audioCodec: 'opus', height: 1080, sourceContainer: 'webm', bitrateKbps: 3000 }),
      f('vp9-mp4', { videoCodec: 'vp09.00.40.08', audioCodec: 'opus', height: 1080, sourceContainer: 'mp4', bitrateKbps: 2000 }),
    ];
    expect(pickFormat(formats, 'best', { codecPreference: ['vp9'] }).id).toBe('vp9-mp4');
    expect(pickFormat(formats, 'best', { codecPreference: ['vp9'], container: 'webm' }).id).toBe('vp9-webm');
  });

  it('says clearly when nothing can be saved', () => {
    const formats = [f('theora', { videoCodec: 'theora', height: 480 })];
    expect(() => pickFormat(formats, 'best')).toThrow(/can be saved without re-encoding/);
  });

  it('keeps a finished file as served', () => {
    const file = makeFormat('renderio', 'r', { kind: 'video+audio', container: 'webm', delivery: 'file', videoCodec: 'vp9', audioCodec: 'opus', height: 720 });
    expect(planFormat({ formats: [file] }, file)).toMatchObject({ container: 'webm', mux: null, note: 'VP9 + Opus in WebM, saved as served' });
  });
});
