import { z } from 'zod';
import { AttemptSchema, WireErrorSchema } from './error';
import { CODEC_FAMILIES, DEFAULT_CODEC_PREFERENCE, ProviderIdSchema, QUALITIES } from './ids';
import { JobProgressSchema } from './progress';
import { TornadoStorageSchema } from './tornado-storage';

const JobIdSchema = z.string().min(1).max(64);

/**
 * A file made from media URLs we already know: `copy` saves a single file as is; `mux` joins a
 * video and/or an audio track into one MP4 with the media engine.
 */
export const UrlSaveSpecSchema = z.object({
  jobId: JobIdSchema,
  mode: z.enum(['copy', 'mux']),
  title: z.string().max(2000),
  /** MIME type of the output: the browser picks the saved file's extension from it. */
  mimeType: z.string().regex(/^(video|audio)\/[\w.+-]+$/),
  tracks: z
    .array(z.object({ kind: z.enum(['file', 'video', 'audio']), url: z.string().url().max(8192) }))
    .min(1)
    .max(2),
  /** Parallel connections per track. */
  connections: z.number().int().min(1).max(10).default(4),
});
export type UrlSaveSpec = z.infer<typeof UrlSaveSpecSchema>;

/**
 * A file made by providers, tried in order until one works: each resolves the URL into its
 * formats, the format for `quality` is picked, and the provider downloads it (and subtitles).
 * Keys travel only inside the extension (background -> offscreen), never to content scripts.
 */
export const ProviderSaveSpecSchema = z.object({
  jobId: JobIdSchema,
  mode: z.literal('provider'),
  url: z.string().url().max(8192),
  quality: z.enum(QUALITIES),
  subtitleLanguages: z.array(z.string().max(20)).max(10),
  providers: z
    .array(
      z.object({
        id: ProviderIdSchema,
        apiKey: z.string().max(600).nullable(),
        baseUrl: z.string().url().nullable(),
      }),
    )
    .min(1)
    .max(4),
  /** Tornado inline storage, when the user configured their own bucket. */
  tornadoStorage: TornadoStorageSchema.nullable().default(null),
  /** One video of a Tornado playlist: the job Tornado already made for it, to wait for and fetch. */
  tornadoJobId: z.string().max(100).nullable().default(null),
  /** Audio-only saves: which container the user wants (MP3 only some providers make). */
  audioFormat: z.enum(['m4a', 'mp3']).default('m4a'),
  /** Video codecs in the order the user prefers them. */
  codecPreference: z.array(z.enum(CODEC_FAMILIES)).max(4).default([...DEFAULT_CODEC_PREFERENCE]),
  /** An exact format picked in the popup, and the provider that offered it (others fall back by quality). */
  formatId: z.string().max(4000).nullable().default(null),
  formatProvider: ProviderIdSchema.nullable().default(null),
  /** Save only the subtitles (the first provider that has them for the languages wins). */
  subtitlesOnly: z.boolean().default(false),
});
export type ProviderSaveSpec = z.infer<typeof ProviderSaveSpecSchema>;
/** A provider spec as callers write it (defaults filled in by the schema). */
export type ProviderSaveSpecInput = z.input<typeof ProviderSaveSpecSchema>;

export const SaveSpecSchema = z.union([UrlSaveSpecSchema, ProviderSaveSpecSchema]);
export type SaveSpec = z.infer<typeof SaveSpecSchema>;

/** What a finished file is, so the background can name it (extension, height, provider). */
export const MadeFileSchema = z.object({
  blobUrl: z.string().startsWith('blob:'),
  bytes: z.number().int().nonnegative(),
});

/** What the byte-handling context reports about a job, in order: progress..., then ready or failed. */
export const EngineEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), progress: JobProgressSchema }),
  /** A provider is being tried (after the ones in `attempts` failed). */
  z.object({ type: z.literal('provider'), provider: ProviderIdSchema, attempts: z.array(AttemptSchema) }),
  /** The file is complete in OPFS and `blobUrl` serves it until released. */
  z.object({
    type: z.literal('ready'),
    blobUrl: z.string().startsWith('blob:'),
    bytes: z.number().int().nonnegative(),
    /** Provider jobs: what was made, so the background can name the file. */
    made: z
      .object({
        provider: ProviderIdSchema,
        title: z.string(),
        container: z.string().max(10),
        height: z.number().int().nullable(),
        mediaId: z.string().max(200).nullable(),
        attempts: z.array(AttemptSchema),
        subtitles: z.array(MadeFileSchema.extend({ language: z.string().max(20), container: z.string().max(10) })),
      })
      .optional(),
  }),
  /** Provider jobs whose file stays where the provider put it (the user's own bucket). */
  z.object({ type: z.literal('remote'), location: z.string().max(2000), provider: ProviderIdSchema, attempts: z.array(AttemptSchema) }),
  z.object({ type: z.literal('failed'), error: WireErrorSchema }),
]);
export type EngineEvent = z.infer<typeof EngineEventSchema>;

