import { z } from 'zod';
import { JobProgressSchema } from '../progress';

/**
 * What the byte-handling context (Chrome's offscreen document, Firefox's background page) is asked
 * to make: one file from one or more tracks. `copy` saves a single file as is; `mux` joins a
 * video and/or an audio track into one MP4 with the media engine.
 */
export const SaveSpecSchema = z.object({
  jobId: z.string().min(1).max(64),
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
export type SaveSpec = z.infer<typeof SaveSpecSchema>;

/** What the byte-handling context reports about a job, in order: progress..., then ready or failed. */
export const EngineEventSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('progress'), progress: JobProgressSchema }),
  /** The file is complete in OPFS and `blobUrl` serves it until released. */
  z.object({ type: z.literal('ready'), blobUrl: z.string().startsWith('blob:'), bytes: z.number().int().nonnegative() }),
  z.object({ type: z.literal('failed'), error: z.object({ code: z.string(), message: z.string() }) }),
]);
export type EngineEvent = z.infer<typeof EngineEventSchema>;
