/**
 * RenderIO (https://renderio.dev, ../shared/providers.md section 1): a hosted yt-dlp + FFmpeg.
 * Vidmux submits a job (`POST /ytdlp-download` with a `format_selector`, or `POST
 * /run-ytdlp-command` with an FFmpeg recipe for MP3), polls `GET /commands/{id}` until SUCCESS or
 * FAILED, then fetches the finished file from its signed `storage_url` (a storage host that never
 * gets the key). Every request that carries the key gets its headers from {@link keyHeaders}.
 */
import { z } from 'zod';
import { maskKey, ProviderError, toVidmuxError, VidmuxError } from '../errors';
import type { FailureDetail, HttpClient } from '../net/http';
import { openRangedSource } from '../net/ranged-fetch';
import { RateWindow } from '../net/rate-window';
import { DEFAULT_RETRY_POLICY, RetryTracker, cancelledError, realSleep, type RetryPolicy, type Sleep } from '../net/retry-policy';
import { copyToSink } from '../net/save';
import { TrackProgress } from '../progress';
import { parseHttpUrl, siteOf, youtubeVideoId } from '../sites';
import { providerHandles } from './coverage';
import { ProviderApi, type CallInfo } from './kit/api';
import { makeFormat } from './kit/format';
import { pollJob } from './kit/poll';
import type { AccountInfo, DownloadContext, DownloadResult, Format, MediaInfo, Provider, ProviderConfig, Selection } from './types';

const PROVIDER = 'renderio';
const KEY_HEADER = 'X-API-KEY';

/** RenderIO asks clients not to poll more than once a second (rio:poll). */
export const MIN_POLL_INTERVAL_MS = 1000;
export const DEFAULT_POLL_INTERVAL_MS = 2000;
export const DEFAULT_JOB_TIMEOUT_MS = 10 * 60 * 1000;
/** `metadata` may have at most this many keys (rio:ytdl). */
export const MAX_METADATA_KEYS = 10;

/** The MP3 recipe: the downloaded video in, its audio as VBR MP3 (~190 kbps) out. */
export const MP3_COMMAND = '-i {{in_video}} -vn -c:a libmp3lame -q:a 2 {{out_audio}}';

/** `format_selector` values Vidmux offers, with the height each one asks for. */
const VIDEO_SELECTORS: Array<[selector: string, height: number | null]> = [
  ['best', null],
  ['2160p', 2160],
  ['1440p', 1440],
  ['1080p', 1080],
  ['720p', 720],
  ['480p', 480],
  ['360p', 360],
];

// ---- response shapes (unknown fields are tolerated: zod objects strip them) ----------------------

const OutputFileMetaSchema = z.object({
  file_id: z.string().nullish(),
  storage_url: z.string().nullable(),
  status: z.string().nullish(),
  is_deleted: z.boolean().nullish(),
  filename: z.string().nullish(),
  size_mbytes: z.number().nullish(),
  mime_type: z.string().nullish(),
  width: z.number().nullish(),
  height: z.number().nullish(),
  duration: z.number().nullish(),
});

const CommandSchema = z.object({
  command_id: z.string().min(1),
  status: z.enum(['QUEUED', 'PROCESSING', 'SUCCESS', 'FAILED']),
  command_type: z.string().nullish(),
  metadata: z.record(z.string(), z.unknown()).nullish(),
  error_status: z.string().nullish(),
  error_message: z.string().nullish(),
  /** The seed reads `error`; the docs say error_status/error_message. Read both. */
  error: z.unknown().optional(),
  output_files: z.record(z.string(), OutputFileMetaSchema).nullish(),
});
export type RenderIoCommand = z.infer<typeof CommandSchema>;

const SubmitSchema = z.object({ command_id: z.string().min(1) });
const ListSchema = z.object({ commands: z.array(CommandSchema), limit: z.number().optional(), offset: z.number().optional() });

const ErrorBodySchema = z.object({
  error: z.string().optional(),
  message: z.string().optional(),
  detail: z
    .union([
      z.string(),
      z.array(z.object({ loc: z.array(z.union([z.string(), z.number()])).optional(), msg: z.string().optional(), type: z.string().optional() })),
    ])
    .optional(),
});

/** An error this client already phrased for a person (not worded again). */
class RenderIoError extends ProviderError {}

/** Settings of {@link RenderIoProvider}: the common ones plus polling. */
export interface RenderIoConfig extends ProviderConfig {
  /** Time between polls. Default 2 s; never less than 1 s. */
  pollIntervalMs?: number;
  /** Give up waiting for the job after this long. Default 10 min. */
  timeoutMs?: number;
  /** Extra job metadata (echoed in RenderIO's dashboard). `source: "vidmux"` is always sent. */
  metadata?: Record<string, string | number | boolean>;
}

/** What a format id stands for. */
type Plan =
  | { kind: 'download'; selector: string; alias: 'out_video' }
  | { kind: 'mp3'; alias: 'out_audio' };

export class RenderIoProvider implements Provider {
  readonly id = 'renderio' as const;
  readonly displayName = 'RenderIO';
  readonly needsKey = true;
  private readonly api: ProviderApi;
  /** The context's plain client: storage links get no key. */
  private readonly http: HttpClient;
  private readonly window = new RateWindow({ wait: false });
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly pollIntervalMs: number;
  private readonly timeoutMs: number;
  private readonly metadata: Record<string, string | number | boolean>;

  constructor(config: RenderIoConfig) {
    this.now = config.now ?? (() => Date.now());
    this.sleep = config.sleep ?? realSleep;
    // How long RenderIO's windows are is not documented: remember what it says, never wait on it.
    this.api = new ProviderApi({
      provider: PROVIDER,
      name: 'RenderIO',
      apiKey: config.apiKey,
      baseUrl: config.baseUrl ?? null,
      ...(config.http ? { http: config.http } : {}),
      sleep: this.sleep,
      auth: (key) => ({ header: KEY_HEADER, value: key }),
      hooks: this.window.hooks(),
      wording: (err, d, call) => this.wording(err, d, call),
    });
    this.http = this.api.plain;
    this.pollIntervalMs = Math.max(MIN_POLL_INTERVAL_MS, config.pollIntervalMs ?? DEFAULT_POLL_INTERVAL_MS);
    this.timeoutMs = config.timeoutMs ?? DEFAULT_JOB_TIMEOUT_MS;
    this.metadata = Object.fromEntries(Object.entries({ source: 'vidmux', ...config.metadata }).slice(0, MAX_METADATA_KEYS));
  }

  /** The last `X-RateLimit-Remaining` RenderIO sent, if any. */
  get rateLimitRemaining(): number | null {
    return this.window.remaining();
  }

  supports(url: string): boolean {
    return providerHandles(PROVIDER, url);
  }

  /**
   * RenderIO has no info endpoint and returns no metadata (title, duration, real heights) before
   * a job has run, so this makes no request: the formats are the `format_selector` values (the
   * closest available height is what RenderIO then delivers) and the title comes from the URL.
   */
  async resolve(url: string, opts: { signal?: AbortSignal } = {}): Promise<MediaInfo> {
    if (opts.signal?.aborted) throw cancelledError(opts.signal);
    if (!this.supports(url)) throw new RenderIoError('unsupported', `RenderIO does not handle ${parseHttpUrl(url)?.host ?? 'that link'}.`, { provider: PROVIDER });
    // Fails early (no key, unsafe base URL) so fallback moves on before any download starts.
    this.api.assertUsable();
    const formats: Format[] = VIDEO_SELECTORS.map(([selector, height]) =>
      makeFormat('renderio', `renderio:${selector}`, { kind: 'video+audio', container: 'mp4', delivery: 'file', height }, height ? undefined : 'Best available · MP4'),
    );
    formats.push(makeFormat('renderio', 'renderio:audio_only', { kind: 'audio', container: 'm4a', delivery: 'file' }));
    formats.push(makeFormat('renderio', 'renderio:mp3', { kind: 'audio', container: 'mp3', audioCodec: 'mp3', delivery: 'file' }, 'Audio · MP3'));
    return { provider: 'renderio', url, title: titleFromUrl(url), durationSeconds: null, thumbnail: null, formats, subtitles: [] };
  }

  async download(info: MediaInfo, selection: Selection, ctx: DownloadContext): Promise<DownloadResult> {
    const plan = decodeFormat(selection.format);
    const signal = ctx.signal;
    const progress = new TrackProgress(ctx.onProgress, [], 'resolving');
    progress.emit();
    const body =
      plan.kind === 'download'
        ? { input_urls: { in_video: info.url }, format_selector: plan.selector, metadata: this.metadata }
        : { input_urls: { in_video: info.url }, ffmpeg_command: MP3_COMMAND, output_files: { out_audio: 'audio.mp3' }, metadata: this.metadata };
    const path = plan.kind === 'download' ? '/ytdlp-download' : '/run-ytdlp-command';
    const { command_id: id } = await this.api.json('POST', path, SubmitSchema, {
      body,
      what: 'starting the download job',
      // A submit that timed out may still have made a job; do not risk making (and paying for) two.
      retry: new RetryTracker(NO_DUPLICATE_SUBMIT, this.sleep),
      signal,
    });

    const done = await pollJob({
      get: (s) => this.getCommand(id, s),
      isFinal: (cmd) => cmd.status === 'SUCCESS' || cmd.status === 'FAILED',
      intervalMs: this.pollIntervalMs,
      timeoutMs: this.timeoutMs,
      timeoutError: (last) =>
        new RenderIoError(
          'timeout',
          `RenderIO did not finish the job within ${fmtDuration(this.timeoutMs)} (still ${(last?.status ?? 'queued').toLowerCase()}). It may still finish: job ${id} in the RenderIO dashboard.`,
          { provider: PROVIDER },
        ),
      // Polls stay an interval apart from the submit, too: a job is never done the moment it is accepted.
      waitFirst: true,
      onState: () => progress.emit(),
      ...(signal ? { signal } : {}),
      now: this.now,
      sleep: this.sleep,
    });
    if (done.status === 'FAILED') {
      const reason = (done.error_message || errorText(done.error) || 'unknown error').trim().replace(/\.$/, '');
      throw new RenderIoError('download_failed', `RenderIO could not make the file: ${reason}${done.error_status ? ` (${done.error_status})` : ''}.`, { provider: PROVIDER });
    }
    const file = pickOutput(done, plan.alias);

    // The file's URL is signed and on a storage host: no key goes with it, ever.
    progress.setStage('downloading');
    try {
      const source = await openRangedSource(file.url, {
        client: this.http,
        now: this.now,
        refresh: (stale, s) => this.freshStorageUrl(id, file.alias, stale, s),
        onProgress: (p) => progress.set('file', p),
        ...(signal ? { signal } : {}),
      });
      const bytes = await copyToSink(source, await ctx.target.media(), { media: { what: 'the file RenderIO made' }, ...(signal ? { signal } : {}) });
      return { bytes, subtitles: [] };
    } catch (err) {
      // The storage host is not RenderIO's API: its answers say nothing of the key or the plan.
      const e = toVidmuxError(err, 'network');
      if (e instanceof ProviderError || e.code === 'cancelled') throw e;
      throw new RenderIoError(e.code, `RenderIO failed while fetching the finished file: ${e.message}`, { provider: PROVIDER, ...(e.status === undefined ? {} : { status: e.status }), cause: e });
    }
  }

  /** `GET /commands?limit=1`: proves the key works and shows the latest job. */
  async checkKey(opts: { signal?: AbortSignal } = {}): Promise<AccountInfo> {
    const list = await this.api.json('GET', '/commands?limit=1', ListSchema, { what: 'checking the key', signal: opts.signal });
    const last = list.commands[0];
    const parts = ['Key works'];
    parts.push(last ? `last job ${last.status.toLowerCase()}` : 'no jobs yet');
    if (this.rateLimitRemaining !== null) parts.push(`${this.rateLimitRemaining} requests left before rate limiting`);
    return {
      summary: parts.join(' · '),
      details: {
        key: this.api.apiKey ? maskKey(this.api.apiKey) : null,
        lastJobId: last?.command_id ?? null,
        lastJobStatus: last?.status ?? null,
        rateLimitRemaining: this.rateLimitRemaining,
        // No endpoint tells the plan; downloads are refused (403) below the Growth plan.
        plan: 'downloads need a trial or the Growth plan or higher',
      },
    };
  }

  /** `GET /commands/{id}`: a job's current state. */
  private getCommand(id: string, signal?: AbortSignal): Promise<RenderIoCommand> {
    return this.api.json('GET', `/commands/${encodeURIComponent(id)}`, CommandSchema, {
      what: 'checking the job',
      notFound: `RenderIO has no job ${id}: it does not exist or belongs to another account.`,
      signal,
    });
  }

  /** A new storage URL after the old one was refused; re-polling is the only way to ask for one. */
  private async freshStorageUrl(id: string, alias: string, stale: string, signal?: AbortSignal): Promise<string> {
    const cmd = await this.getCommand(id, signal);
    const url = cmd.output_files?.[alias]?.storage_url;
    if (!url || url === stale) {
      throw new RenderIoError('expired', 'The link to the file RenderIO made has expired. Start the download again to have RenderIO make it anew.', { provider: PROVIDER });
    }
    return url;
  }

  /** RenderIO's words: its 4xx bodies read and turned into plain words; what the client gave up on named as RenderIO's. */
  private wording(err: VidmuxError, d: FailureDetail, call: CallInfo): VidmuxError {
    if (d.status !== undefined && d.status >= 400 && d.status < 500 && d.status !== 429) return this.apiError(d.status, d.body ?? '', call.notFound);
    const opts = { provider: PROVIDER, ...(err.status === undefined ? {} : { status: err.status }), cause: err };
    if (err.code === 'rate_limited') {
      return new RenderIoError('rate_limited', `RenderIO is limiting how often this key may call it and kept refusing while ${call.what}. Wait a minute and try again.`, opts);
    }
    return new RenderIoError(err.code, `RenderIO failed while ${call.what}: ${err.message}`, opts);
  }

  /** A RenderIO 4xx as a message a person understands. */
  private apiError(status: number, text: string, notFound?: string): VidmuxError {
    const safe = this.api.apiKey ? text.split(this.api.apiKey).join(maskKey(this.api.apiKey)) : text;
    let body: z.infer<typeof ErrorBodySchema> = {};
    try {
      const parsed = ErrorBodySchema.safeParse(JSON.parse(safe));
      if (parsed.success) body = parsed.data;
    } catch {
      /* not JSON: use the text */
    }
    const detail = Array.isArray(body.detail)
      ? body.detail.map((d) => [d.loc?.join('.'), d.msg].filter(Boolean).join(': ')).join('; ')
      : body.detail;
    const said = (body.message || detail || body.error || safe.slice(0, 200)).trim().replace(/\.$/, '');
    const opts = { provider: PROVIDER, status };
    switch (status) {
      case 400:
        return new RenderIoError('bad_input', `RenderIO rejected the request as invalid: ${said}.`, opts);
      case 401:
        return new RenderIoError(
          'unauthorized',
          `RenderIO did not accept the API key${this.api.apiKey ? ` ${maskKey(this.api.apiKey)}` : ''} (${said}). Check the key in Vidmux's options; it may be mistyped or revoked.`,
          opts,
        );
      case 403:
        return new RenderIoError('forbidden', `RenderIO refused to download (${said}). Video downloads need a RenderIO trial or the Growth plan or higher.`, opts);
      case 404:
        return new RenderIoError('not_found', notFound ?? `RenderIO says it does not exist (${said}).`, opts);
      case 422:
        return new RenderIoError('bad_input', `RenderIO could not read the request: ${said}.`, opts);
      default:
        return new RenderIoError('http_error', `RenderIO rejected the request (${status}): ${said}.`, opts);
    }
  }
}

/** Submits fail rather than retry when the answer never came: the job may exist already. */
const NO_DUPLICATE_SUBMIT: RetryPolicy = { ...DEFAULT_RETRY_POLICY, timeout: { action: 'fail', maxRetries: 0, wait: { kind: 'none' } } };

function decodeFormat(format: Format): Plan {
  const value = format.provider === 'renderio' && format.id.startsWith('renderio:') ? format.id.slice('renderio:'.length) : null;
  if (value === 'mp3') return { kind: 'mp3', alias: 'out_audio' };
  if (value === 'audio_only' || VIDEO_SELECTORS.some(([s]) => s === value)) return { kind: 'download', selector: value!, alias: 'out_video' };
  throw new RenderIoError('bad_input', 'That format is not one RenderIO offered.', { provider: PROVIDER });
}

/** The finished file of a SUCCESS: the expected alias, else the only stored one. */
function pickOutput(cmd: RenderIoCommand, alias: string): { alias: string; url: string } {
  const files = Object.entries(cmd.output_files ?? {});
  const entry = files.find(([k]) => k === alias) ?? (files.length === 1 ? files[0] : undefined);
  const meta = entry?.[1];
  if (meta?.is_deleted) throw new RenderIoError('not_found', 'RenderIO already deleted the file it made for this job.', { provider: PROVIDER });
  const url = meta?.storage_url ? parseHttpUrl(meta.storage_url) : null;
  if (!entry || !meta || (meta.status && meta.status !== 'STORED') || !url) {
    throw new RenderIoError('bad_response', `RenderIO finished job ${cmd.command_id} but gave no link to a stored file.`, { provider: PROVIDER });
  }
  return { alias: entry[0], url: url.href };
}

/** "YouTube video dQw4w9WgXcQ", "TikTok video 7301234567890": the best there is before the job. */
export function titleFromUrl(url: string): string {
  const u = parseHttpUrl(url);
  if (!u) return 'video';
  const name = siteOf(url)?.name ?? u.hostname.replace(/^www\./, '');
  const yt = youtubeVideoId(url);
  const last = yt ?? decodeURIComponent(u.pathname.split('/').filter(Boolean).at(-1) ?? '');
  return last ? `${name} video ${last}` : `${name} video`;
}

function errorText(error: unknown): string {
  if (typeof error === 'string') return error;
  if (error && typeof error === 'object' && 'message' in error && typeof error.message === 'string') return error.message;
  return '';
}

function fmtDuration(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 6000) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}
