/**
 * The job the engine runs (one shape for every surface: the extension's buttons, popup and menu,
 * and the CLI) and what the engine reports back about it.
 */
import { z } from 'zod';
import { TransferLimitsSchema } from './limits';
import { AttemptSchema, WireErrorSchema } from './error';
import { AudioCodecPreferenceSchema, AudioFormatSchema, CodecPreferenceSchema, ContainerPreferenceSchema, DEFAULT_CODEC_PREFERENCE, MakerIdSchema, ProviderIdSchema, QualitySchema, SiteHostSchema } from './ids';
import { MediaCandidateSchema, MediaInfoSchema } from './media';
import { JobProgressSchema } from './progress';
import { ReelOptionsSchema, VidioContractOverrideSchema } from './reel';
import { TornadoStorageSchema } from './tornado-storage';

/** What the user wants of whatever a provider offers (lib/jobs/choose-format.ts picks by it). */
export const WishSchema = z.object({
  quality: QualitySchema,
  /** Audio-only saves: which container (MP3 only some providers make). */
  audioFormat: AudioFormatSchema.default('m4a'),
  /** Video codecs in the order the user prefers them. */
  codecPreference: CodecPreferenceSchema.default([...DEFAULT_CODEC_PREFERENCE]),
  /** The saved file's container when tracks are joined: MP4, or WebM when the source is WebM. */
  container: ContainerPreferenceSchema.default('mp4'),
  /** The sound that goes with a video (see AudioCodecPreference). */
  audioCodec: AudioCodecPreferenceSchema.default('auto'),
  /** An exact format picked in the popup, and the provider that offered it (others fall back by quality). */
  formatId: z.string().max(4000).nullable().default(null),
  formatProvider: ProviderIdSchema.nullable().default(null),
  /** Subtitle languages to save beside the video. */
  subtitleLanguages: z.array(z.string().max(20)).max(10).default([]),
  /** Save only the subtitles (the first provider that has them for the languages wins). */
  subtitlesOnly: z.boolean().default(false),
});
export type Wish = z.infer<typeof WishSchema>;

/** A provider to try, with its key (keys travel only inside the extension: background -> engine). */
export const ProviderSetupSchema = z.object({
  id: ProviderIdSchema,
  apiKey: z.string().max(600).nullable(),
  /** null: the provider's real API. */
  baseUrl: z.string().url().nullable(),
  /**
   * The page provider: sites whose pages the user allowed to make it fetch local addresses (the
   * settings' `privateNetworkSites`); absent: none.
   */
  privateNetworkSites: z.array(SiteHostSchema).max(200).optional(),
});
export type ProviderSetup = z.infer<typeof ProviderSetupSchema>;

/** One video of a playlist a provider expanded (e.g. a Tornado job it already made). */
export const PlaylistEntrySchema = z.object({
  provider: ProviderIdSchema,
  /** The provider's handle for the entry (Tornado's job id). */
  ref: z.string().min(1).max(200),
  url: z.string().max(8192).nullable(),
  title: z.string().max(2000).nullable(),
  index: z.number().int().nonnegative(),
  total: z.number().int().positive(),
});
export type PlaylistEntry = z.infer<typeof PlaylistEntrySchema>;

/**
 * One download: providers tried in order until one works; each resolves `url` (the page provider
 * the clicked `media`), the format the `wish` asks for is picked, and the provider downloads it
 * (and subtitles) into the engine's outputs.
 */
export const JobSpecSchema = z.object({
  jobId: z.string().min(1).max(64),
  /** The page or link to save. */
  url: z.string().url().max(8192),
  /**
   * The page the request came from when `url` is not that page (a link, or a video's own address,
   * from the context menu): what the page provider's local-address rule judges. null: `url` is.
   */
  pageUrl: z.string().url().max(8192).nullable().default(null),
  /** The video clicked on that page, if any: what the page provider saves. */
  media: MediaCandidateSchema.nullable().default(null),
  wish: WishSchema,
  /** At least one, except for a reel. */
  providers: z.array(ProviderSetupSchema).max(4),
  /** Tornado inline storage, when the user configured their own bucket. */
  tornadoStorage: TornadoStorageSchema.nullable().default(null),
  /** Parallel connections per track (the page's own files). */
  connections: z.number().int().min(1).max(10).default(4),
  /** The user's time limits (null: the engine's defaults). */
  limits: TransferLimitsSchema.nullable().default(null),
  /** The picker's resolve, so a picked download does not resolve again (its provider is tried first as usual). */
  resolved: MediaInfoSchema.nullable().default(null),
  /** One video of a playlist: the provider's own job for it. */
  entry: PlaylistEntrySchema.nullable().default(null),
  /** A VIDIO highlight reel instead of a download: `providers` is then empty (see {@link ReelSpecSchema}). */
  reel: z.lazy(() => ReelSpecSchema).nullable().default(null),
});
export type JobSpec = z.infer<typeof JobSpecSchema>;

/**
 * A highlight reel: local videos the reel page put in the engine's input store (in order), the
 * reel options, and VIDIO's key (keys travel only inside the extension: background -> engine).
 */
export const ReelSpecSchema = z.object({
  inputs: z
    .array(z.object({ id: z.string().regex(/^[\w-]{1,80}$/), name: z.string().min(1).max(300), size: z.number().int().nonnegative() }))
    .min(1)
    .max(20),
  options: ReelOptionsSchema,
  apiKey: z.string().min(1).max(600),
  /** null: the inferred default (lib/providers/vidio.ts VIDIO_CONTRACT). */
  baseUrl: z.string().url().nullable(),
  /** The user's corrections to the inferred contract (options page, advanced). */
  contract: VidioContractOverrideSchema.default({}),
});
export type ReelSpec = z.infer<typeof ReelSpecSchema>;
export type JobSpecInput = z.input<typeof JobSpecSchema>;

/** A finished output: where it is (a `blob:` URL in the browser, a path in Node) and its size. */
const OutputSchema = z.object({ url: z.string().min(1).max(8192), bytes: z.number().int().nonnegative() });

/** What was made, so the file can be named (provider, container, height, the video id). */
export const MadeSchema = z.object({
  provider: MakerIdSchema,
  title: z.string().max(2000),
  container: z.string().max(10),
  height: z.number().int().nullable(),
  mediaId: z.string().max(200).nullable(),
  attempts: z.array(AttemptSchema).max(8),
  subtitles: z.array(OutputSchema.extend({ language: z.string().max(20), container: z.string().max(10) })).max(20),
});
export type Made = z.infer<typeof MadeSchema>;

/** A streamed output's name in the engine's storage (OPFS): its pieces are `<file>.p00000`, ... */
export const StreamFileSchema = z.string().regex(/^vidmux-job-[\w-]{1,120}$/);

/** What the engine reports about a job, in order: progress and provider events, then ready, remote or failed. */
export const EngineEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), progress: JobProgressSchema }),
  /** A provider is being tried (after the ones in `attempts` failed). */
  z.object({ type: z.literal('provider'), provider: ProviderIdSchema, attempts: z.array(AttemptSchema).max(8) }),
  /**
   * The main file is being written in order, in committed pieces (a plain copy), as `file` in the
   * engine's storage: a browser may save it while it grows (Chrome: lib/platform/streamed-save.ts).
   * `made` is what it will be, for its name.
   */
  z.object({ type: z.literal('stream'), file: StreamFileSchema, made: MadeSchema.omit({ subtitles: true }) }),
  /** Bytes from 0 of the streamed file that are on disk for good; only ever grows within one stream. */
  z.object({ type: z.literal('committed'), bytes: z.number().int().nonnegative() }),
  /** The file is complete and `url` serves it until released. */
  OutputSchema.extend({ type: z.literal('ready'), made: MadeSchema }),
  /** The file stays where the provider put it (the user's own bucket). */
  z.object({ type: z.literal('remote'), location: z.string().max(2000), provider: ProviderIdSchema, attempts: z.array(AttemptSchema).max(8) }),
  z.object({ type: z.literal('failed'), error: WireErrorSchema }),
]);
export type EngineEvent = z.infer<typeof EngineEventSchema>;
/** How a job ends well. */
export type JobOutcome = Extract<EngineEvent, { type: 'ready' | 'remote' }>;
