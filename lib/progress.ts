import { z } from 'zod';
import type { Progress as PlainProgress } from './progress-meter';

/**
 * The one progress shape used by every surface (engine, background, popup, content button, CLI).
 * `bytesTotal` and `etaSeconds` are null while the total size is unknown.
 */
export const ProgressSchema = z.object({
  bytesDone: z.number().nonnegative(),
  bytesTotal: z.number().nonnegative().nullable(),
  /** Bytes per second, measured over the last 2 seconds. */
  speedBps: z.number().nonnegative(),
  etaSeconds: z.number().nonnegative().nullable(),
});
export type Progress = z.infer<typeof ProgressSchema>;
// Compile-time check: the schema and the plain interface in progress-meter.ts are the same shape.
const _sameShape: [Progress, PlainProgress] extends [PlainProgress, Progress] ? true : never = true;
void _sameShape;

/** A job's progress: one entry per track (e.g. "video", "audio", "file") and the whole job. */
export const JobProgressSchema = z.object({
  stage: z.enum(['queued', 'resolving', 'downloading', 'muxing', 'saving', 'done', 'failed', 'cancelled']),
  tracks: z.record(z.string(), ProgressSchema),
  overall: ProgressSchema,
});
export type JobProgress = z.infer<typeof JobProgressSchema>;

export { EMPTY_PROGRESS, SPEED_WINDOW_MS, MIN_EMIT_INTERVAL_MS, ProgressMeter, combineProgress } from './progress-meter';
