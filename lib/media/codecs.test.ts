import { describe, expect, it } from 'vitest';
import { VidmuxError } from '../errors';
import { assertMuxable, codecFamily } from './codecs';

describe('codecFamily', () => {
  it('maps the codecs we mux', () => {
    expect(codecFamily('avc1.64001f')).toEqual({ kind: 'video', family: 'avc' });
    expect(codecFamily('hev1.1.6.L93.B0')).toEqual({ kind: 'video', family: 'hevc' });
    expect(codecFamily('av01.0.04M.08')).toEqual({ kind: 'video', family: 'av1' });
    expect(codecFamily('vp09.00.10.08')).toEqual({ kind: 'video', family: 'vp9' });
    expect(codecFamily('mp4a.40.2')).toEqual({ kind: 'audio', family: 'aac' });
    expect(codecFamily('Opus')).toEqual({ kind: 'audio', family: 'opus' });
  });
  it('knows nothing else', () => {
    for (const c of ['vp8', 'vorbis', 'ec-3', 'mp4a.6B', 'flac']) expect(codecFamily(c)).toBeNull();
  });
});

describe('assertMuxable', () => {
  const code = (f: () => void) => {
    try {
      f();
      return null;
    } catch (e) {
      expect(e).toBeInstanceOf(VidmuxError);
      return (e as VidmuxError).message;
    }
  };
  it('passes MP4 with supported codecs and streams without hints', () => {
    expect(code(() => assertMuxable({ video: { mimeType: 'video/mp4; codecs="avc1.640028"' }, audio: { mimeType: 'audio/mp4', codecs: 'mp4a.40.2' } }))).toBeNull();
    expect(code(() => assertMuxable({ video: {}, audio: undefined }))).toBeNull();
  });
  it('names WebM and its codec', () => {
    expect(code(() => assertMuxable({ video: { mimeType: 'video/webm; codecs="vp9"' } }))).toMatch(/video stream is WEBM with vp9/);
  });
  it('names an unsupported codec in MP4', () => {
    expect(code(() => assertMuxable({ audio: { mimeType: 'audio/mp4', codecs: 'ec-3' } }))).toMatch(/E-AC-3/);
  });
});
