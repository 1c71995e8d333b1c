/**
 * DASH manifests (.mpd) into the tracks they offer: each track's segments (an initialization
 * segment and media segments, whole URLs or byte ranges), or the one file that holds it all.
 * Parsing is mpd-parser's (the parser video.js uses): SegmentBase, SegmentList, SegmentTemplate
 * with `$Number$` and `$Time$`/SegmentTimeline, BaseURL at every level and multi-period manifests
 * are its job, not ours. What is ours: which tracks can be saved (one initialization for the whole
 * track, no DRM) and saying why a manifest cannot be.
 */
import { parse, type MpdPlaylist, type MpdSegment } from 'mpd-parser';
import { VidmuxError } from '../errors';
import { engineCodec, muxableCodec } from '../codecs';

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
  /** A ContentProtection element applies (DRM): the track cannot be saved. */
  protected: boolean;
  /**
   * Its periods change the initialization (another encoding after an ad break, say): the segments
   * do not make one stream, and the track cannot be saved as one file.
   */
  initChanges: boolean;
  /**
   * It covers only some periods of the presentation (another Representation, of another encoding,
   * plays the rest): on its own it is not the whole video.
   */
  partial: boolean;
  /** Presentation time (seconds) of each media segment, in order (the init segment has none). */
  times: number[];
}

export interface ParsedManifest {
  duration: number | null;
  video: ManifestTrack[];
  audio: ManifestTrack[];
  /** `type="dynamic"`: a live stream, its segments listed up to now and more to come. */
  live: boolean;
  /** A live manifest's `minimumUpdatePeriod` in seconds (how soon to read it again), else null. */
  updateSeconds: number | null;
}

/** How much of a live stream's past a manifest is read for: a recording starts at its live edge. */
const LIVE_WINDOW = 'PT60S';

/**
 * Parses an MPD document; throws `bad_response` with the reason if it is not a usable manifest.
 * `now` (ms) is the clock a live manifest's segments are listed against.
 */
export function parseDashManifest(text: string, manifestUrl: string, now = Date.now()): ParsedManifest {
  const mpdTag = /<MPD\b[^>]*>/i.exec(text)?.[0] ?? '';
  const live = /\btype\s*=\s*["']dynamic["']/i.test(mpdTag);
  if (live) {
    // mpd-parser lists a live stream's segments from its start (or its time-shift window) to now:
    // one object per segment since a stream started months ago, when no window is set. A recording
    // starts at the live edge, so the last minute is all that is read.
    const tag = mpdTag.replace(/\s+timeShiftBufferDepth\s*=\s*["'][^"']*["']/i, '').replace(/^<MPD\b/i, `<MPD timeShiftBufferDepth="${LIVE_WINDOW}"`);
    text = text.replace(mpdTag, tag);
  }
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(text, { manifestUri: manifestUrl, NOW: now });
  } catch (err) {
    throw new VidmuxError('bad_response', `The DASH manifest could not be read: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
  const duration = parsed.duration ?? null;
  const video = (parsed.playlists ?? []).map((p) => toTrack(p, 'video', null, duration));
  const audio: ManifestTrack[] = [];
  for (const group of Object.values(parsed.mediaGroups?.AUDIO ?? {})) {
    for (const [label, rendition] of Object.entries(group)) {
      for (const p of rendition.playlists ?? []) audio.push(toTrack(p, 'audio', rendition.language ?? label, duration));
    }
  }
  // An audio-only manifest lists its audio as plain playlists.
  const videoTracks = video.filter((t) => t.width !== null || /^(avc|hev|hvc|av01|vp0?9)/.test(t.codecs));
  const audioFromPlaylists = video.filter((t) => !videoTracks.includes(t)).map((t) => ({ ...t, kind: 'audio' as const }));
  const update = /\bminimumUpdatePeriod\s*=\s*["']([^"']*)["']/i.exec(mpdTag)?.[1];
  const result = {
    duration: live ? null : (parsed.duration ?? null),
    video: videoTracks,
    audio: [...audio, ...audioFromPlaylists],
    live,
    updateSeconds: live && update ? isoSeconds(update) : null,
  };
  if (!result.video.length && !result.audio.length) throw new VidmuxError('bad_response', 'The DASH manifest lists no tracks.');
  return result;
}

function toTrack(p: MpdPlaylist, kind: 'video' | 'audio', language: string | null, duration: number | null): ManifestTrack {
  const segments: TrackSegment[] = [];
  const list = p.segments ?? [];
  const init = list[0]?.map;
  if (init) segments.push({ url: init.resolvedUri, range: init.byterange ? toRange(init.byterange) : null });
  for (const s of list) segments.push({ url: s.resolvedUri, range: s.byterange ? toRange(s.byterange) : null });
  if (!list.length) {
    // SegmentBase with an index (the file is one fragmented MP4 whose sidx says where segments are),
    // or a Representation with only a BaseURL: either way one file holds the track.
    segments.push({ url: p.sidx?.resolvedUri ?? p.resolvedUri, range: null });
  }
  const sameInit = (m: MpdSegment['map']) => m?.resolvedUri === init?.resolvedUri && m?.byterange?.offset === init?.byterange?.offset;
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
    protected: !!p.contentProtection && Object.keys(p.contentProtection).length > 0,
    initChanges: list.some((s) => !sameInit(s.map)),
    // Segment durations are rounded per segment: a second (or 5%) short is still the whole.
    times: list.map((s) => s.presentationTime ?? 0),
    partial: !!duration && list.length > 0 && list.reduce((a, s) => a + (s.duration || 0), 0) < duration - Math.max(1, duration * 0.05),
  };
}

/** An ISO 8601 duration such as `PT1.5S` or `PT2M`, in seconds (null when it is not one). */
function isoSeconds(d: string): number | null {
  const m = /^P(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$/.exec(d.trim());
  if (!m) return null;
  const [, days, h, min, s] = m.map((x) => Number(x ?? 0));
  return days! * 86400 + h! * 3600 + min! * 60 + s!;
}

function toRange(b: { offset: number; length: number }): { start: number; end: number } {
  return { start: b.offset, end: b.offset + b.length - 1 };
}

/**
 * The URL when every segment is a consecutive byte range of one file starting at 0 (or the file
 * itself): then the whole file is the track, and one ranged download of it is all we need.
 */
export function singleFile(segments: readonly TrackSegment[]): string | null {
  if (!segments.length) return null;
  const url = segments[0]!.url;
  if (segments.some((s) => s.url !== url)) return null;
  // The file itself (SegmentBase without an index lists it as the init and the one segment).
  if (segments.every((s) => s.range === null)) return url;
  let next = 0;
  for (const s of segments) {
    if (!s.range || s.range.start !== next) return null;
    next = s.range.end + 1;
  }
  return url;
}

/**
 * The best audio track the media engine can mux (by bandwidth, never list order), to pair with
 * each video; null when there is none. AAC and Opus come first: every browser plays them in MP4;
 * MP3, AC-3 or E-AC-3 only when the stream has nothing else. Which video is the user's choice
 * (lib/jobs/choose-format.ts).
 */
export function bestAudioTrack(m: ParsedManifest): ManifestTrack | null {
  const best = (fits: (codec: string) => boolean) => m.audio.filter((t) => fits(t.codecs)).sort((a, b) => b.bandwidth - a.bandwidth)[0];
  // Vorbis (WebM output only) last: a VP9 + Vorbis stream still keeps its sound.
  return best((c) => muxableCodec(c)?.kind === 'audio') ?? best((c) => muxableCodec(c, { allAudio: true })?.kind === 'audio') ?? best((c) => engineCodec(c)?.kind === 'audio') ?? null;
}
