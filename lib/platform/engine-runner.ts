/**
 * Runs save jobs where media bytes may live (Chrome's offscreen document, Firefox's background
 * page): network engine + media engine into an OPFS file, then a blob URL of that file for
 * `downloads.download`. Disk-backed all the way: the blob of an OPFS file is not held in memory.
 */
import { toVidmuxError } from '../errors';
import type { EngineEvent, SaveSpec } from '../jobs/save-spec';
import { runSave } from '../jobs/run-save';
import { OpfsSink } from '../media/opfs-sink';
import { HttpClient } from '../net/http';

const FILE_PREFIX = 'vidmux-job-';

interface RunningJob {
  abort: AbortController;
  blobUrl: string | null;
  fileName: string;
}

/** Runs jobs and reports their events to `emit`. One per byte-handling context. */
export class EngineRunner {
  private jobs = new Map<string, RunningJob>();
  private client = new HttpClient();

  constructor(private readonly emit: (jobId: string, event: EngineEvent) => void) {}

  /** Deletes OPFS files left by a previous run of this context (their blob URLs died with it). */
  async sweep(): Promise<void> {
    const root = await navigator.storage.getDirectory();
    const names: string[] = [];
    for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) if (name.startsWith(FILE_PREFIX)) names.push(name);
    await Promise.all(names.filter((n) => ![...this.jobs.values()].some((j) => j.fileName === n)).map((n) => root.removeEntry(n).catch(() => undefined)));
  }

  /** Starts a job; returns at once, events follow. */
  start(spec: SaveSpec): void {
    if (this.jobs.has(spec.jobId)) return;
    const job: RunningJob = { abort: new AbortController(), blobUrl: null, fileName: `${FILE_PREFIX}${spec.jobId.replace(/[^\w-]/g, '')}` };
    this.jobs.set(spec.jobId, job);
    let sink: OpfsSink | null = null;
    void runSave(spec, {
      client: this.client,
      signal: job.abort.signal,
      createSink: async () => (sink = await OpfsSink.create(job.fileName)),
      onProgress: (progress) => this.emit(spec.jobId, { type: 'progress', progress }),
    }).then(
      async ({ bytes }) => {
        if (job.abort.signal.aborted) return;
        // A Blob over the OPFS File stays disk-backed; the type makes the browser keep our extension.
        const file = await sink!.handle.getFile();
        job.blobUrl = URL.createObjectURL(new Blob([file], { type: spec.mimeType }));
        this.emit(spec.jobId, { type: 'ready', blobUrl: job.blobUrl, bytes });
      },
      (err: unknown) => this.emit(spec.jobId, { type: 'failed', error: toVidmuxError(err).toJSON() }),
    );
  }

  cancel(jobId: string): void {
    this.jobs.get(jobId)?.abort.abort(new DOMException('Cancelled', 'AbortError'));
  }

  /** Frees the job's blob URL and its OPFS file. */
  async release(jobId: string): Promise<void> {
    const job = this.jobs.get(jobId);
    if (!job) return;
    this.jobs.delete(jobId);
    job.abort.abort(new DOMException('Released', 'AbortError'));
    if (job.blobUrl) URL.revokeObjectURL(job.blobUrl);
    const root = await navigator.storage.getDirectory();
    await root.removeEntry(job.fileName).catch(() => undefined);
  }
}
