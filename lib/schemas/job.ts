import { z } from 'zod';
import { AttemptSchema, WireErrorSchema } from './error';
import { MakerIdSchema } from './ids';
import { JobProgressSchema } from './progress';
import { DownloadRequestSchema } from './request';

/** One download as every surface sees it. Serializable; persisted so a restarted worker keeps it. */
export const JobSchema = z.object({
  id: z.string().max(64),
  tabId: z.number().int().nullable(),
  pageUrl: z.string().max(8192),
  title: z.string().max(2000),
  /** Relative name asked of the browser. */
  filename: z.string().max(2000),
  sourceUrl: z.string().max(8192),
  provider: MakerIdSchema,
  progress: JobProgressSchema,
  error: WireErrorSchema.nullable(),
  /** Absolute path of the saved file, once done. */
  file: z.string().nullable(),
  /** The browser's download id while the browser is saving it. */
  downloadId: z.number().int().nullable(),
  createdAt: z.number(),
  finishedAt: z.number().nullable(),
  /** Providers tried so far and why each one that failed did (the one that worked has no error). */
  attempts: z.array(AttemptSchema).default([]),
  /** Files saved beside the main one (subtitles), once saved; and their browser download ids. */
  extraFiles: z.array(z.string()).default([]),
  extraDownloadIds: z.array(z.number().int()).default([]),
  /** Where the file is when it stays with the provider (e.g. the user's own bucket). */
  remoteLocation: z.string().nullable().default(null),
  /** Template the final name is made with once the provider and format are known. */
  filenameTemplate: z.string().max(300).default('{title}.{ext}'),
  /** The request that made the job, so it can be retried as it was asked. */
  request: DownloadRequestSchema.nullable().default(null),
});
export type Job = z.infer<typeof JobSchema>;

/**
 * Whether a job shows in the popup's downloads of `tabId`: the tab's own, and those of no tab or a
 * gone tab that need the user (running tabless: a resumed download, a reel; interrupted by a
 * browser restart, waiting for Resume). Finished others are history.
 */
export function showsInTab(job: Job, tabId: number): boolean {
  if (job.tabId === tabId) return true;
  if (job.progress.stage === 'interrupted') return true;
  return job.tabId === null && !['done', 'failed', 'cancelled'].includes(job.progress.stage);
}
