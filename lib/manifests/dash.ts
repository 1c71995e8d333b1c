/**
 * DASH manifests (.mpd) into the tracks they offer, and the pick of one video and one audio track.
 * Parsing is mpd-parser's (the parser video.js uses): SegmentBase, SegmentList, SegmentTemplate,
 * BaseURL resolution and multi-period manifests are its job, not ours.
 */
import { parse, type MpdPlaylist } from 'mpd-parser';
import { VidmuxError } from '../errors';
import { muxableCodec } from '../codecs';

/** One piece of a track: a URL, optionally a byte range of it (inclusive end). */
export interface TrackSegment {
  url: string;
  range: { start: number; end: number } | null;
}

/** A track a manifest offers. `segments` starts with the initialization segment. */
export interface ManifestTrack {
  kind: 'video' | 'audio';
  id: string;
  codecs: string;
  bandwidth: number;
  width: number | null;
  height: number | null;
  fps: number | null;
  language: string | null;
  segments: TrackSegment[];
  /** The whole track is one plain file (single-file DASH): the URL to fetch, else null. */
  singleFileUrl: string | null;
}

export interface ParsedManifest {
  duration: number | null;
  video: ManifestTrack[];
  audio: ManifestTrack[];
}

/** Parses an MPD document; throws `bad_response` with the reason if it is not a usable manifest. */
export function parseDashManifest(text: string, manifestUrl: string): ParsedManifest {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text, { manifestUri: manifestUrl });
  } catch (err) {
    throw new VidmuxError('bad_response', `The DASH manifest could not be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const video = (parsed.playlists ?? []).map((p) => toTrack(p, 'video', null));
  const audio: ManifestTrack[] = [];
  for (const group of Object.values(parsed.mediaGroups?.AUDIO ?? {})) {
    for (const [label, rendition] of Object.entries(group)) {
      for (const p of rendition.playlists ?? []) audio.push(toTrack(p, 'audio', rendition.language ?? label));
    }
  }
  // An audio-only manifest lists its audio as plain playlists.
  const videoTracks = video.filter((t) => t.width !== null || /^(avc|hev|hvc|av01|vp0?9)/.test(t.codecs));
  const audioFromPlaylists = video.filter((t) => !videoTracks.includes(t)).map((t) => ({ ...t, kind: 'audio' as const }));
  const result = { duration: parsed.duration ?? null, video: videoTracks, audio: [...audio, ...audioFromPlaylists] };
  if (!result.video.length && !result.audio.length) throw new VidmuxError('bad_response', 'The DASH manifest lists no tracks.');
  return result;
}

function toTrack(p: MpdPlaylist, kind: 'video' | 'audio', language: string | null): ManifestTrack {
  const segments: TrackSegment[] = [];
  const first = p.segments[0];
  const init = first?.map;
  if (init) segments.push({ url: init.resolvedUri, range: init.byterange ? toRange(init.byterange) : null });
  for (const s of p.segments) segments.push({ url: s.resolvedUri, range: s.byterange ? toRange(s.byterange) : null });
  if (!p.segments.length && p.sidx) {
    // SegmentBase with an index: the file is one fragmented MP4 whose sidx says where segments are.
    segments.push({ url: p.sidx.resolvedUri, range: null });
  }
  return {
    kind,
    id: p.attributes.NAME ?? '',
    codecs: p.attributes.CODECS ?? '',
    bandwidth: p.attributes.BANDWIDTH ?? 0,
    width: p.attributes.RESOLUTION?.width ?? null,
    height: p.attributes.RESOLUTION?.height ?? null,
    fps: p.attributes['FRAME-RATE'] ?? null,
    language,
    segments,
    singleFileUrl: singleFile(segments),
  };
}

function toRange(b: { offset: number; length: number }): { start: number; end: number } {
  return { start: b.offset, end: b.offset + b.length - 1 };
}

/**
 * The URL when every segment is a consecutive byte range of one file starting at 0 (or the file
 * itself): then the whole file is the track, and one ranged download of it is all we need.
 */
function singleFile(segments: TrackSegment[]): string | null {
  if (!segments.length) return null;
  const url = segments[0]!.url;
  if (segments.some((s) => s.url !== url)) return null;
  if (segments.length === 1 && segments[0]!.range === null) return url;
  let next = 0;
  for (const s of segments) {
    if (!s.range || s.range.start !== next) return null;
    next = s.range.end + 1;
  }
  return url;
}

/**
 * The best audio track the media engine can mux (by bandwidth, never list order), to pair with
 * each video; null when there is none. Which video is the user's choice (lib/jobs/choose-format.ts).
 */
export function bestAudioTrack(m: ParsedManifest): ManifestTrack | null {
  const audios = m.audio.filter((t) => muxableCodec(t.codecs)?.kind === 'audio').sort((a, b) => b.bandwidth - a.bandwidth);
  return audios[0] ?? null;
}
