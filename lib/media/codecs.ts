/** Which codecs the engine can stream-copy into MP4 (the demuxer rejects the rest by name). */

/** Codec families the muxer writes (the names mp4-muxer uses). */
export type VideoCodecFamily = 'avc' | 'hevc' | 'av1' | 'vp9';
/** Audio codec families the muxer writes. */
export type AudioCodecFamily = 'aac' | 'opus';

const VIDEO_PREFIXES: Record<string, VideoCodecFamily> = {
  avc1: 'avc',
  avc3: 'avc',
  hvc1: 'hevc',
  hev1: 'hevc',
  av01: 'av1',
  vp09: 'vp9',
};

/** Maps an RFC 6381 codec string to the family we mux, or null when we can't. */
export function codecFamily(codec: string): { kind: 'video'; family: VideoCodecFamily } | { kind: 'audio'; family: AudioCodecFamily } | null {
  const c = codec.trim();
  const prefix = c.slice(0, 4);
  const video = VIDEO_PREFIXES[prefix];
  if (video) return { kind: 'video', family: video };
  if (/^mp4a\.40(\.\d+)?$/i.test(c) || c === 'mp4a') return { kind: 'audio', family: 'aac' };
  if (/^opus$/i.test(c)) return { kind: 'audio', family: 'opus' };
  return null;
}
