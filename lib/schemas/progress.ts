/**
 * The one progress shape used by every surface (engine, background, popup, buttons, CLI). The
 * arithmetic lives in ../progress.ts, which needs only these types (no zod at run time).
 */
import { z } from 'zod';

export const ProgressSchema = z.object({
  bytesDone: z.number().nonnegative(),
  /** Null while the total size is unknown. */
  bytesTotal: z.number().nonnegative().nullable(),
  /** Bytes per second, measured over the last 2 seconds. */
  speedBps: z.number().nonnegative(),
  /** Null while the total or the speed is unknown. */
  etaSeconds: z.number().nonnegative().nullable(),
  /**
   * Streams fetched as segments (HLS, DASH), whose size in bytes is unknown until the end: how many
   * segments are in, of how many.
   */
  segments: z.object({ done: z.number().int().nonnegative(), total: z.number().int().nonnegative() }).optional(),
});
export type Progress = z.infer<typeof ProgressSchema>;

/**
 * `recording`: a live stream is being recorded until the user finishes it (or the stream ends).
 * `interrupted`: the browser closed while the job ran; it waits for Resume (a new run of the same
 * job, which continues from what is on disk) or Discard.
 */
export const JOB_STAGES = ['queued', 'resolving', 'downloading', 'recording', 'muxing', 'saving', 'done', 'failed', 'cancelled', 'interrupted'] as const;
export type JobStage = (typeof JOB_STAGES)[number];
/** Stages a job never leaves. */
export const FINISHED_STAGES: ReadonlySet<JobStage> = new Set<JobStage>(['done', 'failed', 'cancelled', 'interrupted']);

/**
 * One of several results a job offers the user before it goes on (the reels VIDIO proposed): the
 * job waits until one is picked (`job.choose`). `thumbnail` is a small image as a `data:` URL,
 * fetched by the engine (a provider may want its key for it, which pages never hold).
 */
export const JobChoiceSchema = z.object({
  index: z.number().int().nonnegative(),
  durationSeconds: z.number().nonnegative().nullable(),
  thumbnail: z
    .string()
    .max(700_000)
    .regex(/^data:image\/(jpeg|png|webp|gif);base64,[A-Za-z0-9+/=]*$/)
    .nullable(),
});
export type JobChoice = z.infer<typeof JobChoiceSchema>;

/** A job's progress: one entry per track (e.g. "video", "audio", "file") and the whole job. */
export const JobProgressSchema = z.object({
  stage: z.enum(JOB_STAGES),
  tracks: z.record(z.string().max(40), ProgressSchema),
  overall: ProgressSchema,
  /** Where a remote service is, in words ("Queued at VIDIO", "Uploading match.mp4"), when it says. */
  words: z.string().max(300).optional(),
  /** Results to pick one of: the job waits for `job.choose` while these are shown. */
  choices: z.array(JobChoiceSchema).max(20).optional(),
});
export type JobProgress = z.infer<typeof JobProgressSchema>;
