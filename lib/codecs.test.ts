import { describe, expect, it } from 'vitest';
import { codecDisplayName, codecRank, muxableCodec, videoFamily } from './codecs';

describe('muxableCodec', () => {
  it('maps the codecs we mux', () => {
    expect(muxableCodec('avc1.64001f')).toEqual({ kind: 'video', family: 'avc' });
    expect(muxableCodec('hev1.1.6.L93.B0')).toEqual({ kind: 'video', family: 'hevc' });
    expect(muxableCodec('av01.0.04M.08')).toEqual({ kind: 'video', family: 'av1' });
    expect(muxableCodec('vp09.00.10.08')).toEqual({ kind: 'video', family: 'vp9' });
    expect(muxableCodec('mp4a.40.2')).toEqual({ kind: 'audio', family: 'aac' });
    expect(muxableCodec('Opus')).toEqual({ kind: 'audio', family: 'opus' });
  });
  it('knows nothing else', () => {
    for (const c of ['vp8', 'vorbis', 'ec-3', 'mp4a.6B', 'flac']) expect(muxableCodec(c)).toBeNull();
  });
  it('with allAudio, also the audio the engine copies that pickers leave alone (MP3, AC-3, E-AC-3)', () => {
    const all = { allAudio: true };
    expect(['mp3', 'mp4a.6B', 'mp4a.6b', 'mp4a.69', 'ac-3', 'ec-3'].map((c) => muxableCodec(c, all))).toEqual([
      { kind: 'audio', family: 'mp3' },
      { kind: 'audio', family: 'mp3' },
      { kind: 'audio', family: 'mp3' },
      { kind: 'audio', family: 'mp3' },
      { kind: 'audio', family: 'ac3' },
      { kind: 'audio', family: 'eac3' },
    ]);
    // Everything else answers as without it.
    for (const c of ['avc1.64001f', 'hev1.1.6.L93.B0', 'mp4a.40.2', 'Opus', 'vp8', 'vorbis', 'flac', 'dtsc']) {
      expect(muxableCodec(c, all)).toEqual(muxableCodec(c));
    }
  });
});

describe('codec preference and names', () => {
  it('puts a codec in its family whatever the spelling', () => {
    expect(['avc1.64001f', 'avc3.4d401e', 'h264', 'hvc1.1.6.L93', 'hev1.1', 'h265', 'av01.0.08M.08', 'vp09.00.31.08', 'vp9', 'mp4a.40.2', null].map(videoFamily)).toEqual([
      'avc', 'avc', 'avc', 'hevc', 'hevc', 'hevc', 'av1', 'vp9', 'vp9', null, null,
    ]);
  });
  it('ranks by the user’s order, unknown codecs last', () => {
    const pref = ['vp9', 'avc'] as const;
    expect(['vp09.00.31.08', 'avc1.64001f', 'av01.0.08M.08', null].map((c) => codecRank(c, pref))).toEqual([0, 1, 2, 2]);
  });
  it('names codecs as people know them', () => {
    expect(['avc1.64001f', 'hev1.1', 'av01.0', 'vp9', 'mp4a.40.2', 'mp4a.40.34', 'mp3', 'opus', 'flac', 'ac-3', 'ec-3', null].map(codecDisplayName)).toEqual([
      'H.264', 'H.265', 'AV1', 'VP9', 'AAC', 'MP3', 'MP3', 'Opus', 'flac', 'AC-3', 'E-AC-3', '',
    ]);
  });
});
