/**
 * A local fake of the Tornado API (../shared/providers.md section 3, defaults 14–18), strict where
 * the contract is: auth (x-api-key `sk_…`, marketplace Bearer tokens), `{error}` bodies and the
 * literal `null` body on 401/404 of GET /jobs/{id}, 201 on POST /jobs, idempotency keys, status
 * progressions on a clock the tests drive, 404 replication lag right after creation, the fresh-job
 * cache that only carries core fields (and keeps showing a cancelled job as Pending), presigned
 * s3_url valid 24 h served from another origin (no key needed, expired or forged -> 403), inline
 * storage validation, playlists, /usage, /metadata, and switches for 429 / 5xx / lost responses.
 * Serves real media from test/fixtures/tornado-media.ts. Binds 127.0.0.1 only.
 *
 * Deliberate limits: video jobs deliver MP4 only (mkv/webm/mov/ogg/opus jobs end Failed with a
 * message saying the fake has no such file); no webhooks, /jobs/bulk, /batch or /jobs/{id}/retry.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { extname } from 'node:path';
import { TORNADO_HEIGHTS, tornadoMedia, type TornadoMedia } from '../fixtures/tornado-media';
import { serveFile } from './static-range';

/** What happens to a job for one video URL. */
export interface TornadoOutcome {
  status: 'Completed' | 'Failed' | 'Warning' | 'Skipped';
  /** The job's `error` text for Failed / Warning / Skipped. */
  error?: string;
  title?: string;
  durationSeconds?: number;
  /** Height of the source video; files are capped at it (default 1080). */
  height?: number;
  /** Subtitles the site has (served when download_subtitles is set). Default vtt; null = none. */
  subtitles?: 'vtt' | 'srt' | null;
  /** POST /metadata answers with this instead of metadata. */
  metadataError?: { status: number; error: string };
  /** Playlist URLs: the video URLs it contains (default: three generated ones). */
  playlist?: string[];
}

/** Milliseconds a job spends in each state after creation (fake clock). */
export interface TornadoTimings {
  pendingMs: number;
  downloadingMs: number;
  muxingMs: number;
  uploadingMs: number;
  /** GET /jobs/{id} answers 404 for this long after creation (replication lag). */
  replicationLagMs: number;
  /** After finishing, GET /jobs/{id} keeps serving only core fields for this long. */
  freshCacheMs: number;
  /** A cancelled job keeps showing Pending in the job cache for this long (contract: up to ~24 h). */
  cancelCacheMs: number;
  /** Presigned s3_url lifetime (contract: 24 h). */
  presignTtlMs: number;
}

export const DEFAULT_TIMINGS: TornadoTimings = {
  pendingMs: 3000,
  downloadingMs: 2000,
  muxingMs: 2000,
  uploadingMs: 2000,
  replicationLagMs: 1000,
  freshCacheMs: 5000,
  cancelCacheMs: 24 * 3600_000,
  presignTtlMs: 24 * 3600_000,
};

export interface TornadoFakeOptions {
  port?: number;
  /** Port of the storage (presigned URL) server. Default: any free one. */
  s3Port?: number;
  /** Serve https (both servers) with this certificate, e.g. for the browser at the real hostnames. */
  tls?: { key: string; cert: string };
  /** URL the API advertises for itself is not needed; these set how presigned URLs are written. */
  s3PublicBaseUrl?: string;
  /** Fake clock start, epoch ms. Default 2025-01-01T00:00:00Z. */
  now?: number;
  /** Let the fake clock also run with real time (for the CLI, the demo and browser tests). */
  realTime?: boolean;
  /** Direct API keys (x-api-key). Default one test key. */
  keys?: string[];
  /** Marketplace Bearer tokens. */
  bearerTokens?: string[];
  /** Outcome per video URL (exact match); anything else completes. */
  outcomes?: Record<string, TornadoOutcome>;
  timings?: Partial<TornadoTimings>;
  /** GET /usage limits per key. */
  limits?: { storageLimitGb?: number | null; maxResolutionLimit?: string | null };
  /** Media to serve; default tornadoMedia(). */
  media?: TornadoMedia;
}

export const TORNADO_TEST_KEY = 'sk_test_4f9a1c2b7d8e3f60a5b4c3d2e1f0a9b8';
export const TORNADO_MARKETPLACE_TOKEN = 'apify_api_Zx81Qm4Lr0Vt6Nc2Yp9Hs3Kd7Fb5Jw';

export interface LoggedRequest {
  server: 'api' | 's3';
  method: string;
  path: string;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  status?: number;
}

export interface StorageUpload {
  jobId: string;
  provider: 's3' | 'blob' | 'gcs' | 'oss';
  /** Bucket or (blob) container. */
  bucket: string;
  key: string;
  bytes: number;
  sha256: string;
  /** The file the fake "uploaded". */
  file: string;
}

type Status = 'Pending' | 'Processing' | 'Completed' | 'Failed' | 'Warning' | 'Skipped';

export interface FakeJob {
  id: string;
  owner: string;
  url: string;
  createdAt: number;
  finishedAt: number | null;
  status: Status;
  step: string;
  error: string | null;
  cancelledAt: number | null;
  request: Record<string, unknown>;
  storage: Record<string, string> | null;
  outcome: TornadoOutcome;
  /** The media file delivered (on Completed). */
  file: string | null;
  subtitleFile: string | null;
  s3Key: string | null;
  subtitleKey: string | null;
  actualQuality: string | null;
  batchId: string | null;
  uploaded: boolean;
}

export interface TornadoFake {
  baseUrl: string;
  /** Origin of the presigned-URL server (another origin than the API). */
  s3BaseUrl: string;
  clock: { now(): number; advance(ms: number): void; set(ms: number): void };
  switches: {
    /** The next `count` API requests get 429 with `Retry-After: retryAfter`. */
    rateLimit: { count: number; retryAfter: number } | null;
    /** The next `count` API requests (matching `path` if set) fail with `status`. */
    fail: { count: number; status: number; path?: RegExp; body?: string } | null;
    /** The next `count` POST /jobs create their job, then drop the connection without answering. */
    dropJobResponses: number;
  };
  requests: LoggedRequest[];
  /** Files that went to users' own buckets. */
  readonly uploads: StorageUpload[];
  jobs: Map<string, FakeJob>;
  /** The job states at the current fake time. */
  job(id: string): FakeJob | undefined;
  close(): Promise<void>;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const FORMATS = ['mp4', 'mkv', 'webm', 'mov', 'mp3', 'm4a', 'ogg', 'opus'];
const RESOLUTIONS = ['best', '2160', '1440', '1080', '720', '480', '360'];
const BOOL_FIELDS = ['audio_only', 'download_subtitles', 'download_thumbnail', 'live_recording', 'live_from_start', 'wait_for_video', 'enable_progress_webhook', 'paused'];
const STORAGE_FIELDS: Record<string, { required: string[]; optional: string[] }> = {
  s3: { required: ['endpoint', 'bucket', 'region', 'access_key', 'secret_key'], optional: [] },
  blob: { required: ['account_name', 'container'], optional: ['account_key', 'sas_token'] },
  gcs: { required: ['project_id', 'bucket', 'service_account_json'], optional: [] },
  oss: { required: ['endpoint', 'bucket', 'access_key_id', 'access_key_secret'], optional: [] },
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly text?: string,
  ) {
    super(String(status));
  }
}
const err = (status: number, message: string) => new HttpError(status, { error: message });
/** axum-style deserialisation failure: 422 with a plain-text body. */
const unprocessable = (what: string) => new HttpError(422, null, `Failed to deserialize the JSON body into the target type: ${what}`);

export async function startTornadoFake(opts: TornadoFakeOptions = {}): Promise<TornadoFake> {
  const media = opts.media ?? (await tornadoMedia());
  const timings: TornadoTimings = { ...DEFAULT_TIMINGS, ...opts.timings };
  let now = opts.now ?? Date.parse('2025-01-01T00:00:00Z');
  let lastTick = Date.now();
  const ticker = opts.realTime
    ? setInterval(() => {
        now += Date.now() - lastTick;
        lastTick = Date.now();
      }, 50)
    : null;
  ticker?.unref();
  const keys = new Set(opts.keys ?? [TORNADO_TEST_KEY]);
  const bearers = new Set(opts.bearerTokens ?? [TORNADO_MARKETPLACE_TOKEN]);
  const outcomes = opts.outcomes ?? {};
  const limits = { storageLimitGb: 50 as number | null, maxResolutionLimit: null as string | null, ...opts.limits };
  const signingSecret = randomUUID();
  const jobs = new Map<string, FakeJob>();
  const idempotency = new Map<string, { status: number; body: Record<string, unknown> }>();
  const uploads: StorageUpload[] = [];
  const requests: LoggedRequest[] = [];
  const switches: TornadoFake['switches'] = { rateLimit: null, fail: null, dropJobResponses: 0 };
  let s3Base = '';

  // ---- job state on the fake clock ----

  function advance(job: FakeJob): FakeJob {
    if (job.cancelledAt !== null) return job;
    const t = now - job.createdAt;
    const { pendingMs: p, downloadingMs: d, muxingMs: m, uploadingMs: u } = timings;
    if (t < p) Object.assign(job, { status: 'Pending', step: 'Queued' });
    else if (t < p + d) Object.assign(job, { status: 'Processing', step: 'Downloading' });
    else if (t < p + d + m) Object.assign(job, { status: 'Processing', step: 'Muxing' });
    else if (t < p + d + m + u) Object.assign(job, { status: 'Processing', step: 'Uploading' });
    else if (job.finishedAt === null) finish(job, job.createdAt + p + d + m + u);
    return job;
  }

  function finish(job: FakeJob, at: number): void {
    job.finishedAt = at;
    const o = job.outcome;
    if (o.status !== 'Completed') {
      job.status = o.status;
      job.step = 'Finished';
      job.error = o.error ?? (o.status === 'Skipped' ? 'Skipped: audio-only episode with DRM' : o.status === 'Warning' ? 'Video unavailable: this video is private' : 'Download failed');
      return;
    }
    const fmt = String(job.request.format ?? (job.request.audio_only ? 'm4a' : 'mp4'));
    let file: string | null = null;
    if (fmt === 'm4a') file = media.m4a;
    else if (fmt === 'mp3') file = media.mp3;
    else if (fmt === 'mp4' && !job.request.audio_only) {
      const res = String(job.request.max_resolution ?? 'best');
      const caps = [res === 'best' ? Infinity : Number(res), o.height ?? 1080, limits.maxResolutionLimit ? Number(limits.maxResolutionLimit) : Infinity];
      const cap = Math.min(...caps);
      const h = [...TORNADO_HEIGHTS].reverse().find((x) => x <= cap) ?? TORNADO_HEIGHTS[0];
      file = media.video[h];
      job.actualQuality = String(h);
    } else if (job.request.audio_only) {
      file = null;
    }
    if (!file) {
      Object.assign(job, { status: 'Failed', step: 'Finished', error: `The fake has no ${fmt} file${job.request.audio_only ? ' (audio only)' : ''}` });
      return;
    }
    Object.assign(job, { status: 'Completed', step: 'Finished', file });
    const stem = typeof job.request.filename === 'string' ? job.request.filename : job.id;
    const st = job.storage;
    const prefix = [st?.folder_prefix, st?.base_folder ?? 'videos', job.request.folder as string | undefined].filter((s): s is string => !!s);
    job.s3Key = [...prefix, `${stem}.${fmt}`].join('/');
    const subs = o.subtitles === undefined ? 'vtt' : o.subtitles;
    if (job.request.download_subtitles && subs) {
      job.subtitleFile = subs === 'vtt' ? media.vtt : media.srt;
      job.subtitleKey = [...prefix, `${stem}.${subs}`].join('/');
    }
    if (st && !job.uploaded) {
      job.uploaded = true;
      const provider = st.provider as StorageUpload['provider'];
      const bucket = provider === 'blob' ? st.container! : st.bucket!;
      const record = (f: string, key: string) => {
        const bytes = readFileSync(f);
        uploads.push({ jobId: job.id, provider, bucket, key, bytes: bytes.length, sha256: createHash('sha256').update(bytes).digest('hex'), file: f });
      };
      record(file, job.s3Key);
      if (job.subtitleFile && job.subtitleKey) record(job.subtitleFile, job.subtitleKey);
    }
  }

  const refreshAll = () => jobs.forEach(advance);

  function presign(key: string): string {
    const date = now;
    const expires = Math.round(timings.presignTtlMs / 1000);
    const sig = createHmac('sha256', signingSecret).update(`${key}\n${date}\n${expires}`).digest('hex');
    return `${s3Base}/tornado-media/${key.split('/').map(encodeURIComponent).join('/')}?X-Amz-Date=${date}&X-Amz-Expires=${expires}&X-Amz-Signature=${sig}`;
  }

  /** The job as GET /jobs/{id} shows it: core fields while fresh, full telemetry once persisted. */
  function view(job: FakeJob, list = false): Record<string, unknown> {
    const cachedCancel = job.cancelledAt !== null && now - job.cancelledAt < timings.cancelCacheMs && !list;
    const status = cachedCancel ? 'Pending' : job.status;
    const step = cachedCancel ? 'Queued' : job.step;
    const completedWithUrl = status === 'Completed' && !job.storage;
    const core: Record<string, unknown> = {
      id: job.id,
      url: job.url,
      status,
      s3_url: !list && completedWithUrl && job.s3Key ? presign(job.s3Key) : null,
      subtitle_url: !list && completedWithUrl && job.subtitleKey ? presign(job.subtitleKey) : null,
      error: cachedCancel ? null : job.error,
      step,
    };
    if (list) {
      delete core.s3_url;
      delete core.subtitle_url;
    }
    const persisted = list || (job.finishedAt !== null && now - job.finishedAt >= timings.freshCacheMs) || (job.cancelledAt !== null && !cachedCancel);
    if (!persisted) return core;
    const size = job.file && job.status === 'Completed' ? statSync(job.file).size : null;
    return {
      ...core,
      title: job.outcome.title ?? titleFor(job.url),
      error_type: job.status === 'Failed' ? 'error' : job.status === 'Warning' || job.status === 'Skipped' ? 'warning' : null,
      file_size: size,
      s3_key: job.s3Key,
      created_at: job.createdAt,
      finished_at: job.finishedAt ?? job.cancelledAt,
      batch_id: job.batchId,
      requested_quality: job.request.max_resolution ?? 'best',
      actual_quality: job.actualQuality,
      native_video_codec: size && !job.request.audio_only ? 'h264' : null,
      native_audio_codec: size ? 'aac' : null,
      total_duration_ms: job.finishedAt ? job.finishedAt - job.createdAt : null,
      queue_wait_ms: timings.pendingMs,
      ...Object.fromEntries(['format', 'folder', 'filename', 'max_resolution', 'audio_only', 'download_subtitles'].filter((k) => k in job.request).map((k) => [k, job.request[k]])),
    };
  }

  // ---- validation ----

  function validateJobBody(body: unknown, marketplace: boolean): { req: Record<string, unknown>; storage: Record<string, string> | null } {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw unprocessable('invalid type: expected struct CreateJobRequest');
    const b = body as Record<string, unknown>;
    if (!('url' in b)) throw unprocessable('missing field `url`');
    if (typeof b.url !== 'string') throw unprocessable('url: invalid type, expected a string');
    for (const k of ['format', 'filename', 'folder', 'max_resolution', 'video_codec', 'audio_codec', 'audio_bitrate', 'quality_preset', 'webhook_url', 'clip_start', 'clip_end']) {
      if (k in b && b[k] !== null && typeof b[k] !== 'string') throw unprocessable(`${k}: invalid type, expected a string`);
    }
    for (const k of BOOL_FIELDS) if (k in b && b[k] !== null && typeof b[k] !== 'boolean') throw unprocessable(`${k}: invalid type, expected a boolean`);
    if ('video_quality' in b && b.video_quality !== null) {
      if (typeof b.video_quality !== 'number' || !Number.isInteger(b.video_quality) || b.video_quality < 0 || b.video_quality > 255) throw unprocessable('video_quality: invalid value, expected u8');
    }
    if (typeof b.format === 'string' && !FORMATS.includes(b.format)) throw unprocessable(`format: unknown variant \`${b.format}\``);
    if (typeof b.max_resolution === 'string' && !RESOLUTIONS.includes(b.max_resolution)) throw err(400, `Invalid max_resolution: ${b.max_resolution}`);
    if (!/^https?:\/\/[^\s/]+\.[^\s]+$/i.test(b.url)) throw err(400, 'Invalid URL');
    if (typeof b.filename === 'string') {
      const f = b.filename;
      if (f.length > 255) throw err(400, 'filename must be at most 255 characters');
      if (f.includes('..') || f.includes('/') || f.includes('\\') || f.includes('\0')) throw err(400, 'filename must not contain "..", "/", "\\" or NUL');
      if (!f.trim()) throw err(400, 'filename must not be empty');
    }
    if (typeof b.folder === 'string') {
      const f = b.folder;
      if (!f.trim()) throw err(400, 'folder must not be empty');
      if (f.length > 200) throw err(400, 'folder must be at most 200 characters');
      if (f.includes('..')) throw err(400, 'folder must not contain ".."');
      if (f.startsWith('/') || f.startsWith('\\')) throw err(400, 'folder must not start with "/" or "\\"');
    }
    let storage: Record<string, string> | null = null;
    if ('storage' in b && b.storage !== null) {
      const s = b.storage;
      if (!s || typeof s !== 'object' || Array.isArray(s)) throw unprocessable('storage: invalid type, expected internally tagged enum');
      const st = s as Record<string, unknown>;
      if (!('provider' in st)) throw unprocessable('storage: missing field `provider`');
      const spec = typeof st.provider === 'string' ? STORAGE_FIELDS[st.provider] : undefined;
      if (!spec) throw unprocessable(`storage: unknown variant \`${String(st.provider)}\`, expected one of \`s3\`, \`blob\`, \`gcs\`, \`oss\``);
      for (const k of spec.required) if (!(k in st)) throw unprocessable(`storage: missing field \`${k}\``);
      for (const [k, v] of Object.entries(st)) if (v !== null && typeof v !== 'string') throw unprocessable(`storage.${k}: invalid type, expected a string`);
      for (const k of spec.required) if (!(st[k] as string).trim()) throw err(400, `storage.${k} must not be empty`);
      if (st.provider === 'blob') {
        const hasKey = typeof st.account_key === 'string' && st.account_key !== '';
        const hasSas = typeof st.sas_token === 'string' && st.sas_token !== '';
        if (hasKey === hasSas) throw err(400, 'storage: provide either account_key or sas_token, not both');
      }
      if (st.provider === 'gcs') {
        try {
          const json = JSON.parse(st.service_account_json as string) as unknown;
          if (!json || typeof json !== 'object') throw new Error();
        } catch {
          throw err(400, 'storage.service_account_json is not valid JSON');
        }
      }
      for (const k of ['folder_prefix', 'base_folder']) {
        const v = st[k];
        if (typeof v === 'string' && (v.includes('..') || v.startsWith('/') || v.startsWith('\\'))) throw err(400, `storage.${k} must not contain ".." or start with "/"`);
      }
      storage = Object.fromEntries(Object.entries(st).filter(([, v]) => typeof v === 'string')) as Record<string, string>;
    }
    if (marketplace && !storage) throw err(400, 'Marketplace users must provide storage credentials in the request');
    const req: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(b)) if (k !== 'storage' && v !== null && v !== undefined) req[k] = v;
    return { req, storage };
  }

  function newJob(owner: string, url: string, req: Record<string, unknown>, storage: Record<string, string> | null, batchId: string | null): FakeJob {
    const job: FakeJob = {
      id: randomUUID(),
      owner,
      url,
      createdAt: now,
      finishedAt: null,
      status: 'Pending',
      step: 'Queued',
      error: null,
      cancelledAt: null,
      request: { ...req, url },
      storage,
      outcome: outcomes[url] ?? { status: 'Completed' },
      file: null,
      subtitleFile: null,
      s3Key: null,
      subtitleKey: null,
      actualQuality: null,
      batchId,
      uploaded: false,
    };
    jobs.set(job.id, job);
    return job;
  }

  // ---- routes ----

  function auth(req: IncomingMessage): { owner: string; marketplace: boolean } | null {
    const key = req.headers['x-api-key'];
    if (typeof key === 'string' && keys.has(key)) return { owner: key, marketplace: false };
    const a = req.headers.authorization;
    const m = typeof a === 'string' ? /^Bearer\s+(.+)$/i.exec(a) : null;
    if (m && bearers.has(m[1]!.trim())) return { owner: m[1]!.trim(), marketplace: true };
    return null;
  }

  async function api(method: string, path: string, query: URLSearchParams, req: IncomingMessage, raw: string): Promise<{ status: number; body: unknown; text?: string; drop?: boolean }> {
    const jobPath = /^\/jobs\/([^/]+)$/.exec(path);
    const nullOn401 = method === 'GET' && (!!jobPath || path.startsWith('/batch/'));
    const who = auth(req);
    if (!who) {
      if (nullOn401) return { status: 401, body: null };
      throw err(401, 'Invalid API Key');
    }
    if (path.startsWith('/user/') || path === '/jobs/bulk') {
      if (who.marketplace) throw err(403, 'This endpoint is not available for marketplace users');
      if (path === '/user/s3' && method === 'GET') return { status: 200, body: { configured: false, source: 'legacy' } };
      throw err(404, 'Not found');
    }
    refreshAll();

    if (path === '/usage' && method === 'GET') {
      const mine = [...jobs.values()].filter((j) => j.owner === who.owner);
      const bytes = mine.filter((j) => j.status === 'Completed' && !j.storage && j.file).reduce((s, j) => s + statSync(j.file!).size, 0);
      const gb = Math.round((bytes / 1e9) * 1e6) / 1e6;
      // tor-sdk1:models.py (providers.md 3.4): only client_name, usage_count and storage_usage_gb
      // are always present; every other field is Optional, so the fake sends one only when the
      // account has a value for it (no limit configured: the field is absent, not null).
      const limit = limits.storageLimitGb;
      return {
        status: 200,
        body: {
          client_name: who.marketplace ? 'Marketplace user' : 'Vidmux tests',
          usage_count: mine.length,
          storage_usage_gb: gb,
          storage_effective_usage_gb: gb,
          ...(limit === null ? {} : { storage_limit_gb: limit, storage_limit_bytes: limit * 1e9, storage_remaining_gb: limit - gb }),
          billing_period_start: Math.floor(Date.UTC(2025, 0, 1) / 1000),
          billing_period_end: Math.floor(Date.UTC(2025, 1, 1) / 1000),
          ...(limits.maxResolutionLimit === null ? {} : { max_resolution_limit: limits.maxResolutionLimit }),
        },
      };
    }

    if (path === '/metadata' && method === 'POST') {
      let b: unknown;
      try {
        b = JSON.parse(raw);
      } catch {
        throw unprocessable('expected value');
      }
      const url = (b as { url?: unknown } | null)?.url;
      if (!b || typeof b !== 'object') throw unprocessable('invalid type: expected struct MetadataRequest');
      if (url === undefined) throw unprocessable('missing field `url`');
      if (typeof url !== 'string') throw unprocessable('url: invalid type, expected a string');
      if (!/^https?:\/\/[^\s/]+\.[^\s]+$/i.test(url)) throw err(400, 'Invalid URL');
      const o = outcomes[url] ?? { status: 'Completed' };
      if (o.metadataError) throw err(o.metadataError.status, o.metadataError.error);
      const height = Math.min(o.height ?? 1080, 1080);
      const file = media.video[([...TORNADO_HEIGHTS].reverse().find((h) => h <= height) ?? 360) as 360];
      return {
        status: 200,
        body: {
          title: o.title ?? titleFor(url),
          duration: o.durationSeconds ?? 2.0,
          width: Math.round((height * 16) / 9),
          height,
          extractor: extractorFor(url),
          uploader: 'Fake Uploader',
          thumbnail: `${s3Base}/thumbs/${encodeURIComponent(url).slice(0, 40)}.jpg`,
          description: 'A video served by the Tornado fake.',
          view_count: 1234,
          like_count: 56,
          upload_date: '20240615',
          filesize_approx: statSync(file).size,
          // Unknown fields real servers add; clients must tolerate them.
          tags: ['fake'],
          _fake: true,
        },
      };
    }

    if (path === '/jobs' && method === 'POST') {
      const idem = req.headers['x-idempotency-key'];
      const idemKey = typeof idem === 'string' && idem ? `${who.owner}\n${idem}` : null;
      if (idemKey && idempotency.has(idemKey)) {
        const prev = idempotency.get(idemKey)!;
        return { status: prev.status, body: { ...prev.body, cached: true } };
      }
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch {
        throw unprocessable('expected value at line 1 column 1');
      }
      const { req: body, storage } = validateJobBody(parsed, who.marketplace);
      const url = body.url as string;
      let out: Record<string, unknown>;
      if (url.includes('?list=')) {
        const batchId = randomUUID();
        const videos = outcomes[url]?.playlist ?? [1, 2, 3].map((i) => `https://www.youtube.com/watch?v=fakePlayl${i}`);
        const ids = videos.map((v) => newJob(who.owner, v, body, storage, batchId).id);
        out = { batch_id: batchId, total_videos: ids.length, video_jobs: ids };
      } else {
        out = { job_id: newJob(who.owner, url, body, storage, null).id };
      }
      if (idemKey) idempotency.set(idemKey, { status: 201, body: out });
      if (switches.dropJobResponses > 0) {
        switches.dropJobResponses--;
        return { status: 201, body: out, drop: true };
      }
      return { status: 201, body: out };
    }

    if (path === '/jobs' && method === 'GET') {
      const limit = Math.min(100, Math.max(1, Number(query.get('limit') ?? 20) || 20));
      const offset = Math.max(0, Number(query.get('offset') ?? 0) || 0);
      const status = query.get('status');
      const mine = [...jobs.values()].filter((j) => j.owner === who.owner).sort((a, b) => b.createdAt - a.createdAt);
      const filterable = ['pending', 'processing', 'completed', 'failed', 'warning'];
      const filtered = status && filterable.includes(status) ? mine.filter((j) => j.status.toLowerCase() === status) : mine;
      return { status: 200, body: { jobs: filtered.slice(offset, offset + limit).map((j) => view(j, true)), total: mine.length } };
    }

    if (jobPath) {
      const id = decodeURIComponent(jobPath[1]!);
      if (!UUID.test(id)) throw err(400, 'Invalid job ID format');
      const job = jobs.get(id);
      const visible = job && job.owner === who.owner && !(method === 'GET' && now - job.createdAt < timings.replicationLagMs);
      if (method === 'GET') {
        if (!visible) return { status: 404, body: null };
        return { status: 200, body: view(job) };
      }
      if (method === 'DELETE') {
        if (!job || job.owner !== who.owner) throw err(404, 'Job not found');
        if (job.status !== 'Pending' || job.cancelledAt !== null) throw err(400, 'Job not in queue or already processing');
        Object.assign(job, { status: 'Failed', step: 'Cancelled', error: 'Cancelled by user', cancelledAt: now });
        return { status: 200, body: { message: 'Job cancelled', job_id: job.id } };
      }
    }
    throw err(404, 'Not found');
  }

  const apiHandler = async (req: IncomingMessage, res: ServerResponse) => {
    const raw = await readBody(req);
    const u = new URL(req.url ?? '/', 'http://x');
    const entry: LoggedRequest = { server: 'api', method: req.method ?? 'GET', path: u.pathname + u.search, headers: { ...req.headers }, body: raw };
    requests.push(entry);
    const send = (status: number, body: unknown, text?: string, extra: Record<string, string> = {}) => {
      entry.status = status;
      const payload = text ?? JSON.stringify(body);
      res.writeHead(status, { 'content-type': text === undefined ? 'application/json' : 'text/plain; charset=utf-8', 'content-length': String(Buffer.byteLength(payload)), ...extra });
      res.end(payload);
    };
    if (switches.rateLimit && switches.rateLimit.count > 0) {
      switches.rateLimit.count--;
      return send(429, { error: 'Too many requests: capacity reached, retry later' }, undefined, { 'retry-after': String(switches.rateLimit.retryAfter) });
    }
    const f = switches.fail;
    if (f && f.count > 0 && (!f.path || f.path.test(u.pathname))) {
      f.count--;
      return f.body === undefined ? send(f.status, { error: f.status === 504 ? 'Gateway timeout' : 'Internal server error' }) : send(f.status, null, f.body);
    }
    try {
      const r = await api(req.method ?? 'GET', u.pathname, u.searchParams, req, raw);
      if (r.drop) {
        entry.status = 0;
        req.socket.destroy();
        return;
      }
      send(r.status, r.body, r.text);
    } catch (e) {
      if (e instanceof HttpError) send(e.status, e.body, e.text);
      else send(500, { error: `Internal error: ${(e as Error).message}` });
    }
  };

  const s3Handler = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const entry: LoggedRequest = { server: 's3', method: req.method ?? 'GET', path: u.pathname + u.search, headers: { ...req.headers }, body: '' };
    requests.push(entry);
    const deny = (msg: string) => {
      entry.status = 403;
      res.writeHead(403, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>${msg}</Message></Error>`);
    };
    const m = /^\/tornado-media\/(.+)$/.exec(u.pathname);
    if (!m) return deny('Access Denied');
    const key = m[1]!.split('/').map(decodeURIComponent).join('/');
    const date = Number(u.searchParams.get('X-Amz-Date'));
    const expires = Number(u.searchParams.get('X-Amz-Expires'));
    const sig = createHmac('sha256', signingSecret).update(`${key}\n${date}\n${expires}`).digest('hex');
    if (sig !== u.searchParams.get('X-Amz-Signature')) return deny('The request signature we calculated does not match the signature you provided.');
    if (now > date + expires * 1000) return deny('Request has expired');
    refreshAll();
    // Like a bucket, a key holds what was written to it last: the newest job with that key.
    const job = [...jobs.values()].filter((j) => (j.s3Key === key || j.subtitleKey === key) && j.status === 'Completed' && !j.storage).sort((a, b) => b.createdAt - a.createdAt)[0];
    const file = job ? (job.s3Key === key ? job.file : job.subtitleFile) : null;
    if (!file) return deny('Access Denied');
    entry.status = 200;
    serveFile(req, res, file, { 'content-type': contentTypeFor(file) });
  };

  const make = (handler: (req: IncomingMessage, res: ServerResponse) => void): Server =>
    opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createHttpServer(handler);
  const apiServer = make((req, res) => void apiHandler(req, res));
  const s3Server = make(s3Handler);
  await Promise.all([listen(apiServer, opts.port ?? 0), listen(s3Server, opts.s3Port ?? 0)]);
  const scheme = opts.tls ? 'https' : 'http';
  const baseUrl = `${scheme}://127.0.0.1:${(apiServer.address() as AddressInfo).port}`;
  s3Base = opts.s3PublicBaseUrl ?? `${scheme}://127.0.0.1:${(s3Server.address() as AddressInfo).port}`;

  return {
    baseUrl,
    s3BaseUrl: s3Base,
    clock: {
      now: () => now,
      advance: (ms) => {
        now += ms;
      },
      set: (ms) => {
        now = ms;
      },
    },
    switches,
    requests,
    get uploads() {
      refreshAll();
      return uploads;
    },
    jobs,
    job: (id) => {
      const j = jobs.get(id);
      return j && advance(j);
    },
    close: async () => {
      if (ticker) clearInterval(ticker);
      await Promise.all([apiServer, s3Server].map((s) => new Promise<void>((r) => {
        s.closeAllConnections?.();
        s.close(() => r());
      })));
    },
  };
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function contentTypeFor(file: string): string {
  return ({ '.mp4': 'video/mp4', '.m4a': 'audio/mp4', '.mp3': 'audio/mpeg', '.vtt': 'text/vtt', '.srt': 'application/x-subrip' } as Record<string, string>)[extname(file)] ?? 'application/octet-stream';
}

/** A stable, readable title for a URL the tests did not give one for. */
export function titleFor(url: string): string {
  const id = /[?&]v=([\w-]+)/.exec(url)?.[1] ?? url.split('/').filter(Boolean).pop() ?? 'video';
  return `Fake video ${id}`;
}

function extractorFor(url: string): string {
  const host = (() => {
    try {
      return new URL(url).hostname.replace(/^www\./, '');
    } catch {
      return '';
    }
  })();
  if (/youtube\.com|youtu\.be/.test(host)) return 'youtube';
  return host.split('.')[0] ?? 'generic';
}
