/**
 * Runs jobs where media bytes may live (Chrome's offscreen document, Firefox's background page)
 * for the background, which only tracks them: start, cancel, release, and every event reported.
 * A thin adapter around {@link runJob}; the context passes in its providers and outputs.
 */
import { toVidmuxError } from '../errors';
import type { Provider } from '../providers/types';
import type { WireError } from '../schemas/error';
import type { EngineEvent, JobSpec } from '../schemas/job-spec';
import type { OutputStore } from './outputs';
import { runJob, type RunJobDeps } from './run-job';

export interface JobRunnerDeps {
  providers(spec: JobSpec): Provider[];
  outputs: OutputStore;
  /** Highlight reels (see {@link RunJobDeps.reels}); a context without it cannot make them. */
  reels?: RunJobDeps['reels'];
  /** Every event of every job, in order: progress and provider events, then ready, remote or failed. */
  emit(jobId: string, event: EngineEvent): void;
}

export class JobRunner {
  private readonly jobs = new Map<string, AbortController>();
  private readonly finishers = new Map<string, AbortController>();
  /** Jobs waiting for the user's pick among their `progress.choices`. */
  private readonly choosers = new Map<string, (index: number) => void>();

  constructor(private readonly deps: JobRunnerDeps) {}

  /** Whether a job is here: running, or ended and not yet released. */
  get busy(): boolean {
    return this.jobs.size > 0;
  }

  /** Starts a job; returns at once, its events follow. A job already running is not started twice. */
  start(spec: JobSpec): void {
    if (this.jobs.has(spec.jobId)) return;
    const abort = new AbortController();
    const finish = new AbortController();
    this.jobs.set(spec.jobId, abort);
    this.finishers.set(spec.jobId, finish);
    const emit = (event: EngineEvent) => {
      if (!abort.signal.aborted) this.deps.emit(spec.jobId, event);
    };
    runJob(spec, { providers: (s) => this.deps.providers(s), outputs: this.deps.outputs, ...(this.deps.reels ? { reels: this.deps.reels } : {}), onEvent: emit, signal: abort.signal, finish: finish.signal, choose: () => this.waitChoice(spec.jobId, abort.signal) }).then(({ outcome }) => emit(outcome), (err: unknown) =>
      emit({ type: 'failed', error: pick(toVidmuxError(err).toJSON()) }),
    );
  }

  /** Stops a job: it ends without an outcome and leaves no output behind. */
  cancel(jobId: string): void {
    this.jobs.get(jobId)?.abort(new DOMException('Cancelled', 'AbortError'));
  }

  /** A job waiting on its choices goes on with `index` (ignored when it is not waiting). */
  choose(jobId: string, index: number): void {
    const resolve = this.choosers.get(jobId);
    this.choosers.delete(jobId);
    resolve?.(index);
  }

  private waitChoice(jobId: string, signal: AbortSignal): Promise<number> {
    return new Promise((resolve, reject) => {
      const stop = () => {
        this.choosers.delete(jobId);
        reject(signal.reason);
      };
      if (signal.aborted) return stop();
      signal.addEventListener('abort', stop, { once: true });
      this.choosers.set(jobId, (index) => {
        signal.removeEventListener('abort', stop);
        resolve(index);
      });
    });
  }

  /** Finishes a recording: the job saves what it recorded and ends as usual. */
  finish(jobId: string): void {
    this.finishers.get(jobId)?.abort();
  }

  /** The saver has the job's files (or gave up): free them. */
  async release(jobId: string, keepMainAs?: string): Promise<void> {
    this.jobs.get(jobId)?.abort(new DOMException('Released', 'AbortError'));
    this.jobs.delete(jobId);
    this.finishers.delete(jobId);
    this.choosers.delete(jobId);
    await this.deps.outputs.release(jobId, keepMainAs);
  }

  /** Removes outputs an earlier run of this context left behind. */
  sweep(): Promise<void> {
    return this.deps.outputs.sweep();
  }
}

function pick(e: WireError): WireError {
  return { code: e.code, message: e.message, ...(e.privateNetworkSite ? { privateNetworkSite: e.privateNetworkSite } : {}) };
}
