/**
 * Codec strings, the one place that reads them: the family a codec belongs to (for the user's
 * codec preference), the rank of a codec under a preference, its display name, and whether the
 * media engine can stream-copy it into MP4 (asked by the demuxer, DASH manifests and the page
 * provider alike).
 */
import type { CodecFamily, CodecPreference } from './schemas/ids';

/** Prefixes of each family: RFC 6381 sample entries and the plain names some APIs use. */
const FAMILY_PREFIXES: Record<CodecFamily, readonly string[]> = {
  avc: ['avc1', 'avc3', 'h264'],
  hevc: ['hvc1', 'hev1', 'h265'],
  av1: ['av01'],
  vp9: ['vp09', 'vp9'],
};

/** The family of a video codec string (`avc1.64001f` -> avc, `vp9` -> vp9), or null. */
export function videoFamily(codec: string | null | undefined): CodecFamily | null {
  const c = (codec ?? '').trim().toLowerCase();
  for (const [family, prefixes] of Object.entries(FAMILY_PREFIXES) as Array<[CodecFamily, readonly string[]]>) {
    if (prefixes.some((p) => c.startsWith(p))) return family;
  }
  return null;
}

/** Where a codec stands in the user's preference: 0 is the first choice; unknown codecs come last. */
export function codecRank(codec: string | null | undefined, preference: CodecPreference): number {
  const family = videoFamily(codec);
  const i = family ? preference.indexOf(family) : -1;
  return i < 0 ? preference.length : i;
}

/** "H.264", "VP9", "AAC", "Opus" ...; the codec string itself when it is not a known one. */
export function codecDisplayName(codec: string | null): string {
  const s = (codec ?? '').toLowerCase();
  switch (videoFamily(s)) {
    case 'avc':
      return 'H.264';
    case 'hevc':
      return 'H.265';
    case 'av1':
      return 'AV1';
    case 'vp9':
      return 'VP9';
    default:
  }
  if (s === 'vp8' || s.startsWith('vp08')) return 'VP8';
  if (s === 'mp3' || s.startsWith('mp4a.40.34') || s === 'mp4a.6b' || s === 'mp4a.69') return 'MP3';
  if (s.startsWith('mp4a')) return 'AAC';
  if (s === 'ac-3') return 'AC-3';
  if (s === 'ec-3') return 'E-AC-3';
  if (s === 'opus') return 'Opus';
  if (s === 'vorbis') return 'Vorbis';
  return codec ?? '';
}

/** Codec families the media engine stream-copies into MP4. */
export type MuxableVideo = 'avc' | 'hevc' | 'av1' | 'vp9';
export type MuxableAudio = 'aac' | 'opus' | 'mp3' | 'ac3' | 'eac3';

const MUXABLE_VIDEO: Record<string, MuxableVideo> = { avc1: 'avc', avc3: 'avc', hvc1: 'hevc', hev1: 'hevc', av01: 'av1', vp09: 'vp9' };

/** Options of {@link muxableCodec}. */
export interface MuxableCodecOptions {
  /**
   * Also answer for the audio the engine copies but browsers play unevenly in MP4: MP3 (`mp3`,
   * `mp4a.6B`, `mp4a.69`), AC-3 (`ac-3`) and E-AC-3 (`ec-3`). The demuxers ask with it
   * (an input carrying them is saved as it is); manifest pickers ask without it, so they keep
   * choosing AAC or Opus renditions.
   */
  allAudio?: boolean;
}

/**
 * The family of an RFC 6381 codec string the media engine can stream-copy into MP4, or null
 * (WebM's plain "vp9", Vorbis, FLAC ...): what a manifest track or an MP4 sample entry offers.
 * Without `opts.allAudio`, MP3, AC-3 and E-AC-3 answer null, as they always have.
 */
export function muxableCodec(
  codec: string,
  opts: MuxableCodecOptions = {},
): { kind: 'video'; family: MuxableVideo } | { kind: 'audio'; family: MuxableAudio } | null {
  const c = codec.trim();
  const video = MUXABLE_VIDEO[c.slice(0, 4)];
  if (video) return { kind: 'video', family: video };
  if (/^mp4a\.40(\.\d+)?$/i.test(c) || c === 'mp4a') return { kind: 'audio', family: 'aac' };
  if (/^opus$/i.test(c)) return { kind: 'audio', family: 'opus' };
  if (!opts.allAudio) return null;
  if (/^(mp3|mp4a\.6b|mp4a\.69)$/i.test(c)) return { kind: 'audio', family: 'mp3' };
  if (/^ac-3$/i.test(c)) return { kind: 'audio', family: 'ac3' };
  if (/^ec-3$/i.test(c)) return { kind: 'audio', family: 'eac3' };
  return null;
}

/** Codec families the media engine reads and copies: the MP4 ones plus WebM's VP8 and Vorbis. */
export type EngineVideo = MuxableVideo | 'vp8';
export type EngineAudio = MuxableAudio | 'vorbis';
/** The containers the media engine writes. */
export type OutputContainer = 'mp4' | 'webm';

/**
 * Which families each output container holds without re-encoding. MP4: ISO BMFF's registered
 * codecs (VP9, AV1 and Opus included, as browsers and VLC play them). WebM: only what the WebM
 * spec allows (VP8, VP9, AV1, Opus, Vorbis); H.264 or AAC would make a Matroska file, not WebM.
 */
const CONTAINER_FAMILIES: Record<OutputContainer, ReadonlySet<EngineVideo | EngineAudio>> = {
  mp4: new Set<EngineVideo | EngineAudio>(['avc', 'hevc', 'av1', 'vp9', 'aac', 'opus', 'mp3', 'ac3', 'eac3']),
  webm: new Set<EngineVideo | EngineAudio>(['vp8', 'vp9', 'av1', 'opus', 'vorbis']),
};

/** Whether `container` holds `family` as it is. */
export function familyFits(family: EngineVideo | EngineAudio, container: OutputContainer): boolean {
  return CONTAINER_FAMILIES[container].has(family);
}

/**
 * The family of any codec the media engine can read and copy (into MP4 or WebM, see
 * {@link familyFits}), or null: {@link muxableCodec}'s answers plus VP8 (`vp8`, `vp08.*`) and
 * Vorbis (`vorbis`), and the plain names WebM and manifests use (`vp9`, `av1`).
 */
export function engineCodec(
  codec: string,
  opts: MuxableCodecOptions = {},
): { kind: 'video'; family: EngineVideo } | { kind: 'audio'; family: EngineAudio } | null {
  const c = codec.trim().toLowerCase();
  if (c === 'vp8' || c.startsWith('vp08')) return { kind: 'video', family: 'vp8' };
  if (c === 'vp9') return { kind: 'video', family: 'vp9' };
  if (c === 'av1') return { kind: 'video', family: 'av1' };
  if (c === 'vorbis') return { kind: 'audio', family: 'vorbis' };
  return muxableCodec(codec, opts);
}
