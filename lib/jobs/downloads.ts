/**
 * The background's side of a download: the queue entry, the engine that makes the file, then the
 * browser's downloads that save it, followed until the file is on disk.
 */
import { toVidmuxError, VidmuxError } from '../errors';
import { cleanTitle, isoDate, renderFilename } from '../filename';
import { extensionFor, mimeTypeFor } from '../media-types';
import { progressFraction, ProgressMeter } from '../progress';
import type { Job } from '../schemas/job';
import { JobSpecSchema, type EngineEvent, type JobSpec, type JobSpecInput } from '../schemas/job-spec';
import { FINISHED_STAGES, type JobStage } from '../schemas/progress';
import type { DownloadRequest as UserRequest } from '../schemas/request';
import { keptInputId } from '../schemas/reel';
import { hostnameOf } from '../sites';
import { newJob, type JobStore } from './job';
import { mainFileName, subtitleFileName } from './output-names';

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
  /** Saves that begin while the engine writes (Chrome); without it a file is saved once complete. */
  streamed?: StreamedSaves;
}

/**
 * Browser downloads of a job's file that run while the engine writes it (the engine's `stream`
 * and `committed` events): the download takes bytes as they are committed and ends once told
 * where the file ends, so the browser does not copy the finished file at the end (Chrome:
 * lib/platform/streamed-save.ts).
 */
export interface StreamedSaves {
  /** Starts the browser's download of the engine's `file` as `filename`; resolves to its id. */
  start(jobId: string, file: string, filename: string, mimeType: string): Promise<number>;
  /** Bytes from 0 of the job's file on disk for good. */
  committed(jobId: string, bytes: number): void;
  /** The file is complete at `bytes`: the download ends there. `null`: abandoned, the download fails. */
  end(jobId: string, bytes: number | null): void;
}

/**
 * The context that holds media bytes (Chrome: the offscreen document; Firefox: the background
 * page). It runs a spec and reports back through {@link DownloadService.onEngineEvent}.
 */
export interface EngineHost {
  start(spec: JobSpec): Promise<void>;
  cancel(jobId: string): Promise<void>;
  /** Finishes a recording: the job saves what it has and ends as usual. */
  finish(jobId: string): Promise<void>;
  /** The result a job waiting on `progress.choices` goes on with. */
  choose(jobId: string, index: number): Promise<void>;
  /**
   * Frees what a job left behind: its blob URL and its OPFS file; with `keepAs`, the main file is
   * kept as that reel input instead (see {@link DownloadServiceOptions.keepForReel}).
   */
  release(jobId: string, keepAs?: string): Promise<void>;
  /**
   * Whether the engine's context is there now (Chrome: the offscreen document). A host whose engine
   * lives as long as the background (Firefox's) leaves it out.
   */
  alive?(): Promise<boolean>;
}

export interface DownloadServiceOptions {
  pollMs?: number;
  newId?: () => string;
  now?: () => number;
  /**
   * Whether a job's file, once the browser has saved it, stays in the engine's storage as a reel
   * input (`saved-<job id>`), so "Make a highlight reel" needs no file picker (the browser never
   * hands an extension back the files it saved). Deleted when a reel has read it, when another
   * file is kept, or after an hour (lib/platform/opfs-inputs.ts).
   */
  keepForReel?(job: Job): Promise<boolean>;
}

/** A job's streamed save: its browser download, once the browser began it (`started`). */
interface StreamEntry {
  downloadId: number | null;
  started: Promise<void>;
}

/**
 * The stages of a job whose bytes are in the engine: it dies with the engine. Not `saving`: Chrome's
 * download of the engine's blob URL holds the file's data from its start, and finishes even once
 * the document that made the URL is gone and the OPFS file deleted (tried in Chromium: an 800 MB
 * file saved whole), so the browser's word still ends such a job.
 */
const ENGINE_STAGES: ReadonlySet<JobStage> = new Set<JobStage>(['queued', 'resolving', 'downloading', 'recording', 'muxing']);

/** Why a job failed when its engine went, and where it was. */
function engineLostMessage(job: Job): string {
  const fraction = progressFraction(job.progress.overall);
  const where: Partial<Record<JobStage, string>> = {
    queued: ' before it began',
    resolving: ' before it began',
    downloading: fraction === null ? '' : ` at ${Math.floor(100 * fraction)}%`,
    recording: ' while recording',
    muxing: ' while joining video and audio',
  };
  return `The download engine stopped (its page was closed or crashed)${where[job.progress.stage] ?? ''}; nothing was saved. Retry to start again.`;
}

/** What a job needs to start: the spec the engine runs, and what the queue shows and keeps. */
export interface StartJobRequest {
  spec: Omit<JobSpecInput, 'jobId'>;
  /** Runs it as this job again (Resume: the engine continues what that job left on disk). */
  jobId?: string;
  page: { title: string; url: string };
  tabId: number | null;
  filenameTemplate: string;
  /** Kept on the job for retry. */
  request?: UserRequest;
}

/**
 * Runs downloads end to end: have the engine make the file (providers, network and media engines,
 * OPFS), then hand the finished file to the browser's downloads and follow it until it is on disk.
 * The worker that runs this never touches media bytes. The browser download is polled while
 * active (its events carry no byte counts); `refresh` also runs on `downloads.onChanged`.
 */
export class DownloadService {
  private meters = new Map<string, ProgressMeter>();
  private timer: ReturnType<typeof setInterval> | null = null;
  /** Streamed saves of jobs still in the engine: their browser download (null until it exists). */
  private streams = new Map<string, StreamEntry>();

  constructor(
    private readonly store: JobStore,
    private readonly backend: DownloadBackend,
    private readonly engine: EngineHost,
    private readonly opts: DownloadServiceOptions = {},
  ) {}

  /**
   * Starts a job in the engine. The file is named when the engine reports what it made (provider,
   * container, height); until then the queue shows a provisional name.
   */
  async start(req: StartJobRequest): Promise<Job> {
    const id = req.jobId ?? this.opts.newId?.() ?? crypto.randomUUID();
    const title = cleanTitle(req.page.title) || 'video';
    const ext = req.spec.media?.kind === 'file' ? extensionFor(req.spec.media.src, req.spec.media.mimeType) : 'mp4';
    this.store.add(
      newJob({
        id,
        tabId: req.tabId,
        pageUrl: req.page.url,
        title,
        filename: renderFilename(req.filenameTemplate, { title, ext, host: hostnameOf(req.page.url), date: isoDate() }),
        sourceUrl: req.spec.media?.kind === 'file' ? req.spec.media.src : req.spec.url,
        provider: req.spec.reel ? 'vidio' : (req.spec.entry?.provider ?? req.spec.providers[0]!.id),
        filenameTemplate: req.filenameTemplate,
        request: req.request ?? null,
      }),
    );
    this.store.update(id, { progress: { stage: 'resolving', tracks: {}, overall: new ProgressMeter(null, this.opts.now).snapshot() } });
    try {
      await this.engine.start(JobSpecSchema.parse({ ...req.spec, jobId: id }));
    } catch (err) {
      this.store.fail(id, toVidmuxError(err, 'internal').toJSON());
    }
    return this.store.get(id)!;
  }

  /** Applies what the engine reports about a job. */
  async onEngineEvent(jobId: string, event: EngineEvent): Promise<void> {
    const job = this.store.get(jobId);
    if (!job || FINISHED_STAGES.has(job.progress.stage)) {
      // A job we no longer follow (cancelled, or forgotten): free what it made.
      await this.abandonStream(jobId);
      if (event.type !== 'progress' && event.type !== 'committed') await this.engine.release(jobId);
      return;
    }
    if (event.type === 'stream') return this.startStream(job, event);
    if (event.type === 'committed') {
      if (this.streams.has(jobId)) this.backend.streamed?.committed(jobId, event.bytes);
      return;
    }
    if (event.type === 'progress') {
      // Only this service ends a job (when the file is on disk or stored remotely): a provider's
      // own "done" is just the last progress.
      const stage = FINISHED_STAGES.has(event.progress.stage) ? job.progress.stage : event.progress.stage;
      if (job.progress.stage === 'downloading' || job.progress.stage === 'resolving') this.store.update(jobId, { progress: { ...event.progress, stage } });
      return;
    }
    if (event.type === 'provider') {
      this.store.update(jobId, { provider: event.provider, attempts: [...event.attempts, { provider: event.provider, error: null }] });
      return;
    }
    if (event.type === 'failed') {
      this.store.fail(jobId, event.error);
      await this.abandonStream(jobId);
      await this.engine.release(jobId);
      return;
    }
    if (event.type === 'remote') {
      await this.abandonStream(jobId);
      this.store.update(jobId, {
        provider: event.provider,
        attempts: event.attempts,
        remoteLocation: event.location,
        progress: { ...job.progress, stage: 'done' },
      });
      await this.engine.release(jobId);
      return;
    }
    // ready: the file is complete; the browser's streamed download ends with it, or the browser
    // copies it to the downloads folder now.
    const { made } = event;
    const streamed = await this.liveStream(jobId);
    if (streamed === null) {
      const { title, filename } = mainFileName({ template: job.filenameTemplate, title: job.title, pageUrl: job.pageUrl, sourceUrl: job.sourceUrl, made });
      this.store.update(jobId, { provider: made.provider, attempts: made.attempts, title, filename });
    } else {
      // Named when its download began.
      this.store.update(jobId, { provider: made.provider, attempts: made.attempts });
    }
    const { filename } = this.store.get(jobId)!;
    const meter = new ProgressMeter(event.bytes, this.opts.now);
    this.meters.set(jobId, meter);
    this.store.update(jobId, { progress: { stage: 'saving', tracks: job.progress.tracks, overall: meter.snapshot() } });
    try {
      // Only the engine's own blob URLs are handed to the browser.
      for (const url of [event.url, ...made.subtitles.map((s) => s.url)]) {
        if (!url.startsWith('blob:')) throw new VidmuxError('internal', 'The engine reported a file that is not a blob URL.');
      }
      // Subtitles go beside the video: same name, language and their own extension.
      const extraDownloadIds: number[] = [];
      for (const sub of made.subtitles) extraDownloadIds.push(await this.backend.start(sub.url, subtitleFileName(filename, sub.language, sub.container)));
      let downloadId: number;
      if (streamed !== null) {
        downloadId = streamed;
        this.backend.streamed?.end(jobId, event.bytes);
      } else {
        downloadId = await this.backend.start(event.url, filename);
      }
      this.store.update(jobId, { downloadId, extraDownloadIds });
      this.ensurePolling();
      await this.refresh(jobId);
    } catch (err) {
      this.store.fail(jobId, toVidmuxError(err, 'download_failed').toJSON());
      if (streamed !== null) await this.backend.cancel(streamed);
      await this.engine.release(jobId);
    }
  }

  /** The engine writes the main file in order: the browser starts saving it now (when it can). */
  private async startStream(job: Job, event: Extract<EngineEvent, { type: 'stream' }>): Promise<void> {
    const saves = this.backend.streamed;
    if (!saves) return;
    const { title, filename } = mainFileName({ template: job.filenameTemplate, title: job.title, pageUrl: job.pageUrl, sourceUrl: job.sourceUrl, made: event.made });
    this.store.update(job.id, { title, filename });
    let settle = () => {};
    const entry: StreamEntry = { downloadId: null, started: new Promise<void>((resolve) => (settle = resolve)) };
    // Set before anything is awaited: the job's next events (a small file's `ready`) find it.
    const earlier = this.streams.get(job.id);
    this.streams.set(job.id, entry);
    // An earlier provider's attempt is over (its save is dropped by `start`; one still starting
    // cancels its own download when it finds itself replaced).
    if (earlier?.downloadId != null) await this.backend.cancel(earlier.downloadId);
    let downloadId: number;
    try {
      downloadId = await saves.start(job.id, event.file, filename, mimeTypeFor(event.made.container));
    } catch {
      // No streamed save: the finished file is saved as usual.
      if (this.streams.get(job.id) === entry) this.streams.delete(job.id);
      settle();
      return;
    }
    entry.downloadId = downloadId;
    settle();
    if (this.streams.get(job.id) !== entry) {
      // The job ended (or moved on) while the browser started it.
      await this.backend.cancel(downloadId);
    }
  }

  /** A job's streamed download, if it is still going; a broken one is dropped. */
  private async liveStream(jobId: string): Promise<number | null> {
    const stream = this.streams.get(jobId);
    if (!stream) return null;
    // A small file can be ready before the browser has begun its download: that one still saves it.
    await stream.started;
    const state = stream.downloadId === null ? null : await this.backend.get(stream.downloadId).catch(() => null);
    if (state?.state !== 'in_progress') {
      await this.abandonStream(jobId);
      return null;
    }
    this.streams.delete(jobId);
    return stream.downloadId;
  }

  /** Ends a job's streamed download that will never complete: cancelled, so nothing partial stays. */
  private async abandonStream(jobId: string): Promise<void> {
    const stream = this.streams.get(jobId);
    if (!stream) return;
    this.streams.delete(jobId);
    if (stream.downloadId !== null) await this.backend.cancel(stream.downloadId);
    this.backend.streamed?.end(jobId, null);
  }

  /**
   * A streamed download changed while its job is still in the engine: the user cancelling it
   * cancels the job; any other end drops it (the finished file is then saved as usual).
   */
  private async refreshStream(job: Job, downloadId: number): Promise<void> {
    const state = await this.backend.get(downloadId).catch(() => null);
    if (state?.state === 'in_progress') return;
    if (state?.state === 'interrupted' && state.error === 'USER_CANCELED') await this.cancel(job.id);
    else await this.abandonStream(job.id);
  }

  /** Cancels a job wherever it is: in the engine or in the browser's downloads. */
  async cancel(jobId: string): Promise<Job | null> {
    const job = this.store.get(jobId);
    if (!job) return null;
    if (!FINISHED_STAGES.has(job.progress.stage)) {
      this.store.fail(jobId, new VidmuxError('cancelled', 'Cancelled.').toJSON());
      await this.abandonStream(jobId);
      if (job.downloadId !== null) await this.backend.cancel(job.downloadId);
      await this.engine.cancel(jobId).catch(() => undefined);
      await this.engine.release(jobId).catch(() => undefined);
    }
    return this.store.get(jobId) ?? null;
  }

  /** A job waiting on its `progress.choices` goes on with choice `index`. */
  async choose(jobId: string, index: number): Promise<Job | null> {
    const job = this.store.get(jobId);
    if (!job) return null;
    const choices = job.progress.choices;
    if (FINISHED_STAGES.has(job.progress.stage) || !choices) throw new VidmuxError('bad_input', 'This download is not waiting for a choice.');
    if (!choices.some((c) => c.index === index)) throw new VidmuxError('bad_input', `There is no choice ${index} (there are ${choices.length}).`);
    await this.engine.choose(jobId, index);
    return this.store.get(jobId) ?? null;
  }

  /**
   * Jobs that must outlive the browser (kept in local storage): those the engine is running, whose
   * partial files a restart leaves on disk, and those already interrupted, waiting for Resume.
   */
  lasting(): Job[] {
    return this.store.list().filter((j) => j.request && (ENGINE_STAGES.has(j.progress.stage) || j.progress.stage === 'interrupted'));
  }

  /**
   * After a browser restart: the jobs that were running (and not in this session's store) show
   * as interrupted, waiting for Resume or Discard. Returns their ids.
   */
  restoreInterrupted(jobs: readonly Job[]): string[] {
    const restored: string[] = [];
    for (const job of jobs) {
      if (this.store.get(job.id)) continue;
      const pct = progressFraction(job.progress.overall);
      const at = job.progress.stage === 'interrupted' || pct === null ? '' : ` at ${Math.floor(pct * 100)}%`;
      const message = job.progress.stage === 'interrupted' ? job.error?.message ?? 'Interrupted.' : `Interrupted when the browser closed${at}. Resume continues from what was saved.`;
      this.store.add({ ...job, error: { code: 'interrupted', message }, downloadId: null, progress: { ...job.progress, stage: 'interrupted', choices: undefined } as Job['progress'] });
      restored.push(job.id);
    }
    return restored;
  }

  /** Discards an interrupted job: its partial files go, and the job with them. */
  async discard(jobId: string): Promise<void> {
    const job = this.store.get(jobId);
    if (!job || job.progress.stage !== 'interrupted') throw new VidmuxError('bad_input', 'Only an interrupted download can be discarded.');
    await this.engine.release(jobId).catch(() => undefined);
    this.store.remove(jobId);
  }

  /** Finishes a recording (a live stream): what was recorded is saved. */
  async finish(jobId: string): Promise<Job | null> {
    const job = this.store.get(jobId);
    if (!job) return null;
    if (job.progress.stage === 'recording') await this.engine.finish(jobId);
    return this.store.get(jobId) ?? null;
  }

  /**
   * The engine's context is gone (Chrome's offscreen document closed or crashed): every job still
   * in it can never end, so it fails now, saying why, and its files are freed (the host deletes
   * them itself when there is no engine to ask). Saving jobs go on (see {@link ENGINE_STAGES}).
   */
  async onEngineLost(): Promise<void> {
    const lost = this.store.list().filter((j) => ENGINE_STAGES.has(j.progress.stage));
    for (const job of lost) this.store.fail(job.id, new VidmuxError('internal', engineLostMessage(job)).toJSON());
    await Promise.all(lost.map((j) => this.abandonStream(j.id)));
    await Promise.all(lost.map((j) => this.engine.release(j.id).catch(() => undefined)));
  }

  /** After a worker restart: jobs that were in an engine that went meanwhile fail as if it went now. */
  async checkEngine(): Promise<void> {
    if (!this.engine.alive || !this.store.list().some((j) => ENGINE_STAGES.has(j.progress.stage))) return;
    if (!(await this.engine.alive().catch(() => true))) await this.onEngineLost();
  }

  /** Resumes following browser downloads that were running when the worker stopped. */
  resume(): void {
    if (this.savingJobs().length) this.ensurePolling();
  }

  /** Re-reads the browser's state of one job (or of every saving job) and updates it. */
  async refresh(jobId?: string): Promise<void> {
    const jobs = jobId ? [this.store.get(jobId)].filter((j): j is Job => !!j) : this.savingJobs();
    await Promise.all(jobs.map((job) => this.refreshJob(job)));
    if (!this.savingJobs().length) this.stopPolling();
  }

  /** The job that owns a browser download id (its file's, or its streamed save's). */
  jobForDownload(downloadId: number): Job | undefined {
    return this.store.list().find((j) => j.downloadId === downloadId || this.streams.get(j.id)?.downloadId === downloadId);
  }

  private async refreshJob(job: Job): Promise<void> {
    const stream = this.streams.get(job.id)?.downloadId;
    if (job.downloadId === null && stream !== undefined && stream !== null && !FINISHED_STAGES.has(job.progress.stage)) return this.refreshStream(job, stream);
    if (job.downloadId === null || FINISHED_STAGES.has(job.progress.stage)) return;
    let state: DownloadState | null;
    try {
      state = await this.backend.get(job.downloadId);
    } catch {
      state = null; // the browser could not say: treated as forgotten
    }
    if (!state) {
      this.store.fail(job.id, { code: 'download_failed', message: 'The browser no longer knows this download (it was removed from its list).' });
      await this.engine.release(job.id);
      return;
    }
    let meter = this.meters.get(job.id);
    if (!meter) this.meters.set(job.id, (meter = new ProgressMeter(null, this.opts.now)));
    meter.setTotal(state.totalBytes);
    meter.set(state.bytesReceived);
    if (state.state === 'in_progress') {
      this.store.update(job.id, { progress: { ...job.progress, stage: 'saving', overall: meter.snapshot() } });
      return;
    }
    if (state.state === 'complete') {
      // Done only when the files beside it (subtitles) are on disk too.
      const extras = await Promise.all(job.extraDownloadIds.map((id) => this.backend.get(id).catch(() => null)));
      if (extras.some((e) => e?.state === 'in_progress')) return;
      // Two refreshes may see the end at once (a streamed save completes as `ready` is handled):
      // only the first finishes the job (kept as a reel input once, released once).
      if (this.finishedMeanwhile(job.id)) return;
      this.meters.delete(job.id);
      meter.setTotal(state.bytesReceived);
      const extraFiles = extras.filter((e): e is DownloadState => e?.state === 'complete').map((e) => e.filename);
      this.store.update(job.id, { file: state.filename, extraFiles, progress: { ...job.progress, stage: 'done', overall: meter.snapshot() } });
      const keep = this.opts.keepForReel ? await this.opts.keepForReel(this.store.get(job.id)!).catch(() => false) : false;
      if (keep) return this.engine.release(job.id, keptInputId(job.id));
    } else {
      if (this.finishedMeanwhile(job.id)) return;
      this.meters.delete(job.id);
      const code = state.error === 'USER_CANCELED' ? 'cancelled' : 'download_failed';
      this.store.fail(job.id, { code, message: code === 'cancelled' ? 'Cancelled.' : `Saving failed: ${this.backend.describeInterrupt(state.error)}.` });
    }
    await this.engine.release(job.id);
  }

  /** Whether job `id` ended (or went) while a refresh of it was waiting for the browser. */
  private finishedMeanwhile(id: string): boolean {
    const now = this.store.get(id);
    return !now || FINISHED_STAGES.has(now.progress.stage);
  }

  private savingJobs(): Job[] {
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
