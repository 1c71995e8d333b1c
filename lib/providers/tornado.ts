/**
 * Tornado API (../shared/providers.md section 3): the service downloads the video itself and hands
 * back a finished file. POST /jobs (with an idempotency key, so a retried submit never makes a
 * second job), poll GET /jobs/{id} every 2 s through Pending / Processing to a terminal status,
 * then fetch the presigned `s3_url` (and `subtitle_url`) from the storage host, which never gets
 * the key. With the user's own storage (sent inline) the file stays in their bucket and we report
 * where. Playlists become one job per video ({@link TornadoProvider.expand}). GET /usage checks the key.
 */
import { z } from 'zod';
import { maskKey, VidmuxError, type ErrorCode } from '../errors';
import { sanitizeSegment } from '../filename';
import type { FailureDetail, HttpClient } from '../net/http';
import { openRangedSource } from '../net/ranged-fetch';
import { realSleep, type Sleep } from '../net/retry-policy';
import { copyToSink } from '../net/save';
import { TrackProgress } from '../progress';
import { TornadoStorageSchema, type TornadoStorage } from '../schemas/tornado-storage';
import { isTornadoPlaylistUrl, providerHandles } from './coverage';
import { ProviderApi, ProviderError, type CallInfo } from './kit/api';
import { assertSafeBaseUrl } from './kit/auth';
import { makeFormat, type FormatFields } from './kit/format';
import { pollJob } from './kit/poll';
import type { AccountInfo, DownloadContext, DownloadResult, Format, MediaInfo, PlaylistEntry, PlaylistWish, Provider, ProviderConfig, Selection } from './types';

const PROVIDER = 'tornado';
/** Poll interval (the vendor recommends 2–5 s). */
export const TORNADO_POLL_MS = 2000;
/** GET /jobs/{id} may answer 404 this long after creation (replication lag). */
export const TORNADO_NOT_FOUND_GRACE_MS = 30_000;
/** Give up waiting for a job after this long (fake clock in tests). */
export const TORNADO_JOB_TIMEOUT_MS = 3 * 3600_000;

// ---------------------------------------------------------------- storage

/** Where a file stays in the user's storage, as a person (and a console) would write it. */
export function describeStorageLocation(storage: TornadoStorage, key: string): string {
  switch (storage.provider) {
    case 's3':
      return `s3://${storage.bucket}/${key} (${storage.endpoint})`;
    case 'blob':
      return `https://${storage.account_name}.blob.core.windows.net/${storage.container}/${key}`;
    case 'gcs':
      return `gs://${storage.bucket}/${key}`;
    case 'oss':
      return `oss://${storage.bucket}/${key} (${storage.endpoint})`;
  }
}

// ---------------------------------------------------------------- API shapes

const nullish = <T extends z.ZodType>(t: T) => t.nullable().optional();

const MetadataSchema = z.looseObject({
  title: nullish(z.string()),
  duration: nullish(z.number()),
  width: nullish(z.number()),
  height: nullish(z.number()),
  extractor: nullish(z.string()),
  uploader: nullish(z.string()),
  thumbnail: nullish(z.string()),
  filesize_approx: nullish(z.number()),
});

const JOB_STATUSES = ['Pending', 'Processing', 'Completed', 'Failed', 'Warning', 'Skipped'] as const;
export const TornadoJobSchema = z.looseObject({
  id: z.string(),
  url: z.string(),
  status: z.enum(JOB_STATUSES),
  s3_url: nullish(z.string()),
  subtitle_url: nullish(z.string()),
  error: nullish(z.string()),
  step: nullish(z.string()),
  title: nullish(z.string()),
  s3_key: nullish(z.string()),
  file_size: nullish(z.number()),
  batch_id: nullish(z.string()),
  /** The container asked for (echoed by Tornado). */
  format: nullish(z.string()),
});
export type TornadoJob = z.infer<typeof TornadoJobSchema>;

const JobItemSchema = z.looseObject({ job_id: z.string(), url: nullish(z.string()), title: nullish(z.string()) });
type JobItem = z.infer<typeof JobItemSchema>;

/** What POST /jobs made: one job, or a batch (playlist, Spotify show) of jobs. */
type Created = { kind: 'job'; jobId: string; cached: boolean } | { kind: 'batch'; batchId: string; total: number; items: JobItem[] };

const batch = (batchId: string, total: number | undefined, items: JobItem[]): Created => ({ kind: 'batch', batchId, total: total ?? items.length, items });
/** POST /jobs answers in one of three shapes (a job, a playlist batch, a show batch): each becomes a {@link Created}. */
const CreatedSchema = z.union([
  z.looseObject({ job_id: z.string(), cached: z.boolean().optional() }).transform((d): Created => ({ kind: 'job', jobId: d.job_id, cached: d.cached === true })),
  z
    .looseObject({ batch_id: z.string(), total_videos: z.number().optional(), video_jobs: z.array(z.union([z.string(), JobItemSchema])) })
    .transform((d) => batch(d.batch_id, d.total_videos, d.video_jobs.map((v) => (typeof v === 'string' ? { job_id: v } : v)))),
  z
    .looseObject({ batch_id: z.string(), total_episodes: z.number().optional(), episodes: z.array(JobItemSchema).optional(), episode_jobs: z.array(z.string()) })
    .transform((d) => batch(d.batch_id, d.total_episodes, d.episodes ?? d.episode_jobs.map((id) => ({ job_id: id })))),
]);

const UsageSchema = z.looseObject({
  client_name: z.string(),
  usage_count: z.number().int(),
  storage_usage_gb: z.number(),
  storage_limit_gb: nullish(z.number()),
  storage_remaining_gb: nullish(z.number()),
  storage_effective_usage_gb: nullish(z.number()),
  current_period_usage_gb: nullish(z.number()),
  max_resolution_limit: nullish(z.string()),
  max_duration_limit_seconds: nullish(z.number()),
  max_filesize_limit_mb: nullish(z.number()),
  billing_period_start: nullish(z.number()),
  billing_period_end: nullish(z.number()),
});

const CancelSchema = z.looseObject({ message: nullish(z.string()), job_id: nullish(z.string()) });

// ---------------------------------------------------------------- formats

const RESOLUTIONS = ['best', '2160', '1440', '1080', '720', '480', '360'] as const;
type Resolution = (typeof RESOLUTIONS)[number];

/** What a Tornado format id carries: the job options that produce it. */
interface JobFormat {
  format: 'mp4' | 'm4a' | 'mp3';
  audio_only: boolean;
  max_resolution: Resolution;
}

function encodeFormat(f: JobFormat): string {
  return `tornado:${f.audio_only ? 'audio' : 'video'}:${f.format}:${f.max_resolution}`;
}

function decodeFormat(id: string): JobFormat {
  const m = /^tornado:(audio|video):(mp4|m4a|mp3):(best|2160|1440|1080|720|480|360)$/.exec(id);
  if (!m) throw new VidmuxError('bad_input', 'That format is not one Tornado offered.', { provider: PROVIDER });
  return { audio_only: m[1] === 'audio', format: m[2] as JobFormat['format'], max_resolution: m[3] as Resolution };
}

const SUBTITLE_FORMAT_ID = 'tornado:subtitles';

type TornadoConfig = ProviderConfig & {
  storage?: TornadoStorage | null;
  /** Storage prefix for the jobs' files (Tornado's `folder`). */
  folder?: string | null;
};

/** What {@link TornadoProvider.follow} should do with the finished job. */
interface Want {
  subtitles: boolean;
  ext: string | null;
  filename: string | null;
}

/** The Tornado API client. */
export class TornadoProvider implements Provider {
  readonly id = 'tornado' as const;
  readonly displayName = 'Tornado';
  readonly needsKey = true;
  readonly storage: TornadoStorage | null;
  private readonly api: ProviderApi;
  /** The context's plain client: presigned storage links get no key. */
  private readonly http: HttpClient;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  private readonly folder: string | null;

  constructor(config: TornadoConfig) {
    this.sleep = config.sleep ?? realSleep;
    this.now = config.now ?? (() => Date.now());
    const apiKey = config.apiKey;
    this.api = new ProviderApi({
      provider: PROVIDER,
      name: 'Tornado',
      apiKey,
      baseUrl: config.baseUrl ?? null,
      ...(config.http ? { http: config.http } : {}),
      sleep: this.sleep,
      // Marketplace (Apify, RapidAPI, Zyla) tokens go as Bearer; direct keys (`sk_…`) as x-api-key.
      auth: (key) => (isMarketplaceKey(key) ? { header: 'authorization', value: `Bearer ${key}` } : { header: 'x-api-key', value: key }),
      wording: (err, d, call) => tornadoWording(err, d, call, apiKey),
    });
    assertSafeBaseUrl(this.api.baseUrl, PROVIDER);
    this.http = this.api.plain;
    this.folder = config.folder ?? null;
    if (config.storage) {
      const parsed = TornadoStorageSchema.safeParse(config.storage);
      if (!parsed.success) {
        throw new VidmuxError('bad_input', `The Tornado storage settings are incomplete: ${parsed.error.issues.map((i) => `${i.path.join('.') || 'storage'}: ${i.message}`).join('; ')}`, { provider: PROVIDER });
      }
      this.storage = parsed.data;
    } else {
      this.storage = null;
    }
  }

  get baseUrl(): string {
    return this.api.baseUrl;
  }

  /** Whether the key is a marketplace token (sent as Bearer; needs the user's own storage). */
  get isMarketplaceKey(): boolean {
    return isMarketplaceKey(this.api.apiKey);
  }

  supports(url: string): boolean {
    return providerHandles(PROVIDER, url);
  }

  async resolve(url: string, opts: { signal?: AbortSignal } = {}): Promise<MediaInfo> {
    if (!this.supports(url)) throw new VidmuxError('unsupported', 'Tornado does not handle this site.', { provider: PROVIDER });
    const meta = await this.api.json('POST', '/metadata', MetadataSchema, { body: { url }, signal: opts.signal, what: 'read this video' });
    const height = meta.height ?? null;
    const width = meta.width ?? null;
    const size = meta.filesize_approx ?? null;
    const formats: Format[] = [];
    const add = (f: JobFormat, fields: FormatFields, label?: string) => formats.push(makeFormat(PROVIDER, encodeFormat(f), fields, label));
    const video = (h: number | null, w: number | null, approx: number | null): FormatFields => ({ kind: 'video+audio', container: 'mp4', delivery: 'file', width: w, height: h, approxBytes: approx });
    add({ format: 'mp4', audio_only: false, max_resolution: 'best' }, video(height, width, size), `Best${height ? ` (${height}p)` : ''} · MP4`);
    for (const r of RESOLUTIONS.slice(1)) {
      const h = Number(r);
      // Caps at or above the source give the same file as "best".
      if (height !== null && h >= height) continue;
      add({ format: 'mp4', audio_only: false, max_resolution: r }, video(h, height && width ? Math.round((width * h) / height / 2) * 2 : null, null));
    }
    add({ format: 'm4a', audio_only: true, max_resolution: 'best' }, { kind: 'audio', container: 'm4a', delivery: 'file', audioCodec: 'mp4a.40.2' });
    add({ format: 'mp3', audio_only: true, max_resolution: 'best' }, { kind: 'audio', container: 'mp3', delivery: 'file', audioCodec: 'mp3' });
    const subtitles = [makeFormat(PROVIDER, SUBTITLE_FORMAT_ID, { kind: 'subtitle', container: 'vtt', delivery: 'file' }, 'Subtitles · as Tornado finds them')];
    const playlist = isTornadoPlaylistUrl(url);
    return {
      provider: PROVIDER,
      url,
      title: meta.title?.trim() || (playlist ? 'Playlist' : 'video'),
      durationSeconds: meta.duration ?? null,
      thumbnail: meta.thumbnail ?? null,
      formats,
      subtitles,
    };
  }

  async download(info: MediaInfo, selection: Selection, ctx: DownloadContext): Promise<DownloadResult> {
    if (isTornadoPlaylistUrl(info.url)) {
      throw new VidmuxError('bad_input', 'This is a playlist: add it with Tornado’s playlist option so each video becomes its own download.', { provider: PROVIDER });
    }
    const f = decodeFormat(selection.format.id);
    const progress = new TrackProgress(ctx.onProgress, [], 'resolving');
    progress.emit();
    const filename = jobFilename(info.title);
    const subtitles = selection.subtitles.length > 0;
    const created = await this.submit(info.url, { ...f, subtitles, filename }, ctx.signal);
    if (created.kind !== 'job') {
      throw new VidmuxError('bad_response', 'Tornado answered this video with a playlist; add it as a playlist instead.', { provider: PROVIDER });
    }
    return this.follow(created.jobId, ctx, { subtitles, ext: f.format, filename });
  }

  /**
   * A playlist (or Spotify show) becomes one Tornado job per video, each its own queue entry;
   * null when `url` is not a playlist.
   */
  async expand(url: string, wish: PlaylistWish): Promise<PlaylistEntry[] | null> {
    if (!isTornadoPlaylistUrl(url)) return null;
    const audio = wish.quality === 'audio';
    const f: JobFormat = audio
      ? { format: wish.audioFormat, audio_only: true, max_resolution: 'best' }
      : { format: 'mp4', audio_only: false, max_resolution: wish.quality as Resolution };
    const created = await this.submit(url, { ...f, subtitles: wish.subtitles }, wish.signal);
    const items = created.kind === 'job' ? [{ job_id: created.jobId, url, title: null }] : created.items;
    const total = created.kind === 'job' ? 1 : created.total;
    return items.map((v, index) => ({ provider: PROVIDER, ref: v.job_id, url: v.url ?? null, title: v.title ?? null, index, total }));
  }

  /** Waits for one entry's job (Tornado already has it) and downloads its file and subtitles. */
  async downloadEntry(entry: PlaylistEntry, wish: PlaylistWish, ctx: DownloadContext): Promise<DownloadResult> {
    new TrackProgress(ctx.onProgress, [], 'resolving').emit();
    return this.follow(entry.ref, ctx, { subtitles: wish.subtitles, ext: null, filename: null });
  }

  /** GET /jobs/{id}, validated. */
  async getJob(jobId: string, signal?: AbortSignal): Promise<TornadoJob> {
    return this.api.json('GET', `/jobs/${encodeURIComponent(jobId)}`, TornadoJobSchema, { signal, what: 'find that job' });
  }

  /**
   * DELETE /jobs/{id}: cancels a job that is still queued. Returns false when Tornado says it is
   * no longer in the queue (already processing or done).
   */
  async cancelJob(jobId: string): Promise<boolean> {
    try {
      await this.api.json('DELETE', `/jobs/${encodeURIComponent(jobId)}`, CancelSchema, { what: 'cancel that job' });
      return true;
    } catch (err) {
      if (err instanceof VidmuxError && err.status === 400) return false;
      throw err;
    }
  }

  async checkKey(opts: { signal?: AbortSignal } = {}): Promise<AccountInfo> {
    const u = await this.api.json('GET', '/usage', UsageSchema, { signal: opts.signal, what: 'read your usage' });
    const gb = (n: number) => `${Math.round(n * 100) / 100} GB`;
    const parts = [
      `${u.usage_count} ${u.usage_count === 1 ? 'job' : 'jobs'}`,
      u.storage_limit_gb != null ? `${gb(u.storage_usage_gb)} of ${gb(u.storage_limit_gb)} storage used` : `${gb(u.storage_usage_gb)} storage used`,
      ...(u.max_resolution_limit ? [`up to ${u.max_resolution_limit}p`] : []),
    ];
    const details: AccountInfo['details'] = {};
    for (const [k, v] of Object.entries(u)) {
      if (v === null || typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean') details[k] = v;
    }
    details.key = this.api.apiKey ? maskKey(this.api.apiKey) : null;
    details.auth = this.isMarketplaceKey ? 'marketplace' : 'direct';
    return { summary: `${u.client_name}: ${parts.join(', ')}`, details };
  }

  // ------------------------------------------------------------ internals

  /** POST /jobs with one idempotency key for the whole submit, however often it is retried. */
  private async submit(url: string, f: JobFormat & { subtitles: boolean; filename?: string; folder?: string | undefined }, signal?: AbortSignal): Promise<Created> {
    if (this.isMarketplaceKey && !this.storage) {
      throw new VidmuxError('bad_input', 'Tornado marketplace keys (Apify, RapidAPI, Zyla) only work with your own storage: add a bucket in the options.', { provider: PROVIDER });
    }
    const folder = f.folder ?? this.folder;
    // Like the vendor SDK: leave out false and null fields; the server applies its defaults.
    const body: Record<string, unknown> = {
      url,
      format: f.format,
      ...(f.audio_only ? { audio_only: true } : { max_resolution: f.max_resolution }),
      ...(f.subtitles ? { download_subtitles: true } : {}),
      ...(f.filename ? { filename: f.filename } : {}),
      ...(folder ? { folder } : {}),
      ...(this.storage ? { storage: this.storage } : {}),
    };
    const idempotencyKey = globalThis.crypto.randomUUID();
    return this.api.json('POST', '/jobs', CreatedSchema, { body, signal, headers: { 'x-idempotency-key': idempotencyKey }, what: 'start the download' });
  }

  /** Polls a job to its end and fetches what it made (or says where it stays). */
  private async follow(jobId: string, ctx: DownloadContext, want: Want): Promise<DownloadResult> {
    const waiting = new TrackProgress(ctx.onProgress, [], 'resolving');
    let job = await pollJob({
      get: (signal) => this.getJob(jobId, signal),
      isFinal: (j) => j.status !== 'Pending' && j.status !== 'Processing',
      intervalMs: TORNADO_POLL_MS,
      timeoutMs: TORNADO_JOB_TIMEOUT_MS,
      timeoutError: (last) =>
        new VidmuxError('timeout', `Tornado has not finished this job after ${Math.round(TORNADO_JOB_TIMEOUT_MS / 3600_000)} hours (still ${(last?.status ?? 'pending').toLowerCase()}).`, { provider: PROVIDER }),
      // A job may be unknown for a moment right after it was made (replication lag).
      tolerate: (err, last, elapsed) => err.status === 404 && last === null && elapsed < TORNADO_NOT_FOUND_GRACE_MS,
      onState: (j) => {
        if (j.status === 'Pending' || j.status === 'Processing') waiting.emit();
      },
      onCancel: (last) => this.abandon(jobId, last),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      now: this.now,
      sleep: this.sleep,
    });
    if (job.status !== 'Completed') throw outcomeError(job);

    if (this.storage) {
      // Fresh jobs come from a cache with only the core fields; s3_key appears once the job is
      // persisted, seconds after completion. Wait a little for it, else work it out ourselves.
      for (let i = 0; i < 5 && !job.s3_key; i++) {
        await this.sleep(TORNADO_POLL_MS, ctx.signal);
        job = await this.getJob(jobId, ctx.signal);
      }
      const key = job.s3_key ?? this.expectedKey(want.filename ?? job.id, want.ext ?? job.format ?? 'mp4');
      return { bytes: job.file_size ?? 0, subtitles: [], remoteLocation: describeStorageLocation(this.storage, key) };
    }
    if (!job.s3_url) throw new VidmuxError('bad_response', 'Tornado finished the job but gave no link to the file.', { provider: PROVIDER });

    const progress = new TrackProgress(ctx.onProgress, ['file']);
    progress.emit();
    const fresh = (field: 's3_url' | 'subtitle_url') => async (_stale: string, signal?: AbortSignal) => {
      const again = await this.getJob(jobId, signal);
      const url = again[field];
      if (!url) throw new VidmuxError('expired', 'The Tornado download link expired and no new one was given.', { provider: PROVIDER });
      return url;
    };
    // The storage host is not Tornado's API: the plain client sends no key there.
    const source = await openRangedSource(job.s3_url, {
      client: this.http,
      refresh: fresh('s3_url'),
      now: this.now,
      onProgress: (p) => progress.set('file', p),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
    });
    const bytes = await copyToSink(source, await ctx.target.media(), { media: { what: 'the file Tornado made' }, ...(ctx.signal ? { signal: ctx.signal } : {}) });

    const subtitles: DownloadResult['subtitles'] = [];
    if (want.subtitles && job.subtitle_url) {
      const container = /\.(srt|vtt|ass|ttml|txt)(?:\?|$)/i.exec(new URL(job.subtitle_url).pathname)?.[1]?.toLowerCase() ?? 'vtt';
      const format = makeFormat(PROVIDER, SUBTITLE_FORMAT_ID, { kind: 'subtitle', container, delivery: 'file' }, `Subtitles · ${container.toUpperCase()}`);
      const sub = await openRangedSource(job.subtitle_url, {
        client: this.http,
        refresh: fresh('subtitle_url'),
        now: this.now,
        onProgress: (p) => progress.set('subtitle', p),
        ...(ctx.signal ? { signal: ctx.signal } : {}),
      });
      const n = await copyToSink(sub, await ctx.target.subtitle(format), ctx.signal ? { signal: ctx.signal } : {});
      subtitles.push({ format, bytes: n });
    }
    return { bytes, subtitles };
  }

  /** The user cancelled: DELETE the job if it was still queued, and say what happened to it. */
  private async abandon(jobId: string, last: TornadoJob | null): Promise<VidmuxError> {
    let note = '';
    if (last === null || last.status === 'Pending') {
      const cancelled = await this.cancelJob(jobId).catch(() => null);
      note =
        cancelled === true
          ? ' The queued Tornado job was cancelled too.'
          : cancelled === false
            ? ' Tornado had already started the job, so it will finish on their side, but Vidmux stopped waiting for it.'
            : ' Tornado could not be told to cancel the job.';
    }
    return new VidmuxError('cancelled', `Cancelled.${note}`, { provider: PROVIDER });
  }

  private expectedKey(stem: string, ext: string): string {
    const s = this.storage;
    return [s?.folder_prefix, s?.base_folder ?? 'videos', this.folder, `${stem}.${ext}`].filter((x): x is string => !!x).join('/');
  }
}

/** Marketplace tokens (Apify, RapidAPI, Zyla) are anything but a direct `sk_` key. */
function isMarketplaceKey(key: string | null): boolean {
  return !!key && !key.startsWith('sk_');
}

/** Tornado's words: its 4xx bodies read; 429 and 5xx after the retry table gave up; network failures. */
function tornadoWording(err: VidmuxError, d: FailureDetail, call: CallInfo, key: string | null): VidmuxError {
  if (d.status !== undefined && d.status < 500 && d.status !== 429) return statusError(d.status, d.body ?? '', call.what, key);
  return transportError(err, call.what);
}

/** 429 / 5xx after the retry table gave up, network failures: Tornado-worded errors. */
function transportError(e: VidmuxError, what: string): VidmuxError {
  const s = e.status;
  const message =
    s === 429
      ? `Tornado is at capacity or rate limiting us; it did not ${what} after several tries. Try again in a few minutes.`
      : s === 504
        ? `Tornado timed out (504) trying to ${what}. Try again later.`
        : s === 500
          ? `Tornado had an internal error (500) trying to ${what}. Try again later.`
          : s !== undefined && s >= 500
            ? `Tornado is having problems (${s}) and could not ${what}. Try again later.`
            : `Could not reach Tornado to ${what}: ${e.message}`;
  return new ProviderError(s === 504 ? 'timeout' : e.code, message, { provider: PROVIDER, ...(s === undefined ? {} : { status: s }), cause: e });
}

/** A `filename` Tornado accepts: no extension, no "..", "/", "\\" or NUL, at most 255 characters. */
export function jobFilename(title: string): string {
  return sanitizeSegment(title, 'video').replace(/\.{2,}/g, '.').replace(/\0/g, '');
}

/** The error text of a Tornado `{error}` body, or null (a literal `null` body, or not JSON). */
function errorText(body: string): string | null {
  try {
    const data: unknown = JSON.parse(body);
    if (data && typeof data === 'object' && typeof (data as { error?: unknown }).error === 'string') return (data as { error: string }).error;
    if (data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string') return (data as { message: string }).message;
    return null;
  } catch {
    const t = body.trim();
    return t ? t.slice(0, 300) : null;
  }
}

/** Maps a 4xx answer to a message a person understands. */
export function statusError(status: number, body: string, what: string, key: string | null): VidmuxError {
  const detail = errorText(body);
  const said = detail ? `: ${detail}` : '';
  const masked = key ? ` (${maskKey(key)})` : '';
  let code: ErrorCode = 'http_error';
  let message: string;
  switch (status) {
    case 400:
      code = 'bad_input';
      message = `Tornado rejected the request to ${what}${said || ' as invalid'}.`;
      break;
    case 401:
      code = 'unauthorized';
      message = `Tornado did not accept the API key${masked}: it is missing, wrong or revoked. Check it in the options.`;
      break;
    case 403:
      code = 'forbidden';
      message = `Tornado refused to ${what}${said}. Marketplace keys cannot use some features, the key may be limited to certain IP addresses, or the plan's quota is used up.`;
      break;
    case 404:
      code = 'not_found';
      message = `Tornado could not ${what}: not found${detail && detail !== 'Not found' ? ` (${detail})` : ''}. The job may belong to another key or no longer exist.`;
      break;
    case 422:
      code = 'bad_input';
      message = `Tornado could not read the request to ${what} (422)${said}.`;
      break;
    case 429:
      code = 'rate_limited';
      message = `Tornado is at capacity or rate limiting us; try again in a few minutes.`;
      break;
    case 504:
      code = 'timeout';
      message = `Tornado timed out (504) trying to ${what}.`;
      break;
    default:
      message = status >= 500 ? `Tornado had an internal error (${status}) trying to ${what}${said}.` : `Tornado answered ${status} when asked to ${what}${said}.`;
  }
  return new ProviderError(code, message, { provider: PROVIDER, status });
}

/** Failed, Warning and Skipped jobs: each with its own message. */
export function outcomeError(job: TornadoJob): VidmuxError {
  const text = job.error?.trim() || null;
  if (job.status === 'Failed' && job.step === 'Cancelled') {
    return new VidmuxError('cancelled', 'The Tornado job was cancelled before it started.', { provider: PROVIDER });
  }
  if (job.status === 'Warning') {
    const t = (text ?? '').toLowerCase();
    const why = /member/.test(t)
      ? 'it is for channel members only'
      : /private/.test(t)
        ? 'it is private'
        : /geo|region|country|location/.test(t)
          ? 'it is blocked in the country Tornado downloads from'
          : 'it is private, members-only or blocked in some countries';
    return new VidmuxError('forbidden', `Tornado cannot get this video because ${why}${text ? ` (${text})` : ''}. Another provider or the page itself may still work.`, { provider: PROVIDER });
  }
  if (job.status === 'Skipped') {
    return new VidmuxError('unsupported', `Tornado skipped this item${text ? `: ${text}` : ' (for example an audio-only episode protected by DRM)'}.`, { provider: PROVIDER });
  }
  return new VidmuxError('download_failed', `Tornado could not download this video${text ? `: ${text}` : '.'}`, { provider: PROVIDER });
}
