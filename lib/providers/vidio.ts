/**
 * VIDIO (vidio.ai, ../shared/providers.md section 4): highlight reels made from the user's own
 * videos. Upload each video, ask for a reel, wait while VIDIO analyses it, render one of the reels
 * it proposes, then fetch the finished MP4 from the link VIDIO gives (a host that never gets the key).
 *
 * UNVERIFIED. VIDIO documents only its Python client (seed 003): the HTTP layer behind it is not
 * public. Every HTTP fact this client relies on (base URL, key header, paths, bodies, error shape,
 * timings) is INFERRED (providers.md 4.3, open questions 19–20) and lives in one place,
 * {@link VIDIO_CONTRACT}, so the real values can be dropped in without touching the logic. The
 * method and field names are the documented ones (`input_key`, `create_highlight_reel`'s
 * parameters, `job_id`, `status`, `outputs`, `output_index`, `output_url`).
 *
 * VIDIO resolves no page URL, so this is not a download {@link Provider}: it is a keyed service
 * with the same key handling (the key only ever goes to the API's own origin: {@link keyHeaders}).
 */
import { z } from 'zod';
import { maskKey, ProviderError, toVidmuxError, VidmuxError, type ErrorCode } from '../errors';
import { formatBytes, formatLimit, formatWait, quoted } from '../format';
import type { ByteSink, ByteSource } from '../io';
import { failureDetail, parseRetryAfter, type FailureDetail, type HttpClient } from '../net/http';
import { openRangedSource } from '../net/ranged-fetch';
import { cancelledError, DEFAULT_RETRY_POLICY, HttpFailure, realSleep, RetryTracker, type FailureKind, type RetryPolicy, type Sleep } from '../net/retry-policy';
import { postMultipart, type UploadSource } from '../net/multipart-upload';
import { copyToSink } from '../net/save';
import { combineProgress, EMPTY_PROGRESS, ProgressMeter, type JobProgress, type JobStage, type Progress } from '../progress';
import { REEL_STATUS_WORDS, ReelJobStatusSchema, ReelOptionsSchema, type ReelJobStatus, type ReelOptions, type ReelOptionsInput } from '../schemas/reel';
import type { JobChoice } from '../schemas/progress';
import { ProviderApi, quoteSaid, type CallInfo } from './kit/api';
import { assertSafeBaseUrl, DEFAULT_BASE_URLS, keyHeaders } from './kit/auth';
import { pollJob } from './kit/poll';
import type { AccountInfo } from './types';

const PROVIDER = 'vidio';
const NAME = 'VIDIO';

// ---------------------------------------------------------------- the inferred contract

/**
 * Everything about VIDIO's HTTP API that this client assumes. ALL OF IT IS INFERRED
 * (providers.md 4.3; no public text states any of it): the real base URL, header, paths, limits
 * and timings are unknown. Override any of it with the constructor's `contract` option.
 */
export const VIDIO_CONTRACT = {
  /** INFERRED (one copy, in the kit's defaults). */
  baseUrl: DEFAULT_BASE_URLS.vidio,
  /** INFERRED: the header that carries the key (the docs only name the variable VIDIO_API_KEY). */
  keyHeader: 'X-API-Key',
  /** INFERRED: `upload(file_path)` -> `{ input_key }`, a multipart/form-data POST. */
  uploadPath: '/uploads',
  /** INFERRED: the multipart field holding the file. */
  uploadField: 'file',
  /** INFERRED: `create_highlight_reel(...)` -> `{ job_id, status }`; JSON body with the documented parameter names. */
  reelsPath: '/highlight-reels',
  /** INFERRED: `get_job(job_id)`. `{id}` is replaced by the job id. */
  jobPath: '/jobs/{id}',
  /** INFERRED: `render(job_id, output_index)`; 409 until the job is `processed`. */
  renderPath: '/jobs/{id}/render',
  /**
   * INFERRED: no account endpoint is known, so a key is checked by asking for a job that does not
   * exist: 404 means the key and the plan were accepted (401 / 403 otherwise).
   */
  keyCheckPath: '/jobs/vidmux-key-check',
  /** INFERRED: biggest file VIDIO takes (2 GB, decimal: refused before sending anything). */
  maxUploadBytes: 2_000_000_000,
  /** INFERRED: time between polls of a job. */
  pollIntervalMs: 5000,
  /** INFERRED: give up on a reel that has not been `processed` after this long. */
  processTimeoutMs: 60 * 60_000,
  /** INFERRED: give up when a job shows the same status for this long (stalled). */
  stallMs: 20 * 60_000,
  /** INFERRED: give up on a render that has not finished after this long. */
  renderTimeoutMs: 30 * 60_000,
  /** INFERRED: how long a render refused with 409 (the job not processed yet) is tried again. */
  renderConflictMaxMs: 10 * 60_000,
  /** Our own: an upload from which fetch took no bytes for this long is given up (and retried). */
  uploadStallMs: 60_000,
  /** Our own: after the last byte, how long VIDIO may take to answer an upload. */
  uploadAnswerTimeoutMs: 5 * 60_000,
};
export type VidioContract = typeof VIDIO_CONTRACT;

// ---------------------------------------------------------------- response shapes

const nullish = <T extends z.ZodType>(t: T) => t.nullable().optional();

/** One overlay of a proposed reel (seed 003 example): a stretch of an input video or the music. */
export const ReelOverlaySchema = z.object({
  id: z.union([z.number(), z.string()]),
  /** Video overlays only: which upload the stretch comes from. */
  fileID: nullish(z.string()),
  /** First frame in the reel. */
  from: nullish(z.number()),
  /** A URL, or a music slug. */
  content: nullish(z.string()),
  durationInFrames: nullish(z.number()),
  /** `video` or `sound`. */
  type: z.string(),
  src: nullish(z.string()),
  /** Video overlays only; unit unknown (probably ms). */
  videoStartTime: nullish(z.number()),
});
export type ReelOverlay = z.infer<typeof ReelOverlaySchema>;

/** One reel VIDIO proposes (`outputs[]`; index 0 is "in general, the best result"). */
export const ReelOutputSchema = z.object({
  start: nullish(z.union([z.number(), z.string()])),
  end: nullish(z.union([z.number(), z.string()])),
  /** A path relative to VIDIO (`out/….jpg`). */
  thumbnail: nullish(z.string()),
  /** Seconds. */
  duration: nullish(z.number()),
  fps: nullish(z.number()),
  overlays: nullish(z.array(ReelOverlaySchema)),
});
export type ReelOutput = z.infer<typeof ReelOutputSchema>;

/** GET /jobs/{id}: the job object of seed 003, `output_url` once rendered and `error` once failed (INFERRED). */
export const ReelJobSchema = z.object({
  job_id: z.string().min(1),
  status: ReelJobStatusSchema,
  outputs: nullish(z.array(ReelOutputSchema)),
  output_url: nullish(z.string()),
  /** INFERRED: the reason of a `failed` job (a string; an object with a `message` is read too). */
  error: z.unknown().optional(),
});
export type ReelJob = z.infer<typeof ReelJobSchema>;

const UploadSchema = z.object({ input_key: z.string().min(1) });
const CreatedSchema = z.object({ job_id: z.string().min(1), status: nullish(ReelJobStatusSchema) });
/** The render result (INFERRED: only `status` and `output_url` are documented). */
const RenderSchema = z.object({ job_id: nullish(z.string()), status: ReelJobStatusSchema, output_url: nullish(z.string()) });
export type ReelRender = z.infer<typeof RenderSchema>;

/** INFERRED error body: `{"error":{"code","message","field"?}}` (a plain string error or text is read too). */
const ErrorBodySchema = z.object({
  error: z.union([z.string(), z.object({ code: nullish(z.string()), message: nullish(z.string()), field: nullish(z.string()) })]).optional(),
  message: nullish(z.string()),
});

// ---------------------------------------------------------------- options and results

/** Options of {@link VidioProvider}. */
export interface VidioOptions {
  apiKey: string | null;
  /** Overrides `contract.baseUrl` (a local fake, a proxy). */
  baseUrl?: string | null;
  /** Replaces any of the inferred facts. */
  contract?: Partial<VidioContract>;
  /** The context's client (retry table, per-host cap); a new one when not given. */
  http?: HttpClient;
  /** Clock and sleep for polling; tests drive them. */
  now?: () => number;
  sleep?: Sleep;
  /** The fetch uploads are streamed with (HttpClient sends string bodies only). Default: the global one. */
  fetch?: typeof fetch;
}

/** Called with every new status of a job (not again while it stays the same). */
export type ReelStatusListener = (status: ReelJobStatus, words: string, job: ReelJob) => void;

export type { UploadSource };

export interface UploadOptions {
  /** The file's name as VIDIO is told it (and as errors name it). */
  name: string;
  signal?: AbortSignal;
  /** Bytes of the file taken by the upload so far (starts again at 0 when an upload is retried). */
  onProgress?(bytesDone: number, bytesTotal: number | null): void;
}

export interface WaitOptions {
  signal?: AbortSignal;
  onStatus?: ReelStatusListener;
}

/** Where a reel job is, for a person: {@link JobProgress} plus the phase and VIDIO's status in words. */
export interface ReelProgress extends JobProgress {
  phase: 'uploading' | 'working' | 'downloading';
  /** VIDIO's status while it works (null while uploading and downloading). */
  status: ReelJobStatus | null;
  /** "Uploading match.mp4 (1 of 2)", "Queued at VIDIO", "Saving the reel". */
  words: string;
}

export interface MakeReelContext {
  /** Where the reel goes; aborted on any failure, so no partial file looks finished. */
  sink: ByteSink;
  signal?: AbortSignal;
  /** Receives {@link ReelProgress} (a {@link JobProgress}). */
  onProgress?(progress: JobProgress): void;
  /**
   * With `chooseOutput` in the options: called once VIDIO has proposed its reels, after a progress
   * that lists them (`choices`: thumbnail, length); resolves to the index to render. Without it
   * `outputIndex` is rendered.
   */
  chooseOutput?(): Promise<number>;
}

export interface ReelResult {
  /** Bytes of the saved reel. */
  bytes: number;
  jobId: string;
  /** The reels VIDIO proposed (the rendered one is `outputs[outputIndex]`). */
  outputs: ReelOutput[];
}

/** The statuses at or past `processed`: a job there has its outputs. */
const PROCESSED_OR_LATER: ReadonlySet<ReelJobStatus> = new Set(['processed', 'rendering', 'rendered']);
/** Proposals shown to pick from (VIDIO's example has 3). */
const MAX_CHOICES = 12;
/** A thumbnail bigger than this is not shown (it travels in a progress message). */
const MAX_THUMBNAIL_BYTES = 384 * 1024;
/** How long a reel waits for the user's pick among VIDIO's proposals. */
const CHOICE_WAIT_MS = 30 * 60_000;
/** Failed polls in a row (after the retry table gave up on each) that waiting shrugs off. */
const MAX_FAILED_POLLS = 3;
/** Create and render: a request that timed out may have been done; do not risk doing it twice. */
const NO_DUPLICATE: RetryPolicy = { ...DEFAULT_RETRY_POLICY, timeout: { action: 'fail', maxRetries: 0, wait: { kind: 'none' } } };

/** An error already in VIDIO's words. */
class VidioError extends ProviderError {
  constructor(code: ErrorCode, message: string, opts: { status?: number; cause?: unknown } = {}) {
    super(code, message, { provider: PROVIDER, ...opts });
  }
}

/** A job that showed the same status for too long: final, never polled again. */
class StalledError extends VidioError {}

// ---------------------------------------------------------------- the client

/** The VIDIO client: upload, create, wait, render, fetch (see the file comment: UNVERIFIED HTTP). */
export class VidioProvider {
  readonly id = 'vidio' as const;
  readonly displayName = NAME;
  readonly needsKey = true;
  readonly contract: VidioContract;
  private readonly api: ProviderApi;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly fetchImpl: typeof fetch;

  constructor(opts: VidioOptions) {
    this.contract = { ...VIDIO_CONTRACT, ...opts.contract };
    if (opts.baseUrl) this.contract.baseUrl = opts.baseUrl;
    this.now = opts.now ?? (() => Date.now());
    this.sleep = opts.sleep ?? realSleep;
    this.fetchImpl = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    const header = this.contract.keyHeader;
    this.api = new ProviderApi({
      provider: PROVIDER,
      name: NAME,
      apiKey: opts.apiKey,
      baseUrl: this.contract.baseUrl,
      ...(opts.http ? { http: opts.http } : {}),
      sleep: this.sleep,
      auth: (key) => ({ header, value: key }),
      wording: (err, d, call) => this.wording(err, d, call),
    });
    assertSafeBaseUrl(this.api.baseUrl, PROVIDER);
  }

  get baseUrl(): string {
    return this.api.baseUrl;
  }

  /**
   * Checks the key. No account endpoint is known (INFERRED `keyCheckPath`): asking for a job that
   * does not exist answers 404 to a key VIDIO accepts, 401 / 403 otherwise.
   */
  async checkKey(opts: { signal?: AbortSignal } = {}): Promise<AccountInfo> {
    await this.api.call('GET', this.contract.keyCheckPath, { what: 'check the API key', accept: (s) => s === 404, signal: opts.signal });
    return {
      summary: 'Key works: VIDIO API access is on',
      details: {
        key: this.api.apiKey ? maskKey(this.api.apiKey) : null,
        baseUrl: this.api.baseUrl,
        // Said wherever the key is shown: nothing about VIDIO's HTTP API is documented.
        contract: 'inferred, unverified',
      },
    };
  }

  /**
   * Uploads one file (`upload(file_path)`): a multipart/form-data POST streamed from `source`, with
   * a Content-Length when the size is known. Files over the limit are refused before anything is
   * sent. Returns VIDIO's `input_key`. Failures follow the retry table (the file is sent again
   * from its start); cancelling stops the upload at once.
   */
  async upload(source: UploadSource, opts: UploadOptions): Promise<string> {
    const { name, signal } = opts;
    this.assertUploadable(source, name);
    const call: CallInfo = { method: 'POST', path: this.contract.uploadPath, what: `upload ${quoted(name)}` };
    const url = this.api.url(this.contract.uploadPath);
    const tracker = this.api.http.tracker();
    for (;;) {
      if (signal?.aborted) throw cancelledError(signal);
      try {
        const text = await postMultipart(url, source, {
          provider: PROVIDER,
          serviceName: NAME,
          field: this.contract.uploadField,
          name,
          contentType: mimeFor(name),
          headers: keyHeaders(url, this.api.baseUrl, this.contract.keyHeader, this.api.apiKey, PROVIDER),
          maxBytes: this.contract.maxUploadBytes,
          stallMs: this.contract.uploadStallMs,
          answerTimeoutMs: this.contract.uploadAnswerTimeoutMs,
          fetch: this.fetchImpl,
          ...(signal ? { signal } : {}),
          ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
        });
        return (await parseJson(text, UploadSchema, call.what)).input_key;
      } catch (err) {
        if (!(err instanceof HttpFailure)) throw this.reword(err, call, name);
        try {
          await tracker.handle(err, signal);
        } catch (final) {
          throw this.reword(final, call, name);
        }
      }
    }
  }

  /**
   * Asks for a reel from uploaded files (`create_highlight_reel`); their order is the order of the
   * media in the reel. Options are checked first. Returns the `job_id`.
   */
  async createReel(inputKeys: readonly string[], options: ReelOptionsInput, opts: { signal?: AbortSignal } = {}): Promise<string> {
    const o = parseOptions(options);
    if (inputKeys.length === 0 || inputKeys.some((k) => typeof k !== 'string' || k === '')) {
      throw new VidioError('bad_input', 'A highlight reel needs at least one uploaded video.');
    }
    const created = await this.api.json('POST', this.contract.reelsPath, CreatedSchema, {
      body: reelBody(inputKeys, o),
      what: 'start the highlight reel',
      retry: new RetryTracker(NO_DUPLICATE, this.sleep),
      signal: opts.signal,
    });
    return created.job_id;
  }

  /** `get_job(job_id)`, validated. */
  async getJob(jobId: string, signal?: AbortSignal): Promise<ReelJob> {
    return this.api.json('GET', this.jobPath(jobId), ReelJobSchema, {
      what: 'check the reel job',
      notFound: `VIDIO has no job ${jobId}: it does not exist or belongs to another key.`,
      signal,
    });
  }

  /**
   * `wait_for_job`: polls until the job is `processed` (or later) and returns it with its
   * `outputs`. Fails on `failed` (with VIDIO's reason), when the job shows the same status for
   * too long, and past the overall limit. Polls that fail (5xx, 429) follow the retry table.
   */
  async waitProcessed(jobId: string, opts: WaitOptions = {}): Promise<ReelJob> {
    return this.waitFor(jobId, 'processed', opts);
  }

  /**
   * `render(job_id, output_index)`. A 409 (the job is not processed yet) is waited out and tried
   * again, up to `renderConflictMaxMs`; a job that failed meanwhile fails here.
   */
  async render(jobId: string, outputIndex = 0, opts: WaitOptions = {}): Promise<ReelRender> {
    if (!Number.isInteger(outputIndex) || outputIndex < 0) throw new VidioError('bad_input', `The reel to render must be 0 or more (not ${outputIndex}).`);
    const path = this.renderPath(jobId);
    const what = 'start rendering the reel';
    const started = this.now();
    let seen: ReelJobStatus | null = null;
    for (;;) {
      const res = await this.api.call('POST', path, {
        body: { output_index: outputIndex },
        what,
        notFound: `VIDIO has no job ${jobId}: it does not exist or belongs to another key.`,
        accept: (s) => s === 409,
        retry: new RetryTracker(NO_DUPLICATE, this.sleep),
        signal: opts.signal,
      });
      if (res.status !== 409) return parseJson(res.text, RenderSchema, what);
      // Not processed yet (or already rendering): see where the job is.
      const job = await this.getJob(jobId, opts.signal);
      if (job.status !== seen) {
        seen = job.status;
        opts.onStatus?.(job.status, REEL_STATUS_WORDS[job.status], job);
      }
      if (job.status === 'failed') throw failedError(job);
      // Already rendering (or done by now): the render asked for is under way.
      if (job.status === 'rendering' || job.status === 'rendered') return { job_id: job.job_id, status: job.status, output_url: job.output_url ?? null };
      const waited = this.now() - started;
      if (waited >= this.contract.renderConflictMaxMs) {
        throw new VidioError(
          'timeout',
          `VIDIO would not start rendering the reel for ${formatWait(waited)}: the job is still ${REEL_STATUS_WORDS[job.status].toLowerCase()}${errorSaid(res.text)}.`,
          { status: 409 },
        );
      }
      await this.sleep(this.contract.pollIntervalMs, opts.signal);
    }
  }

  /** `wait_for_render`: polls until `rendered` and returns the `output_url` (absolute). */
  async waitRendered(jobId: string, opts: WaitOptions = {}): Promise<string> {
    const job = await this.waitFor(jobId, 'rendered', opts);
    if (!job.output_url) throw new VidioError('bad_response', `VIDIO rendered the reel (job ${jobId}) but gave no link to it.`);
    return this.absolute(job.output_url);
  }

  /**
   * The whole use case: upload each input in order, ask for the reel, wait until VIDIO has
   * processed it, render `outputIndex`, wait for the render, then save the reel into `ctx.sink`
   * (fetched without the key). Progress: one {@link ReelProgress} at every step.
   */
  async makeReel(inputs: ReadonlyArray<{ source: ByteSource; name: string }>, options: ReelOptionsInput, ctx: MakeReelContext): Promise<ReelResult> {
    const signal = ctx.signal;
    const report = new ReelReporter(ctx.onProgress, this.now);
    try {
      const o = parseOptions(options);
      if (inputs.length === 0) throw new VidioError('bad_input', 'A highlight reel needs at least one video.');
      // Every file is checked before the first byte goes out.
      for (const input of inputs) this.assertUploadable(input.source, input.name);

      const sizes = inputs.map((i) => i.source.size);
      const total = sizes.every((s): s is number => s !== null) ? sizes.reduce((a, b) => a + b, 0) : null;
      const keys: string[] = [];
      let before = 0;
      for (const [i, input] of inputs.entries()) {
        const words = `Uploading ${input.name}${inputs.length > 1 ? ` (${i + 1} of ${inputs.length})` : ''}`;
        report.uploading(before, total, words, true);
        let sent = 0;
        const key = await this.upload(input.source, {
          name: input.name,
          ...(signal ? { signal } : {}),
          onProgress: (done) => report.uploading(before + (sent = done), total, words),
        });
        keys.push(key);
        before += sent;
      }

      const onStatus: ReelStatusListener = (status) => report.working(status);
      const jobId = await this.createReel(keys, o, signal ? { signal } : {});
      report.working('submitted');
      const processed = await this.waitFor(jobId, 'processed', { onStatus, ...(signal ? { signal } : {}) });
      const outputs = processed.outputs ?? [];
      if (processed.outputs && outputs.length === 0) throw new VidioError('bad_input', 'VIDIO proposed no reel for these videos, so there is nothing to render.');
      let index = o.outputIndex;
      if (o.chooseOutput && ctx.chooseOutput && outputs.length > 1) {
        report.choosing(await this.choices(outputs, signal));
        index = await this.waitChoice(ctx.chooseOutput, jobId, signal);
      }
      if (processed.outputs && index >= outputs.length) {
        throw new VidioError('bad_input', `VIDIO proposed ${outputs.length} ${outputs.length === 1 ? 'reel' : 'reels'} (numbered 0 to ${outputs.length - 1}); there is no reel ${index} to render.`);
      }
      await this.render(jobId, index, { onStatus, ...(signal ? { signal } : {}) });
      report.working('rendering');
      const url = await this.waitRendered(jobId, { onStatus, ...(signal ? { signal } : {}) });

      report.downloading(EMPTY_PROGRESS);
      const bytes = await this.save(url, ctx.sink, report, signal);
      return { bytes, jobId, outputs };
    } catch (err) {
      await ctx.sink.abort(err).catch(() => {});
      throw toVidmuxError(err, 'internal');
    }
  }

  // ------------------------------------------------------------ internals

  /** VIDIO's proposals as choices: length and thumbnail (fetched here: it may want the key). */
  private async choices(outputs: ReelOutput[], signal: AbortSignal | undefined): Promise<JobChoice[]> {
    const shown = outputs.slice(0, MAX_CHOICES);
    const pictures = await Promise.all(shown.map((o) => (o.thumbnail ? this.thumbnail(o.thumbnail, signal) : null)));
    return shown.map((o, index) => ({ index, durationSeconds: o.duration ?? null, thumbnail: pictures[index] ?? null }));
  }

  /**
   * A proposal's thumbnail as a `data:` URL, or null when it cannot be had: a missing picture
   * does not stop the reel. The key goes only to VIDIO's API origin (the keyed client checks it).
   */
  private async thumbnail(link: string, signal: AbortSignal | undefined): Promise<string | null> {
    try {
      const url = new URL(link, `${this.api.baseUrl}/`);
      if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
      const client = url.origin === new URL(this.api.baseUrl).origin ? this.api.http : this.api.plain;
      const res = await client.request(url.href, { headers: { accept: 'image/*' }, retry: new RetryTracker(NO_DUPLICATE, this.sleep), ...(signal ? { signal } : {}) });
      const bytes = await res.bytes(MAX_THUMBNAIL_BYTES);
      const type = imageType(bytes);
      return type ? `data:${type};base64,${base64(bytes)}` : null;
    } catch (err) {
      if (signal?.aborted) throw err;
      return null;
    }
  }

  /** The user's pick, within {@link CHOICE_WAIT_MS}; cancelling the job ends the wait at once. */
  private async waitChoice(choose: () => Promise<number>, jobId: string, signal: AbortSignal | undefined): Promise<number> {
    const timer = new AbortController();
    const cancel = () => timer.abort();
    signal?.addEventListener('abort', cancel, { once: true });
    try {
      const timeout = this.sleep(CHOICE_WAIT_MS, timer.signal).then(() => {
        throw new VidioError('timeout', `No reel was chosen within ${CHOICE_WAIT_MS / 60_000} minutes; VIDIO keeps the job (${jobId}) for a while.`);
      });
      timeout.catch(() => undefined);
      return await Promise.race([choose(), timeout]);
    } finally {
      timer.abort();
      signal?.removeEventListener('abort', cancel);
    }
  }

  private jobPath(jobId: string): string {
    return this.contract.jobPath.replace('{id}', encodeURIComponent(jobId));
  }

  private renderPath(jobId: string): string {
    return this.contract.renderPath.replace('{id}', encodeURIComponent(jobId));
  }

  /** A link VIDIO gave, absolute (relative ones are under the API's base URL), http(s) only. */
  private absolute(link: string): string {
    let u: URL;
    try {
      u = new URL(link, `${this.api.baseUrl}/`);
    } catch {
      throw new VidioError('bad_response', 'VIDIO gave a link to the reel that is not a URL.');
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new VidioError('bad_response', `VIDIO gave a ${u.protocol} link to the reel; only web links can be fetched.`);
    return u.href;
  }

  private assertUploadable(source: ByteSource, name: string): void {
    const max = this.contract.maxUploadBytes;
    if (source.size !== null && source.size > max) {
      throw new VidioError('bad_input', `${quoted(name)} is ${formatBytes(source.size)}: VIDIO takes files up to ${formatLimit(max)}.`);
    }
    if (source.size === 0) throw new VidioError('bad_input', `${quoted(name)} is empty.`);
  }

  /** Polls a job until it reaches `target` (or fails, stalls or runs out of time). */
  private async waitFor(jobId: string, target: 'processed' | 'rendered', opts: WaitOptions): Promise<ReelJob> {
    const c = this.contract;
    const timeoutMs = target === 'processed' ? c.processTimeoutMs : c.renderTimeoutMs;
    const reached = (j: ReelJob) => (target === 'processed' ? PROCESSED_OR_LATER.has(j.status) : j.status === 'rendered');
    let status: ReelJobStatus | null = null;
    let since = this.now();
    let failedPolls = 0;
    const job = await pollJob<ReelJob>({
      get: async (signal) => {
        const j = await this.getJob(jobId, signal);
        failedPolls = 0;
        if (j.status !== status) {
          status = j.status;
          since = this.now();
          opts.onStatus?.(j.status, REEL_STATUS_WORDS[j.status], j);
        } else if (!reached(j) && j.status !== 'failed' && this.now() - since >= c.stallMs) {
          throw new StalledError(
            'timeout',
            `VIDIO has shown “${REEL_STATUS_WORDS[j.status]}” for ${formatWait(this.now() - since)} without moving on; Vidmux stopped waiting (job ${jobId}).`,
          );
        }
        return j;
      },
      isFinal: (j) => j.status === 'failed' || reached(j),
      intervalMs: c.pollIntervalMs,
      timeoutMs,
      waitFirst: true,
      timeoutError: (last) =>
        new VidioError(
          'timeout',
          `VIDIO did not ${target === 'processed' ? 'finish the reel' : 'finish rendering the reel'} within ${formatWait(timeoutMs)}${last ? ` (still “${REEL_STATUS_WORDS[last.status]}”)` : ''}; Vidmux stopped waiting (job ${jobId}).`,
        ),
      // A poll that failed after the retry table gave up (VIDIO briefly down): poll again, a few times.
      tolerate: (e) => !(e instanceof StalledError) && isTransient(e) && ++failedPolls <= MAX_FAILED_POLLS,
      // No way to stop a VIDIO job is known.
      onCancel: async () => new VidmuxError('cancelled', 'Cancelled. VIDIO may still finish the job on its side.', { provider: PROVIDER }),
      ...(opts.signal ? { signal: opts.signal } : {}),
      now: this.now,
      sleep: this.sleep,
    });
    if (job.status === 'failed') throw failedError(job);
    return job;
  }

  /** Fetches the rendered reel into `sink` through the engine's plain client: no key goes there. */
  private async save(url: string, sink: ByteSink, report: ReelReporter, signal: AbortSignal | undefined): Promise<number> {
    try {
      const source = await openRangedSource(url, {
        client: this.api.plain,
        now: this.now,
        onProgress: (p) => report.downloading(p),
        ...(signal ? { signal } : {}),
      });
      return await copyToSink(source, sink, { media: { what: 'the reel' }, ...(signal ? { signal } : {}) });
    } catch (err) {
      const e = toVidmuxError(err, 'network');
      if (e instanceof ProviderError || e.code === 'cancelled') throw e;
      throw new VidioError(e.code, `VIDIO made the reel, but fetching it failed: ${e.message}`, { ...(e.status === undefined ? {} : { status: e.status }), cause: e });
    }
  }

  /** A failure in VIDIO's words (cancellation and errors already worded pass through). */
  private reword(err: unknown, call: CallInfo, file?: string): VidmuxError {
    const e = toVidmuxError(err, 'network');
    if (e instanceof ProviderError || e.code === 'cancelled' || e.code === 'truncated') return e;
    return this.wording(e, failureDetail(e), call, file);
  }

  /** VIDIO's error table (INFERRED `{"error":{"code","message","field"?}}` bodies). */
  private wording(err: VidmuxError, d: FailureDetail, call: CallInfo, file?: string): VidmuxError {
    const status = d.status;
    const opts = { ...(status === undefined ? {} : { status }), cause: err };
    const what = call.what;
    if (status === undefined) {
      // Stopped before sending (no key, an unsafe address): the reason as it is.
      if (err.code === 'unauthorized' || err.code === 'forbidden' || err.code === 'bad_input') return new VidioError(err.code, err.message, opts);
      return new VidioError(err.code, `Could not reach VIDIO to ${what}: ${err.message}`, opts);
    }
    const b = readErrorBody(d.body ?? '', this.api.apiKey);
    const said = b.message ? quoteSaid(b.message) : '';
    switch (status) {
      case 400: {
        if (b.field) return new VidioError('bad_input', `VIDIO rejected the ${FIELD_WORDS[b.field] ?? 'value'} (${b.field})${said || ' as invalid'}.`, opts);
        return new VidioError('bad_input', `VIDIO rejected the request to ${what}${said || ' as invalid'}.`, opts);
      }
      case 401: {
        const masked = this.api.apiKey ? ` (${maskKey(this.api.apiKey)})` : '';
        return new VidioError('unauthorized', `VIDIO did not accept the API key${masked}: it is missing, wrong or revoked. Check it in the options.`, opts);
      }
      case 403:
        return new VidioError('forbidden', `VIDIO refused to ${what}: VIDIO API access needs the Studio plan or above${said ? ` (VIDIO said${said})` : ''}.`, opts);
      case 404:
        return new VidioError('not_found', call.notFound ?? `VIDIO answered “not found” to ${what}${said}; check the VIDIO address in the options.`, opts);
      case 409:
        return new VidioError('http_error', `VIDIO is not ready to ${what}${said}.`, opts);
      case 413:
        return new VidioError('bad_input', `${file ? quoted(file) : 'The file'} is too big for VIDIO${said}.`, opts);
      case 415:
      case 422:
        return new VidioError('unsupported', `VIDIO cannot read ${file ? quoted(file) : 'one of the videos'} as a video${said}.`, opts);
      case 429: {
        const wait = d.retryAfterSeconds === undefined ? '' : ` (it asked to wait ${Math.round(d.retryAfterSeconds)} s)`;
        return new VidioError('rate_limited', `VIDIO kept refusing to ${what} because of too many requests${wait}. Try again in a few minutes.`, opts);
      }
      default:
        if (status >= 500) return new VidioError(status === 504 ? 'timeout' : 'http_error', `VIDIO is having problems (${status}) and could not ${what}. Try again later.`, opts);
        return new VidioError('http_error', `VIDIO answered ${status} when asked to ${what}${said}.`, opts);
    }
  }
}

// ---------------------------------------------------------------- progress

/** Builds the one {@link ReelProgress} line through the three phases. */
class ReelReporter {
  private meter: ProgressMeter | null = null;
  private metered: number | null = null;
  private status: ReelJobStatus | null = null;

  constructor(
    private readonly onProgress: ((p: JobProgress) => void) | undefined,
    private readonly now: () => number,
  ) {}

  uploading(done: number, total: number | null, words: string, force = false): void {
    if (!this.onProgress) return;
    if (!this.meter || this.metered !== total) {
      this.meter = new ProgressMeter(total, this.now);
      this.metered = total;
    }
    this.meter.set(done);
    const p = this.meter.throttled(force || (total !== null && done >= total));
    if (p) this.emit('uploading', 'resolving', { upload: p }, null, words);
  }

  /** A status VIDIO shows (once: the same status again is not news). */
  working(status: ReelJobStatus): void {
    if (status === this.status) return;
    this.status = status;
    this.emit('working', 'resolving', {}, status, REEL_STATUS_WORDS[status]);
  }

  /** VIDIO's proposals, waiting for the user's pick. */
  choosing(choices: JobChoice[]): void {
    const p: ReelProgress = { stage: 'resolving', tracks: {}, overall: EMPTY_PROGRESS, phase: 'working', status: 'processed', words: `Choose one of the ${choices.length} reels VIDIO proposes`, choices };
    this.onProgress?.(p);
  }

  downloading(p: Progress): void {
    this.emit('downloading', 'downloading', { file: p }, null, 'Saving the reel');
  }

  private emit(phase: ReelProgress['phase'], stage: JobStage, tracks: Record<string, Progress>, status: ReelJobStatus | null, words: string): void {
    const p: ReelProgress = { stage, tracks, overall: combineProgress(Object.values(tracks)), phase, status, words };
    this.onProgress?.(p);
  }
}

// ---------------------------------------------------------------- helpers

/** The image type of a thumbnail, by its first bytes (the Content-Type of a storage link is often wrong). */
function imageType(b: Uint8Array): string | null {
  if (b[0] === 0xff && b[1] === 0xd8 && b[2] === 0xff) return 'image/jpeg';
  if (b[0] === 0x89 && b[1] === 0x50 && b[2] === 0x4e && b[3] === 0x47) return 'image/png';
  if (b[0] === 0x52 && b[1] === 0x49 && b[2] === 0x46 && b[3] === 0x46 && b[8] === 0x57 && b[9] === 0x45 && b[10] === 0x42 && b[11] === 0x50) return 'image/webp';
  if (b[0] === 0x47 && b[1] === 0x49 && b[2] === 0x46) return 'image/gif';
  return null;
}

function base64(bytes: Uint8Array): string {
  let binary = '';
  for (let i = 0; i < bytes.length; i += 0x8000) binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  return btoa(binary);
}

/** What each create/render parameter is, for a 400 that names it. */
const FIELD_WORDS: Record<string, string> = {
  file: 'file',
  input_keys: 'uploaded videos',
  video_category: 'video category',
  output_length: 'reel length',
  aspect_ratio: 'aspect ratio',
  music_category: 'music',
  music_volume: 'music volume',
  original_audio_volume: 'volume of the videos’ own sound',
  output_index: 'reel to render',
};

function parseOptions(options: ReelOptionsInput): ReelOptions {
  const parsed = ReelOptionsSchema.safeParse(options);
  if (parsed.success) return parsed.data;
  const issues = parsed.error.issues.map((i) => `${i.path.join('.') || 'options'}: ${i.message}`).join('; ');
  throw new VidioError('bad_input', `The reel options are not valid: ${issues}.`);
}

/**
 * The JSON body of `create_highlight_reel`, with the documented parameter names. Like the SDK's
 * `None` defaults, optional parameters VIDIO would default anyway are left out (the older docs
 * know only the first four).
 */
export function reelBody(inputKeys: readonly string[], o: ReelOptions): Record<string, unknown> {
  return {
    input_keys: [...inputKeys],
    video_category: o.category,
    output_length: o.lengthSeconds,
    aspect_ratio: o.aspect,
    ...(o.music ? { music_category: o.music, ...(o.musicVolume === 100 ? {} : { music_volume: o.musicVolume }) } : {}),
    ...(o.originalVolume === 100 ? {} : { original_audio_volume: o.originalVolume }),
  };
}

async function parseJson<S extends z.ZodType>(text: string, schema: S, what: string): Promise<z.infer<S>> {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new VidioError('bad_response', `VIDIO did not answer the request to ${what} with JSON.`, { cause: err });
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue?.path.length ? `${issue.path.join('.')}: ` : '';
    throw new VidioError('bad_response', `VIDIO's answer to the request to ${what} is not what Vidmux expects (${where}${issue?.message ?? 'invalid'}).`, { cause: parsed.error });
  }
  return parsed.data;
}

/** The code, message and field of an error body (the key masked, should VIDIO echo it). */
function readErrorBody(text: string, key: string | null): { code: string | null; message: string | null; field: string | null } {
  const safe = key ? text.split(key).join(maskKey(key)) : text;
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(safe));
    if (parsed.success) {
      const e = parsed.data.error;
      if (typeof e === 'string') return { code: null, message: e, field: null };
      if (e) return { code: e.code ?? null, message: e.message ?? parsed.data.message ?? null, field: e.field ?? null };
      return { code: null, message: parsed.data.message ?? null, field: null };
    }
  } catch {
    /* not JSON: the text is what VIDIO said */
  }
  return { code: null, message: safe.trim() ? safe.trim().slice(0, 300) : null, field: null };
}

function errorSaid(text: string): string {
  const m = readErrorBody(text, null).message;
  return m ? ` (VIDIO said${quoteSaid(m)})` : '';
}

/** A `failed` job as an error, with VIDIO's reason. */
function failedError(job: ReelJob): VidmuxError {
  const e = job.error;
  const reason =
    typeof e === 'string' ? e : e && typeof e === 'object' && typeof (e as { message?: unknown }).message === 'string' ? (e as { message: string }).message : '';
  const text = reason.trim().replace(/\.$/, '');
  return new VidioError('download_failed', `VIDIO could not make the reel${text ? `: ${text}` : ''} (job ${job.job_id}).`);
}

function isTransient(e: VidmuxError): boolean {
  const s = e.status;
  return (s !== undefined && (s >= 500 || s === 429)) || e.code === 'network' || (s === undefined && e.code === 'timeout');
}

const MIME: Record<string, string> = {
  mp4: 'video/mp4',
  m4v: 'video/mp4',
  mov: 'video/quicktime',
  webm: 'video/webm',
  mkv: 'video/x-matroska',
  ts: 'video/mp2t',
  m2ts: 'video/mp2t',
  mts: 'video/mp2t',
};

/** The part's Content-Type from the file name. */
export function mimeFor(name: string): string {
  const ext = /\.([a-z0-9]+)$/i.exec(name)?.[1]?.toLowerCase();
  return (ext && MIME[ext]) || 'application/octet-stream';
}


