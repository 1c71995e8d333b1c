/**
 * What media is: what a page's `<video>` plays (a candidate), and what a provider offers for a URL
 * (formats and subtitles).
 */
import { z } from 'zod';
import { ProviderIdSchema } from './ids';

/** The page a request comes from. */
export const PageSchema = z.object({ title: z.string().max(2000), url: z.string().max(8192) });
export type PageRef = z.infer<typeof PageSchema>;

/**
 * What a page's `<video>` plays: a file we can save as is, or something that is not a file (yet):
 * an in-memory blob, a MediaSource stream fed by the page's player, or an HLS/DASH manifest.
 */
export const MediaKindSchema = z.enum(['file', 'blob', 'mediasource', 'manifest', 'none']);
export type MediaKind = z.infer<typeof MediaKindSchema>;

/** Manifests a candidate names at most (the newest are kept). */
export const MAX_STREAMS = 16;

export const MediaCandidateSchema = z.object({
  /** Stable for the element's lifetime on the page. */
  id: z.string().min(1).max(64),
  kind: MediaKindSchema,
  /** The URL the element plays (`currentSrc`, else `src`, else the first playable `<source>`). */
  src: z.string().max(8192),
  mimeType: z.string().max(200).nullable(),
  width: z.number().int().nonnegative(),
  height: z.number().int().nonnegative(),
  duration: z.number().nonnegative().nullable(),
  /**
   * HLS/DASH manifests the page's players loaded (in the video's frame), oldest first: a
   * MediaSource video plays one of them, and the page provider finds which stream they make
   * (a master playlist and its variants are one).
   */
  streams: z.array(z.string().max(8192)).max(MAX_STREAMS).optional(),
  /** The player says it has no end (`duration` Infinity): a live stream, recorded rather than downloaded. */
  live: z.boolean().optional(),
});
export type MediaCandidate = z.infer<typeof MediaCandidateSchema>;

/** One way to get the media (or a subtitle), whichever provider offers it. */
export const FormatSchema = z.object({
  /** Opaque, stable within one resolve: what `download` is given back. */
  id: z.string().min(1).max(4000),
  provider: ProviderIdSchema,
  kind: z.enum(['video+audio', 'video', 'audio', 'subtitle']),
  /** Container of the saved file: mp4, m4a, mp3, webm, srt, vtt, txt ... */
  container: z.string().max(10),
  /** RFC 6381 codec strings where known (e.g. avc1.64001f, mp4a.40.2). */
  videoCodec: z.string().max(100).nullable(),
  audioCodec: z.string().max(100).nullable(),
  width: z.number().int().nullable(),
  height: z.number().int().nullable(),
  fps: z.number().nullable(),
  bitrateKbps: z.number().nullable(),
  /** Approximate size in bytes, when the provider says. */
  approxBytes: z.number().nullable(),
  /**
   * `tracks`: separate video and audio that Vidmux streams and muxes itself;
   * `file`: a finished file the provider makes (or the page has) and Vidmux fetches.
   */
  delivery: z.enum(['tracks', 'file']),
  /** Subtitles and audio tracks: the language code. */
  language: z.string().max(40).nullable(),
  /** Subtitles: generated automatically by the site. */
  isAuto: z.boolean().optional(),
  /**
   * The container the provider serves this format's track(s) in (`mp4`, `m4a`, `webm`, `ts`...)
   * when they are joined by Vidmux (`tracks`): the chooser prefers one that needs no conversion.
   */
  sourceContainer: z.string().max(10).nullable().optional(),
  /**
   * A `tracks` video that takes its sound from one of the provider's audio-only formats, which
   * the chooser picks (lib/jobs/choose-format.ts `planFormat`) and the provider then streams.
   */
  pairsWithAudio: z.boolean().optional(),
  /** What a person sees, e.g. "1080p · AV1 · MP4". */
  label: z.string().max(500),
});
export type Format = z.infer<typeof FormatSchema>;

/** What a provider knows about a URL. */
export const MediaInfoSchema = z.object({
  provider: ProviderIdSchema,
  /** The URL that was resolved (the page or video URL the user gave). */
  url: z.string().max(8192),
  title: z.string().max(2000),
  durationSeconds: z.number().nullable(),
  thumbnail: z.string().max(8192).nullable(),
  formats: z.array(FormatSchema).max(2000),
  subtitles: z.array(FormatSchema).max(2000),
  /**
   * What the provider needs to download without resolving again (e.g. VidPickr's signed tokens),
   * and when it resolved. Provider-private: only the provider that made it reads it, validating it
   * with its own schema. Never shown to pages; stripped before the popup sees the info.
   */
  resolved: z.object({ at: z.number(), state: z.unknown() }).optional(),
});
export type MediaInfo = z.infer<typeof MediaInfoSchema>;
