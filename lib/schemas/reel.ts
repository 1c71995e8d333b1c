/**
 * VIDIO highlight reels (../shared/providers.md section 4; seed 003): what a reel is asked for and
 * the statuses its job goes through, in words. A leaf (zod only), so the UI, the settings and the
 * CLI use it without loading the provider (lib/providers/vidio.ts).
 *
 * The enum values are VIDIO's own (seed 003, `create_highlight_reel`); the option names are ours
 * (the provider maps them to VIDIO's parameter names).
 */
import { z } from 'zod';

/** `video_category`: "the category that most closely matches your content"; `others` when none does. */
export const VIDEO_CATEGORIES = ['podcast', 'ball-sports', 'non-ball-sports', 'beauty-product-demo', 'wedding', 'travel', 'others'] as const;
export const VideoCategorySchema = z.enum(VIDEO_CATEGORIES);
export type VideoCategory = z.infer<typeof VideoCategorySchema>;

/** `aspect_ratio` of the reel. */
export const ASPECT_RATIOS = ['landscape', 'portrait', 'square'] as const;
export const AspectRatioSchema = z.enum(ASPECT_RATIOS);
export type AspectRatio = z.infer<typeof AspectRatioSchema>;

/** `music_category`: a track VIDIO lays under the reel (looped when the reel is longer). */
export const MUSIC_CATEGORIES = [
  'corporate',
  'romantic',
  'sports',
  'kids_and_comedy',
  'ambient_and_nature',
  'horror_and_suspense',
  'documentary',
  'trending_vlogs',
] as const;
export const MusicCategorySchema = z.enum(MUSIC_CATEGORIES);
export type MusicCategory = z.infer<typeof MusicCategorySchema>;

/** Longest reel Vidmux asks for, in seconds (VIDIO documents no limit; an hour is generous). */
export const MAX_REEL_SECONDS = 3600;

/** Volumes are percentages, 0 to 100; VIDIO's default is 100. */
const Volume = z.number().int().min(0).max(100);

/** What a reel is asked for: the UI's and the CLI's options, checked before anything is sent. */
export const ReelOptionsSchema = z.object({
  category: VideoCategorySchema,
  /** `output_length`: the reel's length in whole seconds. */
  lengthSeconds: z.number().int().min(1).max(MAX_REEL_SECONDS),
  aspect: AspectRatioSchema,
  /** No music when absent or null. */
  music: MusicCategorySchema.nullable().optional(),
  musicVolume: Volume.default(100),
  /** `original_audio_volume`: the sound of the videos themselves. */
  originalVolume: Volume.default(100),
  /** Which of VIDIO's proposed reels to render; 0 is "in general, the best result". */
  outputIndex: z.number().int().min(0).default(0),
  /**
   * Show VIDIO's proposed reels (thumbnail, length) once it has made them and render the one the
   * user picks, instead of `outputIndex` (where the caller can ask: the extension, not the CLI).
   */
  chooseOutput: z.boolean().default(false),
});
/** Parsed options (defaults filled in). */
export type ReelOptions = z.infer<typeof ReelOptionsSchema>;
/** Options as a caller writes them (defaults may be left out). */
export type ReelOptionsInput = z.input<typeof ReelOptionsSchema>;

/** A reel job's statuses in the order it goes through them (seed 003 "Response fields"). */
export const REEL_STATUSES = ['submitted', 'queued', 'processing', 'processed', 'rendering', 'rendered'] as const;
export type ReelStatus = (typeof REEL_STATUSES)[number];
/**
 * Every status a job may show: the six documented ones, and `failed` (not documented; providers.md
 * 4.3 and open question 20: a job that ends `failed` with an `error` text).
 */
export const REEL_JOB_STATUSES = [...REEL_STATUSES, 'failed'] as const;
export const ReelJobStatusSchema = z.enum(REEL_JOB_STATUSES);
export type ReelJobStatus = z.infer<typeof ReelJobStatusSchema>;

/** Each status as a person reads it (progress lines in the popup and the CLI). */
export const REEL_STATUS_WORDS: Readonly<Record<ReelJobStatus, string>> = {
  submitted: 'Uploaded, waiting',
  queued: 'Queued at VIDIO',
  processing: 'VIDIO is analysing the video',
  processed: 'Reel ready to render',
  rendering: 'Rendering the reel',
  rendered: 'Rendered',
  failed: 'VIDIO could not make the reel',
};

/** File names of saved videos VIDIO can make a reel of (MP4, WebM or MPEG-TS, as its upload takes). */
const REELABLE_FILE = /\.(mp4|m4v|mov|webm|mkv|ts)$/i;

/** Whether a finished job's file can go into a highlight reel (a saved video, not itself a reel). */
export function isReelable(job: { filename: string; provider: string; remoteLocation: string | null }): boolean {
  return REELABLE_FILE.test(job.filename) && job.provider !== 'vidio' && !job.remoteLocation;
}

/** The reel input a finished job's file is kept as (lib/platform/opfs-inputs.ts keepAsInput). */
export const keptInputId = (jobId: string) => `saved-${jobId.replace(/[^\w-]/g, '').slice(0, 70)}`;

/** The words for a status. */
export function reelStatusWords(status: ReelJobStatus): string {
  return REEL_STATUS_WORDS[status];
}

/**
 * The parts of VIDIO's HTTP contract a user may correct (the options page's advanced section, or
 * `VIDIO_CONTRACT` as JSON for the CLI): none of it is public, so every default is inferred
 * (lib/providers/vidio.ts VIDIO_CONTRACT). Paths start with "/"; a job path holds `{id}`.
 */
const ApiPath = z.string().max(200).regex(/^\/[\w\-./{}]*$/, { message: 'A path starts with "/" and holds only letters, digits, - _ . / and {id}' });
export const VidioContractOverrideSchema = z
  .object({
    keyHeader: z.string().max(100).regex(/^[A-Za-z0-9-]+$/, { message: 'A header name holds only letters, digits and -' }),
    uploadPath: ApiPath,
    uploadField: z.string().max(100).regex(/^[\w-]+$/),
    reelsPath: ApiPath,
    jobPath: ApiPath.refine((p) => p.includes('{id}'), { message: 'The job path must hold {id}' }),
    renderPath: ApiPath.refine((p) => p.includes('{id}'), { message: 'The render path must hold {id}' }),
  })
  .partial();
export type VidioContractOverride = z.infer<typeof VidioContractOverrideSchema>;
