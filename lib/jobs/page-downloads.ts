import { toVidmuxError, VidmuxError } from '../errors';
import type { MediaCandidate } from '../page-media';
import { planPageDownload } from '../page-media';
import { ProgressMeter } from '../progress';
import { FINISHED_STAGES, newJob, type Job, type JobStore } from './job';

/** What we need to know of a browser download. */
export interface DownloadState {
  state: 'in_progress' | 'complete' | 'interrupted';
  bytesReceived: number;
  totalBytes: number | null;
  /** Absolute path the browser saves to. */
  filename: string;
  /** The browser's interrupt reason, when interrupted. */
  error: string | null;
}

/** The browser's downloads, as this service uses them (the background passes the real ones). */
export interface DownloadBackend {
  start(url: string, filename: string): Promise<number>;
  get(id: number): Promise<DownloadState | null>;
  cancel(id: number): Promise<void>;
  describeInterrupt(reason: string | null): string;
}

/** What a request to save a page's media carries. */
export interface PageDownloadRequest {
  media: MediaCandidate;
  page: { title: string; url: string };
  tabId: number | null;
  filenameTemplate: string;
}

/**
 * Saves a page's own media files through the browser's downloads and keeps their jobs' progress
 * current. Polls the browser while anything is running (download events do not carry byte counts);
 * `refresh` can be called from `downloads.onChanged` for an immediate update.
 */
export class PageDownloads {
  private meters = new Map<string, ProgressMeter>();
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(
    private readonly store: JobStore,
    private readonly backend: DownloadBackend,
    private readonly opts: { pollMs?: number; newId?: () => string; now?: () => number } = {},
  ) {}

  /** Plans and starts a download; the job is returned at once and fails (not throws) on browser errors. */
  async start(req: PageDownloadRequest): Promise<Job> {
    const plan = planPageDownload(req.media, req.page, req.filenameTemplate);
    const id = this.opts.newId?.() ?? crypto.randomUUID();
    const job = this.store.add(
      newJob({ id, tabId: req.tabId, pageUrl: req.page.url, title: plan.title, filename: plan.filename, sourceUrl: plan.url, provider: 'page' }),
    );
    try {
      const downloadId = await this.backend.start(plan.url, plan.filename);
      this.store.update(id, { downloadId });
      this.meters.set(id, new ProgressMeter(null, this.opts.now));
      this.store.setProgress(id, 'downloading', this.meters.get(id)!.snapshot());
      this.ensurePolling();
      await this.refresh(id);
    } catch (err) {
      this.store.fail(id, toVidmuxError(err, 'download_failed').toJSON());
    }
    return this.store.get(id) ?? job;
  }

  /** Cancels a job; its browser download is cancelled and the job ends as cancelled. */
  async cancel(jobId: string): Promise<Job | null> {
    const job = this.store.get(jobId);
    if (!job) return null;
    if (!FINISHED_STAGES.has(job.progress.stage)) {
      if (job.downloadId !== null) await this.backend.cancel(job.downloadId);
      this.store.fail(jobId, new VidmuxError('cancelled', 'Cancelled.').toJSON());
    }
    return this.store.get(jobId) ?? null;
  }

  /** Resumes watching jobs that were running when the worker stopped. */
  resume(): void {
    if (this.activeJobs().length) this.ensurePolling();
  }

  /** Re-reads the browser's state of one job (or of every running job) and updates it. */
  async refresh(jobId?: string): Promise<void> {
    const jobs = jobId ? [this.store.get(jobId)].filter((j): j is Job => !!j) : this.activeJobs();
    await Promise.all(jobs.map((job) => this.refreshJob(job)));
    if (!this.activeJobs().length) this.stopPolling();
  }

  /** Finds the job that owns a browser download id. */
  jobForDownload(downloadId: number): Job | undefined {
    return this.store.list().find((j) => j.downloadId === downloadId);
  }

  private async refreshJob(job: Job): Promise<void> {
    if (job.downloadId === null || FINISHED_STAGES.has(job.progress.stage)) return;
    let state: DownloadState | null;
    try {
      state = await this.backend.get(job.downloadId);
    } catch (err) {
      this.store.fail(job.id, toVidmuxError(err, 'download_failed').toJSON());
      return;
    }
    if (!state) {
      this.store.fail(job.id, { code: 'download_failed', message: 'The browser no longer knows this download (it was removed from its list).' });
      return;
    }
    let meter = this.meters.get(job.id);
    if (!meter) this.meters.set(job.id, (meter = new ProgressMeter(null, this.opts.now)));
    meter.setTotal(state.totalBytes);
    meter.set(state.bytesReceived);
    if (state.state === 'complete') {
      meter.setTotal(state.bytesReceived);
      this.store.update(job.id, { file: state.filename });
      this.store.setProgress(job.id, 'done', meter.snapshot());
      this.meters.delete(job.id);
    } else if (state.state === 'interrupted') {
      const code = state.error === 'USER_CANCELED' ? 'cancelled' : 'download_failed';
      this.store.fail(job.id, { code, message: code === 'cancelled' ? 'Cancelled.' : `Download failed: ${this.backend.describeInterrupt(state.error)}.` });
      this.meters.delete(job.id);
    } else {
      this.store.setProgress(job.id, 'downloading', meter.snapshot());
    }
  }

  private activeJobs(): Job[] {
    return this.store.list().filter((j) => j.downloadId !== null && !FINISHED_STAGES.has(j.progress.stage));
  }

  private ensurePolling(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.refresh(), this.opts.pollMs ?? 500);
  }

  private stopPolling(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}
