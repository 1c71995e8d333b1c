/**
 * Runs save jobs where media bytes may live (Chrome's offscreen document, Firefox's background
 * page): network engine + media engine (or a provider) into OPFS files, then blob URLs of those
 * files for `downloads.download`. Disk-backed all the way: the blob of an OPFS file is not held
 * in memory.
 */
import { toVidmuxError, VidmuxError } from '../errors';
import { mimeTypeFor } from '../media-types';
import { runSave } from '../jobs/run-save';
import type { EngineEvent, ProviderSaveSpec, SaveSpec } from '../schemas/save-spec';
import { OpfsSink } from '../media/opfs-sink';
import { HttpClient } from '../net/http';
import { downloadWithFallback } from '../providers/registry';
import { chooseFormat, pickSubtitles } from '../providers/select';
import { TornadoProvider } from '../providers/tornado';
import type { DownloadContext, DownloadResult, Format, Provider } from '../providers/types';
import type { JobProgress } from '../progress';

const FILE_PREFIX = 'vidmux-job-';

interface RunningJob {
  abort: AbortController;
  blobUrls: string[];
  fileNames: string[];
}

/** The OPFS files a provider job writes, and the context handed to the provider. */
interface ProviderOutputs {
  main: OpfsSink | null;
  subs: Array<{ sink: OpfsSink; format: Format }>;
  ctx: DownloadContext;
}

/** Builds the providers a provider job names, with their keys and base URLs. */
export type ProviderFactory = (spec: ProviderSaveSpec, http: HttpClient) => Provider[];

/** Runs jobs and reports their events to `emit`. One per byte-handling context. */
export class EngineRunner {
  private jobs = new Map<string, RunningJob>();
  private client = new HttpClient();

  constructor(
    private readonly emit: (jobId: string, event: EngineEvent) => void,
    private readonly createProviders: ProviderFactory,
  ) {}

  /** Deletes OPFS files left by a previous run of this context (their blob URLs died with it). */
  async sweep(): Promise<void> {
    const root = await navigator.storage.getDirectory();
    const names: string[] = [];
    for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) if (name.startsWith(FILE_PREFIX)) names.push(name);
    const inUse = new Set([...this.jobs.values()].flatMap((j) => j.fileNames));
    await Promise.all(names.filter((n) => !inUse.has(n)).map((n) => root.removeEntry(n).catch(() => undefined)));
  }

  /** Starts a job; returns at once, events follow. */
  start(spec: SaveSpec): void {
    if (this.jobs.has(spec.jobId)) return;
    const job: RunningJob = { abort: new AbortController(), blobUrls: [], fileNames: [] };
    this.jobs.set(spec.jobId, job);
    const run = spec.mode === 'provider' ? this.runProvider(spec, job) : this.runUrls(spec, job);
    void run.catch((err: unknown) => {
      if (!job.abort.signal.aborted) this.emit(spec.jobId, { type: 'failed', error: toVidmuxError(err).toJSON() });
    });
  }

  cancel(jobId: string): void {
    this.jobs.get(jobId)?.abort.abort(new DOMException('Cancelled', 'AbortError'));
  }

  /** Frees the job's blob URLs and its OPFS files. */
  async release(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.jobs.delete(jobId);
    job.abort.abort(new DOMException('Released', 'AbortError'));
    for (const url of job.blobUrls) URL.revokeObjectURL(url);
    const root = await navigator.storage.getDirectory();
    await Promise.all(job.fileNames.map((n) => root.removeEntry(n).catch(() => undefined)));
  }

  private async sink(job: RunningJob, jobId: string, suffix = ''): Promise<OpfsSink> {
    const name = `${FILE_PREFIX}${jobId.replace(/[^\w-]/g, '')}${suffix}`;
    if (!job.fileNames.includes(name)) job.fileNames.push(name);
    return OpfsSink.create(name);
  }

  /** A blob URL of a finished OPFS file; the type makes the browser keep our extension. */
  private async blobUrl(job: RunningJob, sink: OpfsSink, mimeType: string): Promise<string> {
    const file = await sink.handle.getFile();
    const url = URL.createObjectURL(new Blob([file], { type: mimeType }));
    job.blobUrls.push(url);
    return url;
  }

  /** One video of a Tornado playlist: Tornado already has the job; wait for it and fetch it. */
  private async runTornadoJob(spec: ProviderSaveSpec, tornadoJobId: string, providers: Provider[], job: RunningJob): Promise<void> {
    const tornado = providers.find((p): p is TornadoProvider => p instanceof TornadoProvider);
    if (!tornado) throw new VidmuxError('unauthorized', 'No Tornado key is set.', { provider: 'tornado' });
    this.emit(spec.jobId, { type: 'provider', provider: 'tornado', attempts: [] });
    const out = this.providerOutputs(spec, job);
    const result = await tornado.downloadJob(tornadoJobId, out.ctx, { subtitles: spec.subtitleLanguages.length > 0 });
    const container = spec.quality === 'audio' ? 'm4a' : 'mp4';
    await this.finishProvider(spec, job, out, result, { provider: 'tornado', title: '', container, height: null, mediaId: tornadoJobId, attempts: [{ provider: 'tornado', error: null }] });
  }

  private async runUrls(spec: Exclude<SaveSpec, ProviderSaveSpec>, job: RunningJob): Promise<void> {
    let sink: OpfsSink | null = null;
    const { bytes } = await runSave(spec, {
      client: this.client,
      signal: job.abort.signal,
      createSink: async () => (sink = await this.sink(job, spec.jobId)),
      onProgress: (progress) => this.emit(spec.jobId, { type: 'progress', progress }),
    });
    if (job.abort.signal.aborted) return;
    this.emit(spec.jobId, { type: 'ready', blobUrl: await this.blobUrl(job, sink!, spec.mimeType), bytes });
  }

  private async runProvider(spec: ProviderSaveSpec, job: RunningJob): Promise<void> {
    const providers = this.createProviders(spec, this.client);
    if (spec.tornadoJobId) return this.runTornadoJob(spec, spec.tornadoJobId, providers, job);
    const out = this.providerOutputs(spec, job);
    const attempts: Array<{ provider: Provider['id']; error: { code: string; message: string } | null }> = [];
    const outcome = await downloadWithFallback(
      spec.url,
      providers,
      (info) => ({ format: chooseFormat(info, spec), subtitles: spec.subtitlesOnly ? [] : pickSubtitles(info.subtitles, spec.subtitleLanguages) }),
      out.ctx,
      {
        onAttempt: (provider) => {
          out.subs.length = 0;
          this.emit(spec.jobId, { type: 'provider', provider: provider.id, attempts: [...attempts] });
        },
        onFailure: (provider, error) => attempts.push({ provider: provider.id, error }),
      },
    );
    const { result, info, provider, choice } = outcome;
    await this.finishProvider(spec, job, out, result, {
      provider: provider.id,
      title: info.title,
      container: choice.format.container,
      height: choice.format.height,
      mediaId: null,
      attempts: outcome.attempts,
    });
  }

  /** Where a provider writes: the job's OPFS files, with progress reported as engine events. */
  private providerOutputs(spec: ProviderSaveSpec, job: RunningJob): ProviderOutputs {
    const out: ProviderOutputs = {
      main: null as OpfsSink | null,
      subs: [] as Array<{ sink: OpfsSink; format: Format }>,
      ctx: {
        signal: job.abort.signal,
        onProgress: (progress: JobProgress) => this.emit(spec.jobId, { type: 'progress', progress }),
        target: {
          media: async () => (out.main = await this.sink(job, spec.jobId)),
          subtitle: async (format: Format) => {
            const sink = await this.sink(job, spec.jobId, `.${out.subs.length}.sub`);
            out.subs.push({ sink, format });
            return sink;
          },
        },
      } satisfies DownloadContext,
    };
    return out;
  }

  /** Reports a provider's result: where it stays (remote), or blob URLs of the files made. */
  private async finishProvider(
    spec: ProviderSaveSpec,
    job: RunningJob,
    out: ProviderOutputs,
    result: DownloadResult,
    made: Omit<Extract<EngineEvent, { type: 'ready' }>['made'] & object, 'subtitles'>,
  ): Promise<void> {
    if (job.abort.signal.aborted) return;
    if (result.remoteLocation) {
      this.emit(spec.jobId, { type: 'remote', location: result.remoteLocation, provider: made.provider, attempts: made.attempts });
      return;
    }
    const subtitles = [];
    for (const s of out.subs) {
      const bytes = (await s.sink.handle.getFile()).size;
      subtitles.push({ blobUrl: await this.blobUrl(job, s.sink, mimeTypeFor(s.format.container)), bytes, language: s.format.language ?? 'und', container: s.format.container });
    }
    this.emit(spec.jobId, {
      type: 'ready',
      blobUrl: await this.blobUrl(job, out.main!, mimeTypeFor(made.container)),
      bytes: result.bytes,
      made: { ...made, subtitles },
    });
  }
}
