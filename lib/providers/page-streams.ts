/**
 * The page provider's streams: HLS and DASH manifests into formats (one per rendition and audio
 * language), and a chosen format into one MP4 (its video and audio tracks fetched segment by
 * segment and joined by the engine's muxer, stream copy). The manifest is read again at download
 * time, so segment links are fresh and the resolve's state stays small.
 */
import { z } from 'zod';
import { VidmuxError } from '../errors';
import { engineCodec, muxableCodec } from '../codecs';
import { bestAudioTrack, parseDashManifest, type ManifestTrack, type ParsedManifest } from '../manifests/dash';
import { parseHls, trackSegments, type HlsMaster, type HlsMedia, type HlsRendition, type HlsVariant } from '../manifests/hls';
import type { ByteSink, ByteSource } from '../io';
import { writeAll } from '../net/save';
import { joinWebVtt } from '../streams/webvtt';
import { ForwardSource } from '../net/forward-source';
import type { HttpClient } from '../net/http';
import { TrackProgress } from '../progress';
import { dashWindow, hlsWindow, LiveRecording, type LiveWindow } from '../streams/live-source';
import { openStreamTrack, type StreamSegment } from '../streams/track-source';
import type { FormatFields } from './kit/format';
import { formatLabel } from './kit/format';
import type { DownloadContext, DownloadResult } from './types';

/**
 * What a stream format stands for. `video`/`audio` name tracks: a media playlist URL (HLS) or a
 * track key (DASH, see {@link dashKey}). `audioInVideo`: the video track's own segments carry the
 * sound (HLS variants without a separate audio rendition).
 */
export const StreamPlanSchema = z.object({
  mode: z.literal('stream'),
  protocol: z.enum(['hls', 'dash']),
  manifest: z.string().url(),
  video: z.string().max(8192).nullable(),
  audio: z.string().max(8192).nullable(),
  audioInVideo: z.boolean(),
  /** A live stream (HLS without EXT-X-ENDLIST): recorded from the live edge until finished. */
  live: z.boolean().default(false),
});
export type StreamPlan = z.infer<typeof StreamPlanSchema>;

/** A stream's subtitles: an HLS WebVTT rendition (its media playlist of .vtt segments). */
export const SubtitlePlanSchema = z.object({ mode: z.literal('vtt'), playlist: z.string().url() });
export type SubtitlePlan = z.infer<typeof SubtitlePlanSchema>;

/** Where stream formats go: the page provider's lists of formats and of subtitles. */
export interface AddFormat {
  (plan: StreamPlan, fields: FormatFields, label?: string): void;
  subtitle(plan: SubtitlePlan, fields: FormatFields, label?: string): void;
}

/** What reading a manifest taught besides its formats. */
export interface StreamFacts {
  duration: number | null;
}

/** Playlist and manifest bodies larger than this are refused. */
const MAX_MANIFEST_BYTES = 16 * 1024 * 1024;

/** Fetches a manifest's text (bounded). */
export async function fetchManifest(http: HttpClient, url: string, signal?: AbortSignal): Promise<{ text: string; url: string }> {
  const res = await http.request(url, { ...(signal ? { signal } : {}), headers: { accept: 'application/vnd.apple.mpegurl,application/x-mpegurl,application/dash+xml,*/*' } });
  const bytes = await res.bytes(MAX_MANIFEST_BYTES);
  return { text: new TextDecoder().decode(bytes), url: res.url };
}

/** A manifest read and parsed (or why it could not be). */
interface Read {
  url: string;
  text: string;
  kind: 'hls' | 'dash';
  parsed: ReturnType<typeof parseHls> | null;
  error: unknown;
}

/** Manifests read at most to tell which stream a video plays. */
const MAX_STREAMS_READ = 8;

/**
 * Which stream a MediaSource video plays, from the manifests its page loaded (oldest first): a
 * player loads a master playlist, then the media playlists of the variant and audio it plays, and
 * loads them again and again when live. The streams are the DASH manifests, the master playlists,
 * and the media playlists no master lists; the one seen last (itself or one of its playlists) is
 * the one playing. Returns its URL and text (read once here, not again).
 */
export async function findPlayingStream(http: HttpClient, urls: readonly string[], signal?: AbortSignal): Promise<{ url: string; text: string; kind: 'hls' | 'dash' }> {
  const unique = [...new Set(urls)].slice(-MAX_STREAMS_READ);
  const reads = await Promise.all(
    unique.map(async (url): Promise<Read> => {
      try {
        const fetched = await fetchManifest(http, url, signal);
        const kind = /^\s*#EXTM3U/.test(fetched.text) ? 'hls' : 'dash';
        // DASH is parsed when its formats are made; HLS here, to see masters and their playlists.
        return { url, text: fetched.text, kind, parsed: kind === 'hls' ? parseHls(fetched.text, fetched.url) : null, error: null };
      } catch (err) {
        if (signal?.aborted) throw err;
        return { url, text: '', kind: 'hls', parsed: null, error: err };
      }
    }),
  );
  const children = new Map<string, number>(); // media playlist -> index of the master listing it
  reads.forEach((r, i) => {
    if (r.parsed?.kind !== 'master') return;
    for (const v of r.parsed.variants) children.set(withoutQuery(v.url), i);
    for (const x of r.parsed.renditions) if (x.url) children.set(withoutQuery(x.url), i);
  });
  // When each stream was last seen: itself, or any of its playlists.
  const lastSeen = new Map<number, number>();
  reads.forEach((r, i) => {
    if (r.error) return;
    const owner = r.parsed?.kind === 'media' ? (children.get(withoutQuery(r.url)) ?? i) : i;
    lastSeen.set(owner, Math.max(lastSeen.get(owner) ?? -1, i));
  });
  const playing = [...lastSeen.entries()].sort((a, b) => b[1] - a[1])[0];
  if (!playing) throw reads.at(-1)?.error ?? new VidmuxError('not_found', 'The page loaded no stream Vidmux can read.', { provider: 'page' });
  const r = reads[playing[0]]!;
  return { url: r.url, text: r.text, kind: r.kind };
}

function withoutQuery(url: string): string {
  const q = url.search(/[?#]/);
  return q < 0 ? url : url.slice(0, q);
}

// ---------------------------------------------------------------------------------------------
// DASH

/** A DASH track's name across two reads of the manifest. */
export function dashKey(t: ManifestTrack): string {
  return `${t.kind}|${t.id}|${t.bandwidth}|${t.codecs}`;
}

/** One format per savable video representation (with the best audio), one per audio. */
export function dashFormats(manifest: ParsedManifest, manifestUrl: string, add: AddFormat): StreamFacts {
  // Any audio the engine copies may be picked (an explicit audio-only choice); pairing prefers AAC and Opus.
  const usable = (t: ManifestTrack, kind: 'video' | 'audio') => engineCodec(t.codecs, { allAudio: true })?.kind === kind && !t.protected && !t.initChanges && !t.partial;
  const audio = (() => {
    const best = bestAudioTrack({ ...manifest, audio: manifest.audio.filter((a) => usable(a, 'audio')) });
    return best;
  })();
  const plan = (video: ManifestTrack | null, a: ManifestTrack | null): StreamPlan => ({
    mode: 'stream',
    protocol: 'dash',
    manifest: manifestUrl,
    video: video ? dashKey(video) : null,
    audio: a ? dashKey(a) : null,
    audioInVideo: false,
    live: manifest.live,
  });
  // A video stream whose video cannot be saved is refused, not offered as its sound alone.
  if (manifest.video.length && !manifest.video.some((v) => usable(v, 'video'))) throw dashRefusal({ ...manifest, audio: [] });
  let added = 0;
  const offer = (p: StreamPlan, fields: FormatFields) => add(p, fields, manifest.live ? `Live · ${labelOf(fields)}` : undefined);
  for (const v of manifest.video) {
    if (!usable(v, 'video')) continue;
    const bandwidth = v.bandwidth + (audio?.bandwidth ?? 0);
    offer(plan(v, audio), {
      kind: 'video+audio',
      container: 'mp4',
      delivery: 'tracks',
      sourceContainer: trackContainer(v),
      videoCodec: v.codecs,
      audioCodec: audio?.codecs ?? null,
      width: v.width,
      height: v.height,
      fps: v.fps,
      bitrateKbps: Math.round(bandwidth / 1000),
      approxBytes: manifest.duration ? Math.round((bandwidth / 8) * manifest.duration) : null,
      language: audio?.language ?? null,
    });
    added++;
  }
  for (const a of manifest.audio) {
    if (!usable(a, 'audio')) continue;
    offer(plan(null, a), { kind: 'audio', container: 'm4a', delivery: 'tracks', sourceContainer: trackContainer(a), audioCodec: a.codecs, bitrateKbps: Math.round(a.bandwidth / 1000), language: a.language });
    added++;
  }
  if (!added) throw dashRefusal(manifest);
  return { duration: manifest.duration };
}

/** The container a DASH track's files are in, by their names (`.webm`: WebM; `.mp4`, `.m4s`...: MP4), or null. */
function trackContainer(t: ManifestTrack): string | null {
  const name = withoutQuery(t.singleFileUrl ?? t.segments[0]?.url ?? '').toLowerCase();
  if (/\.(webm|mkv)$/.test(name)) return 'webm';
  if (/\.(mp4|m4s|m4v|m4a|cmfv|cmfa)$/.test(name)) return 'mp4';
  return null;
}

/** Why no track of a DASH manifest can be saved. */
function dashRefusal(manifest: ParsedManifest): VidmuxError {
  const tracks = [...manifest.video, ...manifest.audio];
  if (tracks.length && tracks.every((t) => t.protected)) {
    return new VidmuxError('protected', 'This DASH stream is protected (DRM: ContentProtection); it can only be played by a licensed player, not saved.', { provider: 'page' });
  }
  const muxable = tracks.filter((t) => engineCodec(t.codecs, { allAudio: true }) && !t.protected);
  if (muxable.length && muxable.every((t) => t.initChanges || t.partial)) {
    return new VidmuxError('unsupported', 'This DASH stream changes its encoding between periods (an ad break?), so its parts do not make one file.', { provider: 'page' });
  }
  const offered = [...new Set(tracks.map((t) => t.codecs || 'unknown'))].join(', ');
  return new VidmuxError('unsupported', `None of this stream's tracks can be saved without re-encoding (codecs: ${offered}).`, { provider: 'page' });
}

// ---------------------------------------------------------------------------------------------
// HLS

/**
 * Formats of an HLS playlist: one per variant and audio language (a variant whose sound comes in
 * its own segments gives one), and audio-only ones. A master playlist's best variant is read too:
 * it says how long the stream is, and whether it is live or protected before anyone clicks.
 */
export async function hlsFormats(http: HttpClient, parsed: HlsMaster | HlsMedia, playlistUrl: string, add: AddFormat, signal?: AbortSignal): Promise<StreamFacts> {
  let live = false;
  const plan = (video: string | null, audio: string | null, audioInVideo: boolean): StreamPlan => ({ mode: 'stream', protocol: 'hls', manifest: playlistUrl, video, audio, audioInVideo, live });
  if (parsed.kind === 'media') {
    checkMedia(parsed);
    live = parsed.live;
    add(plan(playlistUrl, null, true), { kind: 'video+audio', container: 'mp4', delivery: 'tracks' }, live ? 'Live · MP4 · record from now' : 'Video · MP4 · HLS');
    return { duration: live ? null : parsed.duration };
  }
  const variants = parsed.variants.filter((v) => !v.videoCodec || muxableCodec(v.videoCodec)?.kind === 'video');
  const videoVariants = variants.filter((v) => v.videoCodec || v.height || !v.audioCodec);
  if (!videoVariants.length) {
    const offered = [...new Set(parsed.variants.map((v) => v.videoCodec ?? 'unknown'))].join(', ');
    throw new VidmuxError('unsupported', `None of this stream's variants can be saved as MP4 (video codecs: ${offered}).`, { provider: 'page' });
  }
  const best = [...videoVariants].sort((a, b) => b.bandwidth - a.bandwidth)[0]!;
  const sample = parseHls((await fetchManifest(http, best.url, signal)).text, best.url);
  if (sample.kind !== 'media') throw new VidmuxError('bad_response', 'An HLS variant points at another master playlist.', { provider: 'page' });
  checkMedia(sample);
  live = sample.live;
  const duration = live ? null : sample.duration || null;
  const audios = (group: string | null) => parsed.renditions.filter((r) => r.type === 'audio' && r.group === group && r.url);
  const size = (kbps: number) => (duration ? Math.round(((kbps * 1000) / 8) * duration) : null);
  for (const v of videoVariants) {
    const renditions = orderRenditions(audios(v.audioGroup));
    const fields = (r: HlsRendition | null): FormatFields => ({
      kind: 'video+audio',
      container: 'mp4',
      delivery: 'tracks',
      videoCodec: v.videoCodec,
      audioCodec: v.audioCodec,
      width: v.width,
      height: v.height,
      fps: v.fps,
      bitrateKbps: Math.round(v.bandwidth / 1000),
      approxBytes: size(v.bandwidth / 1000),
      language: r?.language ?? null,
    });
    const label = (r: HlsRendition | null) => `${live ? 'Live · ' : ''}${variantLabel(fields(r), r)}`;
    if (!renditions.length) {
      add(plan(v.url, null, true), fields(null), label(null));
      continue;
    }
    for (const r of renditions) add(plan(v.url, r.url, false), fields(r), label(r));
  }
  // Audio only: each separate audio rendition, else the sound of the smallest variant.
  const renditions = orderRenditions(parsed.renditions.filter((r) => r.type === 'audio' && r.url));
  const seen = new Set<string>();
  for (const r of renditions) {
    if (seen.has(r.url!)) continue;
    seen.add(r.url!);
    const codec = videoVariants.find((v) => v.audioGroup === r.group)?.audioCodec ?? null;
    add(plan(null, r.url, false), { kind: 'audio', container: 'm4a', delivery: 'tracks', audioCodec: codec, language: r.language }, `Audio · ${r.name}${r.language ? ` (${r.language})` : ''} · M4A`);
  }
  // Subtitles: each WebVTT rendition (closed captions inside the video are not files).
  const subtitleUrls = new Set<string>();
  for (const r of orderRenditions(parsed.renditions.filter((x) => x.type === 'subtitles' && x.url))) {
    if (subtitleUrls.has(r.url!)) continue;
    subtitleUrls.add(r.url!);
    add.subtitle({ mode: 'vtt', playlist: r.url! }, { kind: 'subtitle', container: 'vtt', delivery: 'file', language: r.language ?? r.name }, `Subtitles · ${r.name}${r.language && r.language !== r.name ? ` (${r.language})` : ''} · VTT`);
  }
  if (!renditions.length) {
    const smallest = [...videoVariants].sort((a, b) => a.bandwidth - b.bandwidth)[0]!;
    add(plan(null, smallest.url, true), { kind: 'audio', container: 'm4a', delivery: 'tracks', audioCodec: smallest.audioCodec }, 'Audio · M4A · from the smallest variant');
  }
  return { duration };
}

/** The default rendition first, then by name; one per language-and-name. */
function orderRenditions(list: HlsRendition[]): HlsRendition[] {
  return [...list].sort((a, b) => Number(b.isDefault) - Number(a.isDefault) || a.name.localeCompare(b.name));
}

/** The label every format with these fields gets. */
function labelOf(f: FormatFields): string {
  return formatLabel({ videoCodec: null, audioCodec: null, width: null, height: null, fps: null, bitrateKbps: null, approxBytes: null, language: null, ...f });
}

function variantLabel(f: FormatFields, r: HlsRendition | null): string {
  const base = labelOf(f);
  return [base, f.bitrateKbps ? `${f.bitrateKbps} kbps` : '', r ? `${r.name}${r.language && r.language !== r.name ? ` (${r.language})` : ''}` : ''].filter(Boolean).join(' · ');
}

/** Refuses a media playlist that cannot be saved as one file. */
function checkMedia(m: HlsMedia): void {
  if (trackSegments(m).initChanges) {
    throw new VidmuxError('unsupported', 'This HLS stream changes its encoding midway (an ad break?), so its parts do not make one file.', { provider: 'page' });
  }
}

// ---------------------------------------------------------------------------------------------
// Download

/** How {@link downloadStream} fetches. */
export interface StreamFetch {
  http: HttpClient;
  /** Segments in flight per track. */
  concurrency: number;
}

/** Saves a stream format into the context's output as one MP4 (or M4A). */
export async function downloadStream(plan: StreamPlan, ctx: DownloadContext, fetch: StreamFetch, title: string): Promise<DownloadResult> {
  const signal = ctx.signal;
  const kinds = (['video', 'audio'] as const).filter((k) => plan[k]);
  const progress = new TrackProgress(ctx.onProgress, kinds, plan.live ? 'recording' : 'downloading');
  progress.emit();
  if (plan.live) return record(plan, ctx, fetch, title, progress);
  const load = plan.protocol === 'hls' ? hlsTrackLoader(fetch.http, signal) : dashTrackLoader(fetch.http, plan.manifest, signal);
  const open = async (kind: 'video' | 'audio', name: string): Promise<ByteSource> => {
    const segments = await load(name);
    return openStreamTrack(segments, {
      client: fetch.http,
      concurrency: fetch.concurrency,
      ...(signal ? { signal } : {}),
      onProgress: (p) => progress.set(kind, p),
      reload: () => load(name),
    });
  };
  const [video, audio] = await Promise.all([plan.video ? open('video', plan.video) : null, plan.audio ? open('audio', plan.audio) : null]);
  const tracks =
    plan.audioInVideo && video && !audio
      ? { input: video }
      : { ...(video ? { video } : {}), ...(audio ? { audio } : {}) };
  const { bytes } = await ctx.mux({ ...tracks, title });
  return { bytes, subtitles: [] };
}

/**
 * Records a live stream (HLS or DASH) from its live edge until the context's `finish` (the user's
 * Stop), the end of the stream, or a stream that stops growing; what was recorded is one playable file.
 */
async function record(plan: StreamPlan, ctx: DownloadContext, fetch: StreamFetch, title: string, progress: TrackProgress): Promise<DownloadResult> {
  const signal = ctx.signal;
  const open = async (kind: 'video' | 'audio', name: string): Promise<ByteSource> => {
    const load = async (s?: AbortSignal): Promise<LiveWindow> => {
      if (plan.protocol === 'hls') {
        const fetched = await fetchManifest(fetch.http, name, s);
        const parsed = parseHls(fetched.text, fetched.url);
        if (parsed.kind !== 'media') throw new VidmuxError('bad_response', 'An HLS variant points at another master playlist.', { provider: 'page' });
        return hlsWindow(parsed);
      }
      const fetched = await fetchManifest(fetch.http, plan.manifest, s);
      const manifest = parseDashManifest(fetched.text, fetched.url);
      const track = [...manifest.video, ...manifest.audio].find((t) => dashKey(t) === name);
      if (!track) throw new VidmuxError('expired', 'The live DASH manifest no longer lists that rendition.', { provider: 'page' });
      return dashWindow(manifest, track);
    };
    const recording = new LiveRecording(await load(signal), {
      client: fetch.http,
      load,
      concurrency: fetch.concurrency,
      ...(signal ? { signal } : {}),
      ...(ctx.finish ? { finish: ctx.finish } : {}),
      onProgress: (p) => progress.set(kind, p),
    });
    // Read once: the demuxer's header reads are served from the same one stream.
    return new ForwardSource(recording, signal ? { signal } : {});
  };
  const [video, audio] = await Promise.all([plan.video ? open('video', plan.video) : null, plan.audio ? open('audio', plan.audio) : null]);
  const tracks = plan.audioInVideo && video && !audio ? { input: video } : { ...(video ? { video } : {}), ...(audio ? { audio } : {}) };
  const { bytes } = await ctx.mux({ ...tracks, title });
  return { bytes, subtitles: [] };
}

/** Subtitle segments fetched at most (a 10-hour stream in 6 s segments is 6000). */
const MAX_SUBTITLE_SEGMENTS = 20_000;

/**
 * Saves an HLS WebVTT rendition as one .vtt file: its playlist read, its segments fetched (a few
 * at once) and joined on the video's timeline. Returns the bytes written.
 */
export async function saveSubtitles(plan: SubtitlePlan, sink: ByteSink, fetch: StreamFetch, signal?: AbortSignal): Promise<number> {
  try {
    const fetched = await fetchManifest(fetch.http, plan.playlist, signal);
    const parsed = parseHls(fetched.text, fetched.url);
    if (parsed.kind !== 'media') throw new VidmuxError('bad_response', 'A subtitle rendition points at another master playlist.', { provider: 'page' });
    if (parsed.segments.length > MAX_SUBTITLE_SEGMENTS) throw new VidmuxError('bad_response', `The subtitle playlist lists ${parsed.segments.length} segments, more than Vidmux reads.`, { provider: 'page' });
    const texts: string[] = new Array<string>(parsed.segments.length);
    let next = 0;
    const worker = async () => {
      while (next < parsed.segments.length) {
        const i = next++;
        const s = parsed.segments[i]!;
        const res = await fetch.http.request(s.url, { ...(signal ? { signal } : {}), ...(s.range ? { headers: { range: `bytes=${s.range.start}-${s.range.end}` } } : {}) });
        texts[i] = new TextDecoder().decode(await res.bytes(MAX_MANIFEST_BYTES));
      }
    };
    await Promise.all(Array.from({ length: Math.min(fetch.concurrency, parsed.segments.length) }, worker));
    return await writeAll(sink, new TextEncoder().encode(joinWebVtt(texts)));
  } catch (err) {
    await sink.abort(err).catch(() => undefined);
    throw err;
  }
}

/** Reads an HLS media playlist (again) into its track's segments. */
function hlsTrackLoader(http: HttpClient, signal?: AbortSignal): (url: string) => Promise<StreamSegment[]> {
  return async (url) => {
    const fetched = await fetchManifest(http, url, signal);
    const parsed = parseHls(fetched.text, fetched.url);
    if (parsed.kind !== 'media') throw new VidmuxError('bad_response', 'An HLS variant points at another master playlist.', { provider: 'page' });
    checkMedia(parsed);
    return trackSegments(parsed).segments;
  };
}

/** Reads the DASH manifest (again) and finds a track by its key. */
function dashTrackLoader(http: HttpClient, manifestUrl: string, signal?: AbortSignal): (key: string) => Promise<StreamSegment[]> {
  return async (key) => {
    const fetched = await fetchManifest(http, manifestUrl, signal);
    const manifest = parseDashManifest(fetched.text, fetched.url);
    const track = [...manifest.video, ...manifest.audio].find((t) => dashKey(t) === key);
    if (!track) throw new VidmuxError('expired', 'The DASH manifest no longer lists that rendition; look for the video again.', { provider: 'page' });
    if (track.protected) throw new VidmuxError('protected', 'This DASH track is protected (DRM); it cannot be saved.', { provider: 'page' });
    return track.segments;
  };
}
