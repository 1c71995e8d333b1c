/**
 * The one save use case: a {@link JobSpec} in, the finished files out. Every surface reaches a
 * file through here: Chrome's offscreen document and Firefox's background page (through
 * {@link JobRunner}), and the CLI. Providers are tried in order (the page's own media is the page
 * provider); the wish picks each one's format; outputs go to the {@link OutputStore} the caller
 * gives (OPFS in the browser, files in Node) and are published only when complete.
 */
import { VidmuxError } from '../errors';
import { mimeTypeFor } from '../media-types';
import { cancelledError } from '../net/retry-policy';
import { downloadWithFallback } from '../providers/registry';
import type { DownloadResult, Format, MediaInfo, Provider, Selection } from '../providers/types';
import type { EngineEvent, JobOutcome, JobSpec, Made, ReelSpec } from '../schemas/job-spec';
import type { VidioProvider } from '../providers/vidio';
import type { InputStore } from './inputs';
import { chooseFormat, pickSubtitles, planFormat } from './choose-format';
import { downloadContext } from './download-context';
import type { OutputFile, OutputStore } from './outputs';

/** What {@link runJob} needs from its context. */
export interface RunJobDeps {
  /** The providers a spec names, built on the context's one HTTP client. */
  providers(spec: JobSpec): Provider[];
  outputs: OutputStore;
  /** Progress, provider and stream events (the outcome is returned, not sent here). */
  onEvent(event: Extract<EngineEvent, { type: 'progress' | 'provider' | 'stream' | 'committed' }>): void;
  signal: AbortSignal;
  /** Finishes a recording: what was recorded is saved (see {@link DownloadContext.finish}). */
  finish?: AbortSignal;
  /**
   * Waits for the user's pick among the choices the job last reported (`progress.choices`);
   * rejects when the job is cancelled. A context without it cannot ask (the CLI).
   */
  choose?(): Promise<number>;
  /**
   * Highlight reels (a spec with `reel`): VIDIO's client on the context's HTTP client, and the
   * store the reel page put the videos in. A context without it cannot make reels.
   */
  reels?: { maker(spec: ReelSpec): ReelMaker; inputs: InputStore };
}

/** What makes a reel (lib/providers/vidio.ts `VidioProvider`). */
export type ReelMaker = Pick<VidioProvider, 'makeReel'>;

/** The format and subtitles a spec's wish gets from one provider's offer. */
export function selectionFor(info: MediaInfo, spec: Pick<JobSpec, 'wish'>): Selection {
  const { wish } = spec;
  const chosen = chooseFormat(info, wish);
  const plan = planFormat(info, chosen, wish);
  return {
    format: { ...chosen, container: plan.container },
    audio: plan.audio,
    mux: plan.mux,
    subtitles: wish.subtitlesOnly ? [] : pickSubtitles(info.subtitles, wish.subtitleLanguages),
  };
}

/**
 * Runs a job to its outcome: `ready` with the published main file and subtitles, or `remote` when
 * the file stays with the provider; and the format that was chosen (none for a playlist entry). Throws (a VidmuxError) when every provider failed or the job
 * was cancelled; whatever it wrote is discarded then.
 */
export async function runJob(spec: JobSpec, deps: RunJobDeps): Promise<{ outcome: JobOutcome; format: Format | null }> {
  // What the provider being tried makes, once it has chosen a format: a streamed output's name.
  let making: Omit<Made, 'subtitles'> | null = null;
  const files = new JobFiles(deps.outputs, spec.jobId, (event) => deps.onEvent(event), () => making);
  const ctx = downloadContext({ target: files, signal: deps.signal, ...(deps.finish ? { finish: deps.finish } : {}), onProgress: (progress) => deps.onEvent({ type: 'progress', progress }) });
  try {
    if (spec.reel) return { outcome: await runReel(spec.reel, deps, files), format: null };
    const providers = deps.providers(spec);
    let provider: Provider;
    let result: DownloadResult;
    let made: Omit<Made, 'subtitles'>;
    let format: Format | null = null;
    if (spec.entry) {
      const entry = spec.entry;
      const p = providers.find((x) => x.id === entry.provider);
      if (!p?.downloadEntry) throw new VidmuxError('unauthorized', `No ${entry.provider} key is set for this playlist entry.`, { provider: entry.provider });
      provider = p;
      deps.onEvent({ type: 'provider', provider: p.id, attempts: [] });
      const container = spec.wish.quality === 'audio' ? spec.wish.audioFormat : 'mp4';
      making = { provider: p.id, title: (entry.title ?? '').slice(0, 2000), container, height: null, mediaId: entry.ref, attempts: [{ provider: p.id, error: null }] };
      result = await p.downloadEntry(entry, { quality: spec.wish.quality, audioFormat: spec.wish.audioFormat, subtitles: spec.wish.subtitleLanguages.length > 0, signal: deps.signal }, ctx);
      made = making;
    } else {
      let trying: { provider: Provider; attempts: Made['attempts'] } | null = null;
      const select = (info: MediaInfo) => {
        const selection = selectionFor(info, spec);
        if (trying) making = madeBy(trying.provider, info, selection.format, [...trying.attempts, { provider: trying.provider.id, error: null }]);
        return selection;
      };
      const outcome = await downloadWithFallback(spec.url, providers, select, ctx, {
        media: spec.media,
        pageUrl: spec.pageUrl,
        resolved: spec.resolved,
        onAttempt: (p, earlier) => {
          // A provider that failed half-way leaves nothing behind for the next one.
          void files.discardAll();
          trying = { provider: p, attempts: earlier };
          making = null;
          deps.onEvent({ type: 'provider', provider: p.id, attempts: earlier });
        },
      });
      provider = outcome.provider;
      result = outcome.result;
      format = outcome.selection.format;
      made = madeBy(provider, outcome.info, format, outcome.attempts);
    }
    if (deps.signal.aborted) throw cancelledError(deps.signal);
    if (result.remoteLocation) {
      await files.discardAll();
      return { outcome: { type: 'remote', location: result.remoteLocation, provider: provider.id, attempts: made.attempts }, format };
    }
    return { outcome: await files.publish(result, made), format };
  } catch (err) {
    await files.discardAll();
    if (deps.signal.aborted) throw cancelledError(deps.signal);
    throw err;
  }
}

/** What a provider makes of `info` in `format` (its name comes from this), after `attempts`. */
function madeBy(provider: Provider, info: MediaInfo, format: Format, attempts: Made['attempts']): Omit<Made, 'subtitles'> {
  return { provider: provider.id, title: info.title, container: format.container, height: format.height, mediaId: null, attempts };
}

/**
 * A highlight reel: the stored videos go to VIDIO (in order), the rendered reel comes back into the
 * job's output; the stored videos are deleted once the job is over, whatever its end.
 */
async function runReel(reel: ReelSpec, deps: RunJobDeps, files: JobFiles): Promise<JobOutcome> {
  if (!deps.reels) throw new VidmuxError('unsupported', 'Highlight reels cannot be made here.');
  const { maker, inputs } = deps.reels;
  try {
    const sources = await Promise.all(reel.inputs.map(async (i) => ({ source: await inputs.open(i.id), name: i.name })));
    const sink = await files.media();
    const result = await maker(reel).makeReel(sources, reel.options, {
      sink,
      signal: deps.signal,
      onProgress: (progress) => deps.onEvent({ type: 'progress', progress }),
      ...(deps.choose ? { chooseOutput: deps.choose } : {}),
    });
    if (deps.signal.aborted) throw cancelledError(deps.signal);
    const first = reel.inputs[0]!.name.replace(/\.[^.]+$/, '');
    const made = { provider: 'vidio' as const, title: `${first} (${reel.options.aspect} reel)`, container: 'mp4', height: null, mediaId: result.jobId, attempts: [] };
    return await files.publish({ bytes: result.bytes, subtitles: [] }, made);
  } finally {
    await Promise.all(reel.inputs.map((i) => inputs.remove(i.id).catch(() => undefined)));
  }
}

/** A job's outputs: the main file and subtitles, created as the provider asks for them. */
class JobFiles {
  private main: OutputFile | null = null;
  private subs: Array<{ file: OutputFile; format: Format }> = [];
  private count = 0;

  constructor(
    private readonly outputs: OutputStore,
    private readonly jobId: string,
    private readonly onEvent: RunJobDeps['onEvent'],
    private readonly making: () => Omit<Made, 'subtitles'> | null,
  ) {}

  /**
   * The main file. A resumable one the store keeps readable while it grows is announced
   * (`stream`, then `committed` as it grows), so the browser can save it as it is written.
   */
  async media(opts: { resumable?: boolean } = {}) {
    const making = this.making();
    const announce = opts.resumable && making !== null;
    const file = await this.outputs.create(this.jobId, `main${this.count++}`, {
      ...opts,
      ...(announce ? { onCommitted: (bytes: number) => this.main === file && this.onEvent({ type: 'committed', bytes }) } : {}),
    });
    this.main = file;
    if (announce && file.stream) this.onEvent({ type: 'stream', file: file.stream, made: making });
    return file.sink;
  }

  async subtitle(format: Format) {
    const file = await this.outputs.create(this.jobId, `sub${this.count++}`);
    this.subs.push({ file, format });
    return file.sink;
  }

  async discardAll(): Promise<void> {
    const all = [...(this.main ? [this.main] : []), ...this.subs.map((s) => s.file)];
    this.main = null;
    this.subs = [];
    await Promise.all(all.map((f) => f.discard().catch(() => undefined)));
  }

  /** Publishes the finished files; the subtitles the provider saved go beside the main file. */
  async publish(result: DownloadResult, made: Omit<Made, 'subtitles'>): Promise<JobOutcome> {
    if (!this.main) throw new VidmuxError('internal', `${made.provider} reported a finished download but wrote no file.`, { provider: made.provider });
    const url = await this.main.publish(mimeTypeFor(made.container));
    const subtitles: Made['subtitles'] = [];
    for (const s of this.subs) {
      const saved = result.subtitles.find((r) => r.format.id === s.format.id);
      if (!saved) continue;
      subtitles.push({ url: await s.file.publish(mimeTypeFor(s.format.container)), bytes: saved.bytes, language: s.format.language ?? 'und', container: s.format.container });
    }
    return { type: 'ready', url, bytes: result.bytes, made: { ...made, subtitles } };
  }
}
