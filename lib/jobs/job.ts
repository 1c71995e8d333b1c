import { z } from 'zod';
import { EMPTY_PROGRESS } from '../progress';
import type { WireError } from '../schemas/error';
import { JobSchema, type Job } from '../schemas/job';
import { FINISHED_STAGES, type JobStage } from '../schemas/progress';

/** A new queued job. */
export function newJob(
  init: Pick<Job, 'id' | 'tabId' | 'pageUrl' | 'title' | 'filename' | 'sourceUrl' | 'provider'> & Partial<Pick<Job, 'filenameTemplate' | 'request'>>,
  now = Date.now(),
): Job {
  return {
    attempts: [],
    extraFiles: [],
    extraDownloadIds: [],
    remoteLocation: null,
    filenameTemplate: '{title}.{ext}',
    request: null,
    ...init,
    progress: { stage: 'queued', tracks: {}, overall: EMPTY_PROGRESS },
    error: null,
    file: null,
    downloadId: null,
    createdAt: now,
    finishedAt: null,
  };
}

/**
 * The job list with change notification. Pure: the background persists `toJSON()` and restores
 * with `fromJSON()`. Finished jobs beyond `keepFinished` are dropped oldest first.
 */
export class JobStore {
  private jobs = new Map<string, Job>();
  private listeners = new Set<(job: Job | null) => void>();

  constructor(private readonly keepFinished = 50) {}

  /** Subscribes to every change; returns the unsubscribe function. */
  /** `job` is null when many changed at once (history cleared). */
  onChange(fn: (job: Job | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  add(job: Job): Job {
    this.jobs.set(job.id, job);
    this.prune();
    this.emit(job);
    return job;
  }

  get(id: string): Job | undefined {
    return this.jobs.get(id);
  }

  /** All jobs, newest first; only those of `tabId` when given. */
  list(tabId?: number): Job[] {
    const all = [...this.jobs.values()].sort((a, b) => b.createdAt - a.createdAt);
    return tabId === undefined ? all : all.filter((j) => j.tabId === tabId);
  }

  /** Applies `patch` to a job that is not finished yet; finished jobs never change again. */
  update(id: string, patch: Partial<Omit<Job, 'id'>>): Job | undefined {
    const job = this.jobs.get(id);
    if (!job || FINISHED_STAGES.has(job.progress.stage)) return job;
    const next: Job = { ...job, ...patch };
    if (FINISHED_STAGES.has(next.progress.stage) && next.finishedAt === null) next.finishedAt = Date.now();
    this.jobs.set(id, next);
    this.emit(next);
    return next;
  }

  /** Marks a job failed with a reason. */
  fail(id: string, error: WireError): Job | undefined {
    const job = this.jobs.get(id);
    if (!job) return undefined;
    const stage: JobStage = error.code === 'cancelled' ? 'cancelled' : 'failed';
    return this.update(id, { error, progress: { ...job.progress, stage } });
  }

  /** Forgets one job (an interrupted one the user discarded). */
  remove(id: string): void {
    if (this.jobs.delete(id)) for (const fn of this.listeners) fn(null);
  }

  /** Forgets finished jobs (the history); running ones stay. */
  clearFinished(): void {
    // Interrupted jobs wait for Resume or Discard: they are not history.
    for (const j of this.list()) if (FINISHED_STAGES.has(j.progress.stage) && j.progress.stage !== 'interrupted') this.jobs.delete(j.id);
    for (const fn of this.listeners) fn(null);
  }

  toJSON(): Job[] {
    return [...this.jobs.values()];
  }

  /** Restores jobs saved by `toJSON`, skipping any that no longer parse. */
  fromJSON(raw: unknown): void {
    const arr = z.array(z.unknown()).safeParse(raw);
    if (!arr.success) return;
    for (const item of arr.data) {
      const r = JobSchema.safeParse(item);
      if (r.success) this.jobs.set(r.data.id, r.data);
    }
  }

  private prune(): void {
    const finished = this.list().filter((j) => FINISHED_STAGES.has(j.progress.stage) && j.progress.stage !== 'interrupted');
    for (const j of finished.slice(this.keepFinished)) this.jobs.delete(j.id);
  }

  private emit(job: Job): void {
    for (const fn of this.listeners) fn(job);
  }
}
