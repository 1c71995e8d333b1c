import { describe, expect, it } from 'vitest';
import { codecFamily } from './codecs';

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
