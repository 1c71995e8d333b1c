/**
 * Which codecs and containers the engine can stream-copy into MP4, and the pre-check that rejects
 * the rest by name before any media bytes are fetched.
 */
import { VidmuxError } from '../errors';

/** Codec families the muxer writes (the names mp4-muxer uses). */
export type VideoCodecFamily = 'avc' | 'hevc' | 'av1' | 'vp9';
/** Audio codec families the muxer writes. */
export type AudioCodecFamily = 'aac' | 'opus';

/** What a manifest or HTTP response says about a stream before we fetch it. */
export interface FormatHint {
  /** e.g. `video/mp4`, `audio/webm; codecs="opus"`. */
  mimeType?: string;
  /** RFC 6381 codecs, e.g. `avc1.64001f` or `mp4a.40.2` (overrides any codecs in `mimeType`). */
  codecs?: string;
}

const VIDEO_PREFIXES: Record<string, VideoCodecFamily> = {
  avc1: 'avc',
  avc3: 'avc',
  hvc1: 'hevc',
  hev1: 'hevc',
  av01: 'av1',
  vp09: 'vp9',
};

const CONTAINERS_WE_READ = new Set(['mp4', 'm4a', 'm4v', 'x-m4a', 'iso.segment', 'mp4a-latm']);

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

/** A readable name for a codec string in error messages (`vp8`, `vorbis`, `ec-3 (Dolby Digital Plus)`). */
function describeCodec(codec: string): string {
  const known: Record<string, string> = {
    'ec-3': 'E-AC-3 (Dolby Digital Plus)',
    'ac-3': 'AC-3 (Dolby Digital)',
    'ac-4': 'AC-4',
    vorbis: 'Vorbis',
    vp8: 'VP8',
    'mp4a.6b': 'MP3',
    'mp4a.69': 'MP3',
    'mp4a.40.34': 'MP3',
    flac: 'FLAC',
    'fLaC': 'FLAC',
    mp4v: 'MPEG-4 Part 2',
  };
  const lower = codec.toLowerCase();
  return known[codec] ?? known[lower] ?? known[lower.split('.')[0]!] ?? codec;
}

/**
 * Throws `unsupported` naming the container or codec when a stream described by `hints` can't be
 * muxed (e.g. WebM, Vorbis, E-AC-3), so the caller fails before fetching anything. Streams with no
 * hint pass: the demuxer checks them again from their bytes.
 */
export function assertMuxable(hints: { video?: FormatHint; audio?: FormatHint }): void {
  for (const kind of ['video', 'audio'] as const) {
    const hint = hints[kind];
    if (!hint) continue;
    const mime = hint.mimeType?.toLowerCase().trim() ?? '';
    const subtype = mime.split(';')[0]!.split('/')[1]?.trim() ?? '';
    const codecsFromMime = /codecs\s*=\s*"?([^";]+)"?/i.exec(hint.mimeType ?? '')?.[1];
    const codecs = (hint.codecs ?? codecsFromMime ?? '')
      .split(',')
      .map((c) => c.trim())
      .filter(Boolean);
    if (subtype && !CONTAINERS_WE_READ.has(subtype)) {
      const what = codecs.length ? ` with ${codecs.map(describeCodec).join(', ')}` : '';
      throw new VidmuxError(
        'unsupported',
        `The ${kind} stream is ${subtype.toUpperCase()}${what}; only MP4 input (H.264, H.265, AV1, VP9, AAC, Opus) can be saved without re-encoding.`,
      );
    }
    for (const codec of codecs) {
      const family = codecFamily(codec);
      if (!family) {
        throw new VidmuxError(
          'unsupported',
          `The ${kind} codec ${describeCodec(codec)} can't be saved into MP4 without re-encoding; supported: H.264, H.265, AV1, VP9, AAC, Opus.`,
        );
      }
    }
  }
}
