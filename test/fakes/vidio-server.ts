/**
 * A local fake of VIDIO's highlight-reel API. VIDIO documents only its Python client (seed 003), so
 * the HTTP layer here is the INFERRED contract of ../shared/providers.md 4.3 with the defaults of
 * open questions 19–20, implemented strictly:
 *
 * - `X-API-Key` on every API request: unknown or missing -> 401; a key whose plan has no API
 *   access (below Studio) -> 403. Errors are `{"error":{"code","message","field"?}}`.
 * - `POST /v1/uploads`: multipart/form-data, the file in field `file`, parsed as it streams in
 *   (never held in memory; its md5 is recorded per input_key). Over `maxUploadBytes` -> 413; an
 *   empty file -> 422 `unreadable_media`; bytes that are not MP4 (`ftyp`), WebM (EBML) or MPEG-TS
 *   (0x47 every 188 bytes) -> 415 `unsupported_media`. Answers `{ input_key }`.
 * - `POST /v1/highlight-reels`: JSON with create_highlight_reel's parameter names; every field is
 *   checked (400 naming the field, unknown fields and unknown input_keys included). Answers
 *   `{ job_id, status: "submitted" }`.
 * - `GET /v1/jobs/{id}`: the seed's job object. Statuses advance submitted -> queued -> processing
 *   -> processed ON THE FAKE CLOCK (`timings`; the default, so tests can count polls against time),
 *   or one status per GET with `advance: 'poll'` (open question 20 read literally). `outputs`
 *   (shaped like the seed's example, one video overlay per input in input order, a sound overlay
 *   when music was asked for) appear once processed; before that `outputs: []`. From rendering on
 *   the job has `output_url` (null until rendered); a failed job has `error`.
 * - `POST /v1/jobs/{id}/render` `{ output_index }`: 409 until processed (and while rendering);
 *   400 `output_index` beyond `outputs`; then rendering -> rendered after `renderingMs` (or on the
 *   next GET in poll mode), `output_url` a signed link on the fake's FILE HOST: another origin that
 *   serves the real MP4 for the job's aspect ratio (test/fixtures/vidio-media.ts) with ranges, and
 *   records every request that carried a key (`keyLeaks()`, which must stay empty).
 * - `GET /v1/out/{job}_{i}.jpg`: a proposal's thumbnail (a real JPEG), once processed; wants the
 *   key (undocumented either way: the harsh reading).
 * - Switches: 429 with Retry-After, 5xx faults, jobs that end `failed` with an `error`, unknown
 *   extra fields on every answer. A request log on the fake clock.
 *
 * Deliberate limits: no webhooks, no job listing, no way to cancel a job (none is documented).
 * Binds 127.0.0.1 only; with `tls` both servers speak https (and `hostname` / `filesHostname` name
 * them as a browser mapping the real hosts would).
 */
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createSecureServer } from 'node:http2';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { vidioMedia, type VidioAspect, type VidioMedia } from '../fixtures/vidio-media';
import { serveFile } from './static-range';

export const VIDIO_TEST_KEY = 'vidio_test_k3y_studio_0001';
/** A key on a plan without API access (Creator): every API call is refused with 403. */
export const VIDIO_CREATOR_KEY = 'vidio_test_k3y_creator_002';

/** Plans with API access: "Studio plan and above" (vidio:docs). */
export const VIDIO_API_PLANS = ['studio', 'enterprise'] as const;
export type VidioPlan = 'free' | 'creator' | (typeof VIDIO_API_PLANS)[number];
export interface VidioFakeKey {
  key: string;
  plan: VidioPlan;
}

/** The create_highlight_reel parameters (seed 003), as the fake accepts them. */
export const VIDIO_CATEGORIES = ['podcast', 'ball-sports', 'non-ball-sports', 'beauty-product-demo', 'wedding', 'travel', 'others'];
export const VIDIO_ASPECTS = ['landscape', 'portrait', 'square'];
export const VIDIO_MUSIC = ['corporate', 'romantic', 'sports', 'kids_and_comedy', 'ambient_and_nature', 'horror_and_suspense', 'documentary', 'trending_vlogs'];
const CREATE_FIELDS = ['input_keys', 'video_category', 'output_length', 'aspect_ratio', 'music_category', 'music_volume', 'original_audio_volume'];
/** INFERRED limits of output_length, in seconds. */
export const VIDIO_MAX_OUTPUT_LENGTH = 3600;

/** A music track per category (the seed's example shows the `sports` one). */
/** A proposal's thumbnail: a real 48x27 JPEG (ffmpeg's test pattern). */
export const THUMBNAIL_JPEG = Buffer.from(
  '/9j/4AAQSkZJRgABAgAAAQABAAD//gAQTGF2YzU4LjQyLjEwMAD/2wBDAAgQEBMQExYWFhYWFhoYGhsbGxoaGhobGxsdHR0iIiIdHR0bGx0dICAiIiUmJSMjIiMmJigoKDAwLi44ODpFRVP/xACiAAEAAgMBAAAAAAAAAAAAAAAHBgUACAQDAQACAwEBAAAAAAAAAAAAAAAFBgcIBAACEAAAAwQHBQYHAQEAAAAAAAAAAgERBBIDgjEFIROyM2FRwRQioVJxQ0FCgzKBsbMjNXM0EQAABAIFCAUKBgMBAAAAAAARAgMBEgATMQUEIYFRsrGCMwY0YULDQRQiFTKDwXHjI0Qko6GRUmO0FnJDdP/AABEIABsAMAMBEgACEgADEgD/2gAMAwEAAhEDEQA/ABJz1yUsqjtsr/ud/wDRBkX3Zsmtp19Yn+5NNpYLL5xLb0DSvm3V4/8ALev66kq8x25aXLriO1T+KMYl11zVv9Rb2j5dLgGmy7qVArmdvmOzC+AsPVboz53aS9262T2y3WVa3ne930zMSiQgIg7F8pyGc8R3MZmN8yAruXBmZmYBYZR+CvrfUdrJC+a56OVBj5rno5UDohuy5dbzyG7Ll1vJW1OcV2NAs9anOK7GgWdn3zQPRzIMfNA9HMgoshvC5dTzyG8Ll1PIm1OTV2NMs9anJq7GmWTF4eTux5Zi3osURfQyXdu5RX2j5dLgJDs5c13MYxcWwEvc7Y/nmecV262T2yMsCyULXQvySvkmLQukqzCZM3zf1K/WLU/Q7M7NHBX1vqO1l4cTId2lmS9FRVTwVVFRYX86R8T8pxI6pmMeJqnZnb3OzSMQ3Zcut5XbgkdC7lSUaE6ZlSGYWcDFUMzsLCzg+bCXi1OcV2NAsgllWN++VOxvkMhoYK/rHwB2565KWVQCWtKhdnohAxX9IKnZ/wBrydX3Zsmtp0XizaEqpaUY0lU/QAKRMxB9J6hEO+c9l84lt6Bp2UfnSOHrZC321tZt2A3lHMpYVVqFqTc2v7DHd+JwH7WsP+vw5cLDOZyrFd8CwA2YYhlIs5X/AB+nw8RSwd9GEEXQcRi6KpsAa7pEVOsUjFUVYrKGas9GMI9wsxnYawBqmaeqZYuPMU+NC1l2G2pGd9BBnzXPRyoCdz4hpSsXw4etHs5khDdly63msV8t3xCx1aCGIMKQQArNXA2aX+1OcV2NAsuFo2rhyzEwm1Xx7lb3RL3zQPRzIK83bhKIzG8X+D8WYcQ3hcup5RjWh5wRMlR0cYYxRABmeqEuaWO1OTV2NMshB3vnIeiBjfdFWzYgnZSFPPlxI2EpzJsVpL+0WMbhigH7qIf4Q7R5RbGIUyxxYYSi3vGuWLhxHzfTY0lNR90MMEXSYRi6Kph5K8KoWbfGTO5KVa7JHCsxHJeHco1g7lYQrbB8Hn0c7b5B2JIwMSCLqxIWxGU1UBt+8KrnoEpZlDYtdvCFhijAe4Pa8+l94bJqabKXmzPFLGVpYIgwgEAKzVxNmmFbL5NLb0zT/9k=',
  'base64',
);

const MUSIC_SLUGS: Record<string, string> = {
  corporate: 'bright-horizons-112874',
  romantic: 'first-dance-204511',
  sports: 'running-night-393139',
  kids_and_comedy: 'silly-walk-178230',
  ambient_and_nature: 'forest-morning-150442',
  horror_and_suspense: 'dark-hallway-300917',
  documentary: 'quiet-discovery-221078',
  trending_vlogs: 'city-vlog-beat-318452',
};

/** Milliseconds a job spends in each status (fake clock). */
export interface VidioTimings {
  submittedMs: number;
  queuedMs: number;
  processingMs: number;
  renderingMs: number;
}
export const VIDIO_DEFAULT_TIMINGS: VidioTimings = { submittedMs: 2000, queuedMs: 10_000, processingMs: 30_000, renderingMs: 15_000 };

export interface VidioFakeOptions {
  port?: number;
  /** Port of the file host (output_url). Default: any free one. */
  filesPort?: number;
  /** Serve https (both servers) with this certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Host name in `baseUrl` (e.g. api.vidio.ai when a browser maps it here; with `tls`, port 443 is assumed). */
  hostname?: string;
  /** Host name in output_url links (another host than the API's). */
  filesHostname?: string;
  /** Fake clock start, epoch ms. Default 2026-01-01T00:00:00Z. */
  now?: number;
  /** Let the fake clock also run with real time (the CLI, the demo, browser tests). */
  realTime?: boolean;
  /** Keys and their plans. Default {@link VIDIO_TEST_KEY} (studio) and {@link VIDIO_CREATOR_KEY} (creator). */
  keys?: Array<string | VidioFakeKey>;
  /** Biggest upload taken, bytes. Default 2 GB (decimal), as the client assumes. */
  maxUploadBytes?: number;
  timings?: Partial<VidioTimings>;
  /** `clock` (default): statuses follow `timings`. `poll`: one status per GET /jobs/{id} (open question 20). */
  advance?: 'clock' | 'poll';
  /** How many reels a processed job proposes. Default 3. */
  outputsPerJob?: number;
  /** Start with unknown extra fields on (see `switches.unknownFields`). */
  unknownFields?: boolean;
  /** How long an output_url stays valid. Default 24 h. */
  urlTtlMs?: number;
  /**
   * Where output_url points: the file host (default), or the API's own origin (`/v1/files/…`,
   * served without a key), to test that a client never sends its key with a download.
   */
  outputUrlOn?: 'files' | 'api';
  /** With `tls`: speak HTTP/2 (HTTP/1.1 still taken), where browsers can stream request bodies. */
  http2?: boolean;
  media?: VidioMedia;
}

export interface VidioRequest {
  server: 'api' | 'files';
  /** Fake clock time of the request. */
  at: number;
  method: string;
  /** Path and query as requested. */
  path: string;
  /** The X-API-Key header as received, or null. */
  apiKey: string | null;
  /** The Authorization header as received, or null. */
  authorization: string | null;
  /** 0 while unanswered or when the client went away. */
  status: number;
  /** Bytes of the request body. */
  bodyBytes: number;
  /** JSON request bodies (not uploads), as text. */
  body: string | null;
  /** Every request header, as received. */
  headers: IncomingMessage['headers'];
}

export interface VidioUpload {
  inputKey: string;
  /** The `fileID` its video overlays carry. */
  fileId: string;
  owner: string;
  filename: string;
  contentType: string | null;
  bytes: number;
  md5: string;
  container: 'mp4' | 'webm' | 'mpegts';
}

export type FakeReelStatus = 'submitted' | 'queued' | 'processing' | 'processed' | 'rendering' | 'rendered' | 'failed';

export interface VidioFakeJob {
  id: string;
  owner: string;
  createdAt: number;
  request: {
    input_keys: string[];
    video_category: string;
    output_length: number;
    aspect_ratio: VidioAspect;
    music_category: string | null;
    music_volume: number;
    original_audio_volume: number;
  };
  status: FakeReelStatus;
  /** Poll mode: GETs so far. */
  polls: number;
  failAt: 'processing' | 'rendering' | null;
  failError: string | null;
  error: string | null;
  renderStartedAt: number | null;
  renderIndex: number | null;
  outputs: Array<Record<string, unknown>>;
}

export interface VidioFake {
  /** The API's base URL (`…/v1`), as a client is configured with it. */
  baseUrl: string;
  origin: string;
  /** The ports both servers listen on (127.0.0.1): what a browser maps the hostnames to. */
  ports: { api: number; files: number };
  /** Origin of the file host (output_url): another origin than the API. */
  filesOrigin: string;
  clock: { now(): number; advance(ms: number): void; set(ms: number): void };
  timings: VidioTimings;
  switches: {
    /** The next `count` API requests (matching `path` if set) get 429 with `Retry-After: retryAfter`. */
    rateLimit: { count: number; retryAfter: number; path?: RegExp } | null;
    /** The next `count` API requests (matching `path` if set) fail with `status` (5xx). */
    fail: { count: number; status: number; path?: RegExp } | null;
    /** The next `count` jobs created end `failed` with `error` when they would finish `at`. */
    failJobs: { count: number; at: 'processing' | 'rendering'; error: string } | null;
    /** Fields the seed does not show, on every answer (clients must tolerate them). */
    unknownFields: boolean;
    /** Read uploads no faster than this (real time), so a client's upload progress can be watched. */
    uploadBytesPerSecond: number | null;
  };
  requests: VidioRequest[];
  /** Uploads by input_key. */
  uploads: Map<string, VidioUpload>;
  /** Uploads the client gave up on midway (the connection went away). */
  abortedUploads(): number;
  jobs: Map<string, VidioFakeJob>;
  /** A job as it is at the current fake time (does not count as a poll). */
  job(id: string): VidioFakeJob | undefined;
  /** Requests to the file host that carried X-API-Key or Authorization: must be none. */
  keyLeaks(): VidioRequest[];
  /** Requests (API, by default) from index `from` on, optionally for one path pattern. */
  log(opts?: { from?: number; server?: 'api' | 'files'; path?: RegExp; method?: string }): VidioRequest[];
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly headers: Record<string, string> = {},
  ) {
    super(message);
  }
}
const bad = (field: string, message: string) => new HttpError(400, 'invalid_parameter', message, field);

export async function startVidioFake(opts: VidioFakeOptions = {}): Promise<VidioFake> {
  const media = opts.media ?? (await vidioMedia());
  const timings: VidioTimings = { ...VIDIO_DEFAULT_TIMINGS, ...opts.timings };
  const mode = opts.advance ?? 'clock';
  const outputsPerJob = opts.outputsPerJob ?? 3;
  const maxUploadBytes = opts.maxUploadBytes ?? 2_000_000_000;
  const urlTtlMs = opts.urlTtlMs ?? 24 * 3600_000;
  let now = opts.now ?? Date.parse('2026-01-01T00:00:00Z');
  let lastTick = Date.now();
  const ticker = opts.realTime
    ? setInterval(() => {
        now += Date.now() - lastTick;
        lastTick = Date.now();
      }, 50)
    : null;
  ticker?.unref();
  const keys = new Map<string, VidioPlan>();
  for (const k of opts.keys ?? [{ key: VIDIO_TEST_KEY, plan: 'studio' as const }, { key: VIDIO_CREATOR_KEY, plan: 'creator' as const }]) {
    if (typeof k === 'string') keys.set(k, 'studio');
    else keys.set(k.key, k.plan);
  }
  const secret = randomUUID();
  const requests: VidioRequest[] = [];
  const uploads = new Map<string, VidioUpload>();
  const jobs = new Map<string, VidioFakeJob>();
  let aborted = 0;
  const switches: VidioFake['switches'] = { rateLimit: null, fail: null, failJobs: null, unknownFields: opts.unknownFields ?? false, uploadBytesPerSecond: null };
  let filesOrigin = '';
  let origin = '';

  // ---- job state ----

  function finishProcessing(job: VidioFakeJob): void {
    if (job.failAt === 'processing') return fail(job);
    job.status = 'processed';
  }
  function finishRendering(job: VidioFakeJob): void {
    if (job.failAt === 'rendering') return fail(job);
    job.status = 'rendered';
  }
  function fail(job: VidioFakeJob): void {
    job.status = 'failed';
    job.error = job.failError ?? 'Processing failed';
  }

  /** Clock mode: where the job is now. */
  function advance(job: VidioFakeJob): VidioFakeJob {
    if (mode !== 'clock' || job.status === 'failed') return job;
    if (job.renderStartedAt === null) {
      const t = now - job.createdAt;
      const { submittedMs: s, queuedMs: q, processingMs: p } = timings;
      if (t < s) job.status = 'submitted';
      else if (t < s + q) job.status = 'queued';
      else if (t < s + q + p) job.status = 'processing';
      else finishProcessing(job);
    } else if (now - job.renderStartedAt >= timings.renderingMs) {
      finishRendering(job);
    } else {
      job.status = 'rendering';
    }
    return job;
  }

  /** Poll mode: one status further per GET. */
  function step(job: VidioFakeJob): void {
    job.polls++;
    switch (job.status) {
      case 'submitted':
        job.status = 'queued';
        break;
      case 'queued':
        job.status = 'processing';
        break;
      case 'processing':
        finishProcessing(job);
        break;
      case 'rendering':
        finishRendering(job);
        break;
      default:
        break;
    }
  }

  function sign(jobId: string, index: number, expires: number): string {
    return createHmac('sha256', secret).update(`${jobId}/${index}/${expires}`).digest('hex').slice(0, 32);
  }
  function outputUrl(job: VidioFakeJob): string {
    const expires = Math.floor((now + urlTtlMs) / 1000);
    const index = job.renderIndex ?? 0;
    const host = opts.outputUrlOn === 'api' ? `${origin}/v1/files` : filesOrigin;
    return `${host}/renders/${job.id}/${index}.mp4?expires=${expires}&sig=${sign(job.id, index, expires)}`;
  }

  /** The reels a processed job proposes, shaped like seed 003's example. */
  function makeOutputs(jobId: string, req: VidioFakeJob['request']): Array<Record<string, unknown>> {
    return Array.from({ length: outputsPerJob }, (_, i) => {
      const fps = i === 0 ? 59.94 : 29.97;
      const duration = Math.round((req.output_length * (1 - 0.04 * i) + 0.22) * 100) / 100;
      const frames = Math.round(duration * fps);
      const share = Math.floor(frames / req.input_keys.length);
      const overlays: Array<Record<string, unknown>> = req.input_keys.map((key, k) => {
        const src = `${filesOrigin}/sources/${uploads.get(key)!.fileId}.mp4`;
        return {
          id: k === 0 ? 0 : 100 * (i + 1) + k,
          fileID: uploads.get(key)!.fileId,
          from: k * share,
          content: src,
          durationInFrames: k === req.input_keys.length - 1 ? frames - k * share : share,
          type: 'video',
          src,
          videoStartTime: 5425 + 1000 * k + 250 * i,
        };
      });
      if (req.music_category) {
        const slug = MUSIC_SLUGS[req.music_category]!;
        overlays.push({ id: 876361 + i, from: 0, content: slug, durationInFrames: frames, type: 'sound', src: `${filesOrigin}/music/${slug}.mp3` });
      }
      return { start: null, end: null, thumbnail: `out/${jobId}_${i}.jpg`, duration, overlays, fps };
    });
  }

  /** GET /jobs/{id}: the seed's fields in the seed's order, then the INFERRED ones. */
  function view(job: VidioFakeJob): Record<string, unknown> {
    const extra = switches.unknownFields;
    const past = job.status === 'processed' || job.status === 'rendering' || job.status === 'rendered';
    const outputs = past
      ? job.outputs.map((o) =>
          extra
            ? { ...o, overlays: (o.overlays as Array<Record<string, unknown>>).map((v) => ({ ...v, volume: 1, _fake: true })), score: 0.93, title: 'Highlights' }
            : o,
        )
      : [];
    return {
      job_id: job.id,
      status: job.status,
      outputs,
      ...(job.status === 'rendering' || job.status === 'rendered' ? { output_url: job.status === 'rendered' ? outputUrl(job) : null } : {}),
      ...(job.status === 'failed' ? { error: job.error } : {}),
      ...(extra ? { created_at: new Date(job.createdAt).toISOString(), progress: past ? 1 : 0.4, credits_used: 3 } : {}),
    };
  }

  // ---- validation ----

  function validateCreate(body: unknown, owner: string): VidioFakeJob['request'] {
    if (!body || typeof body !== 'object' || Array.isArray(body)) throw new HttpError(400, 'invalid_json', 'The body must be a JSON object');
    const b = body as Record<string, unknown>;
    for (const k of Object.keys(b)) if (!CREATE_FIELDS.includes(k)) throw bad(k, `Unknown parameter: ${k}`);
    const keysIn = b.input_keys;
    if (keysIn === undefined) throw bad('input_keys', 'input_keys is required');
    if (!Array.isArray(keysIn) || keysIn.length === 0 || keysIn.some((k) => typeof k !== 'string')) throw bad('input_keys', 'input_keys must be a non-empty list of input keys');
    for (const k of keysIn as string[]) {
      const u = uploads.get(k);
      if (!u || u.owner !== owner) throw bad('input_keys', `Unknown input_key: ${k}`);
    }
    const enumField = (name: string, values: string[], required: boolean): string | null => {
      const v = b[name];
      if (v === undefined || v === null) {
        if (required) throw bad(name, `${name} is required`);
        return null;
      }
      if (typeof v !== 'string' || !values.includes(v)) throw bad(name, `${name} must be one of ${values.join(', ')}`);
      return v;
    };
    const intField = (name: string, min: number, max: number, fallback: number | null): number => {
      const v = b[name];
      if (v === undefined || v === null) {
        if (fallback === null) throw bad(name, `${name} is required`);
        return fallback;
      }
      if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) throw bad(name, `${name} must be a whole number from ${min} to ${max}`);
      return v;
    };
    const video_category = enumField('video_category', VIDIO_CATEGORIES, true)!;
    const output_length = intField('output_length', 1, VIDIO_MAX_OUTPUT_LENGTH, null);
    const aspect_ratio = enumField('aspect_ratio', VIDIO_ASPECTS, true)! as VidioAspect;
    const music_category = enumField('music_category', VIDIO_MUSIC, false);
    const music_volume = intField('music_volume', 0, 100, 100);
    const original_audio_volume = intField('original_audio_volume', 0, 100, 100);
    return { input_keys: [...(keysIn as string[])], video_category, output_length, aspect_ratio, music_category, music_volume, original_audio_volume };
  }

  // ---- uploads ----

  async function upload(req: IncomingMessage, owner: string, entry: VidioRequest): Promise<Record<string, unknown>> {
    const type = req.headers['content-type'] ?? '';
    const boundary = /^multipart\/form-data;.*\bboundary=(?:"([^"]+)"|([^;\s]+))/i.exec(type);
    if (!boundary) {
      entry.bodyBytes = await drain(req);
      throw bad('file', 'Send the file as multipart/form-data, in the field "file"');
    }
    const declared = Number(req.headers['content-length']);
    const parsed = await readMultipart(req, boundary[1] ?? boundary[2]!, maxUploadBytes, (n) => (entry.bodyBytes = n), switches.uploadBytesPerSecond);
    if (parsed.malformed) throw bad('file', `The multipart body could not be read: ${parsed.malformed}`);
    const file = parsed.file;
    if (!file) throw bad('file', 'No file in the field "file"');
    if (file.tooLarge || (Number.isFinite(declared) && declared > maxUploadBytes + 64 * 1024)) {
      throw new HttpError(413, 'file_too_large', `Files may be at most ${maxUploadBytes} bytes`);
    }
    if (file.size === 0) throw new HttpError(422, 'unreadable_media', 'The file is empty');
    const container = sniff(file.head);
    if (!container) throw new HttpError(415, 'unsupported_media', 'The file is not a video VIDIO can read (MP4, WebM or MPEG-TS expected)');
    const id = randomBytes(8).toString('hex');
    const inputKey = `in_${id}`;
    uploads.set(inputKey, { inputKey, fileId: `file_${id.slice(0, 6)}`, owner, filename: file.filename, contentType: file.contentType, bytes: file.size, md5: file.md5, container });
    return { input_key: inputKey, ...(switches.unknownFields ? { size: file.size, expires_at: new Date(now + 7 * 24 * 3600_000).toISOString() } : {}) };
  }

  // ---- routes ----

  async function api(req: IncomingMessage, path: string, entry: VidioRequest): Promise<{ status: number; body: unknown; raw?: { bytes: Buffer; contentType: string } }> {
    const method = req.method ?? 'GET';
    const key = header(req, 'x-api-key');
    if (!key || !keys.has(key)) {
      entry.bodyBytes = await drain(req);
      throw new HttpError(401, 'unauthorized', key ? 'Invalid API key' : 'Missing API key: send it in the X-API-Key header');
    }
    if (!(VIDIO_API_PLANS as readonly string[]).includes(keys.get(key)!)) {
      entry.bodyBytes = await drain(req);
      throw new HttpError(403, 'plan_required', 'API access requires the Studio plan or above');
    }
    if (path === '/uploads' && method === 'POST') return { status: 200, body: await upload(req, key, entry) };

    const raw = await readBody(req, 1024 * 1024);
    entry.bodyBytes = Buffer.byteLength(raw);
    entry.body = raw;
    const json = (): unknown => {
      try {
        return JSON.parse(raw);
      } catch {
        throw new HttpError(400, 'invalid_json', 'The body is not valid JSON');
      }
    };

    if (path === '/highlight-reels' && method === 'POST') {
      const request = validateCreate(json(), key);
      const id = `job_${randomBytes(6).toString('hex')}`;
      const f = switches.failJobs;
      const failing = f && f.count > 0 ? (f.count--, f) : null;
      const job: VidioFakeJob = {
        id,
        owner: key,
        createdAt: now,
        request,
        status: 'submitted',
        polls: 0,
        failAt: failing?.at ?? null,
        failError: failing?.error ?? null,
        error: null,
        renderStartedAt: null,
        renderIndex: null,
        outputs: makeOutputs(id, request),
      };
      jobs.set(id, job);
      return { status: 200, body: { job_id: id, status: 'submitted', ...(switches.unknownFields ? { created_at: new Date(now).toISOString() } : {}) } };
    }

    // Thumbnails of the proposed reels (`outputs[].thumbnail`, "out/{job}_{i}.jpg", relative to the
    // API): whether they need the key is not documented, so this fake wants it (the harsh reading).
    const t = /^\/out\/(.+)_(\d+)\.jpg$/.exec(path);
    if (t && method === 'GET') {
      const job = jobs.get(decodeURIComponent(t[1]!));
      if (!job || job.owner !== key) throw new HttpError(404, 'not_found', 'No such thumbnail');
      advance(job);
      const past = job.status === 'processed' || job.status === 'rendering' || job.status === 'rendered';
      if (!past || Number(t[2]) >= job.outputs.length) throw new HttpError(404, 'not_found', 'No such thumbnail');
      return { status: 200, body: null, raw: { bytes: THUMBNAIL_JPEG, contentType: 'image/jpeg' } };
    }

    const m = /^\/jobs\/([^/]+)(\/render)?$/.exec(path);
    if (m) {
      const job = jobs.get(decodeURIComponent(m[1]!));
      if (!job || job.owner !== key) throw new HttpError(404, 'job_not_found', 'Job not found');
      if (!m[2] && method === 'GET') {
        advance(job);
        if (mode === 'poll') step(job);
        return { status: 200, body: view(job) };
      }
      if (m[2] && method === 'POST') {
        advance(job);
        const body = json();
        const b = body && typeof body === 'object' && !Array.isArray(body) ? (body as Record<string, unknown>) : null;
        if (!b) throw new HttpError(400, 'invalid_json', 'The body must be a JSON object');
        for (const k of Object.keys(b)) if (k !== 'output_index') throw bad(k, `Unknown parameter: ${k}`);
        if (job.status === 'rendering') throw new HttpError(409, 'already_rendering', 'The job is already rendering');
        if (job.status !== 'processed' && job.status !== 'rendered') {
          throw new HttpError(409, 'job_not_ready', `The job is ${job.status}; it can be rendered once it is processed`);
        }
        const index = b.output_index ?? 0;
        if (typeof index !== 'number' || !Number.isInteger(index) || index < 0) throw bad('output_index', 'output_index must be a whole number, 0 or more');
        if (index >= job.outputs.length) throw bad('output_index', `output_index ${index} is out of range: the job has ${job.outputs.length} outputs`);
        job.renderIndex = index;
        job.renderStartedAt = now;
        job.status = 'rendering';
        return { status: 200, body: { job_id: job.id, status: 'rendering', output_url: null, ...(switches.unknownFields ? { queued_at: new Date(now).toISOString() } : {}) } };
      }
    }
    throw new HttpError(404, 'not_found', `No such endpoint: ${method} ${path}`);
  }

  /** Logs a request as it arrives (status and body filled in as it is answered). */
  function record(server: VidioRequest['server'], req: IncomingMessage, u: URL): VidioRequest {
    const entry: VidioRequest = {
      server,
      at: now,
      method: req.method ?? 'GET',
      path: u.pathname + u.search,
      apiKey: header(req, 'x-api-key'),
      authorization: header(req, 'authorization'),
      status: 0,
      bodyBytes: 0,
      body: null,
      headers: { ...req.headers },
    };
    requests.push(entry);
    return entry;
  }

  const apiHandler = async (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const entry = record('api', req, u);
    const send = (status: number, body: unknown, headers: Record<string, string> = {}) => {
      entry.status = status;
      const payload = JSON.stringify(body);
      res.writeHead(status, { 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)), ...headers });
      res.end(payload);
    };
    // Rendered reels on the API's own origin (outputUrlOn: 'api'): signed links, no key needed.
    if (u.pathname.startsWith('/v1/files/')) return serveRender(req, res, entry, u.pathname.slice('/v1/files'.length), u.searchParams);
    try {
      if (!u.pathname.startsWith('/v1/')) {
        entry.bodyBytes = await drain(req);
        throw new HttpError(404, 'not_found', `No such endpoint: ${u.pathname}`);
      }
      const path = u.pathname.slice(3);
      const rl = switches.rateLimit;
      if (rl && rl.count > 0 && (!rl.path || rl.path.test(path))) {
        rl.count--;
        entry.bodyBytes = await drain(req);
        throw new HttpError(429, 'rate_limited', 'Too many requests, slow down', undefined, { 'retry-after': String(rl.retryAfter) });
      }
      const f = switches.fail;
      if (f && f.count > 0 && (!f.path || f.path.test(path))) {
        f.count--;
        entry.bodyBytes = await drain(req);
        throw new HttpError(f.status, 'internal_error', f.status === 503 ? 'Service temporarily unavailable' : 'Internal server error');
      }
      const r = await api(req, path, entry);
      if (r.raw) {
        entry.status = r.status;
        res.writeHead(r.status, { 'content-type': r.raw.contentType, 'content-length': String(r.raw.bytes.length) }).end(r.raw.bytes);
      } else send(r.status, r.body);
    } catch (e) {
      if (e instanceof ClientGone) {
        aborted++;
        entry.status = 0;
        return;
      }
      if (e instanceof HttpError) send(e.status, { error: { code: e.code, message: e.message, ...(e.field ? { field: e.field } : {}) } }, e.headers);
      else send(500, { error: { code: 'internal_error', message: `Internal error: ${(e as Error).message}` } });
    }
  };

  const filesHandler = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const entry = record('files', req, u);
    serveRender(req, res, entry, u.pathname, u.searchParams);
  };

  /** A rendered reel behind a signed link: `/renders/{job}/{index}.mp4?expires&sig`, with ranges. */
  function serveRender(req: IncomingMessage, res: ServerResponse, entry: VidioRequest, pathname: string, query: URLSearchParams): void {
    const deny = (status: number, msg: string) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' }).end(msg);
    };
    const m = /^\/renders\/([^/]+)\/(\d+)\.mp4$/.exec(pathname);
    if (!m) return deny(404, 'Not found');
    const jobId = decodeURIComponent(m[1]!);
    const index = Number(m[2]);
    const expires = Number(query.get('expires'));
    if (query.get('sig') !== sign(jobId, index, expires)) return deny(403, 'Bad signature');
    if (now > expires * 1000) return deny(403, 'Link expired');
    const job = jobs.get(jobId);
    if (!job || advance(job).status !== 'rendered' || job.renderIndex !== index) return deny(404, 'Not rendered');
    entry.status = 200;
    serveFile(req, res, media.reels[job.request.aspect_ratio], { 'content-type': 'video/mp4' });
  }

  const make = (handler: (req: IncomingMessage, res: ServerResponse) => void): Server => {
    if (opts.tls && opts.http2) {
      // Node's compatibility API hands the same handler request/response objects with these methods.
      const server = createSecureServer({ key: opts.tls.key, cert: opts.tls.cert, allowHTTP1: true }, handler as never);
      // close() waits for open HTTP/2 sessions: they are ended with it (closeAllConnections is HTTP/1 only).
      const sessions = new Set<{ destroy(): void }>();
      server.on('session', (session) => {
        sessions.add(session);
        session.on('close', () => sessions.delete(session));
      });
      return Object.assign(server as unknown as Server, { closeAllConnections: () => sessions.forEach((x) => x.destroy()) });
    }
    return opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createHttpServer(handler);
  };
  const apiServer = make((req, res) => void apiHandler(req, res));
  const filesServer = make(filesHandler);
  await Promise.all([listen(apiServer, opts.port ?? 0), listen(filesServer, opts.filesPort ?? 0)]);
  const scheme = opts.tls ? 'https' : 'http';
  const originOf = (server: Server, hostname: string | undefined) =>
    hostname && opts.tls ? `https://${hostname}` : `${scheme}://${hostname ?? '127.0.0.1'}:${(server.address() as AddressInfo).port}`;
  origin = originOf(apiServer, opts.hostname);
  filesOrigin = originOf(filesServer, opts.filesHostname);

  return {
    ports: { api: (apiServer.address() as AddressInfo).port, files: (filesServer.address() as AddressInfo).port },
    baseUrl: `${origin}/v1`,
    origin,
    filesOrigin,
    clock: {
      now: () => now,
      advance: (ms) => {
        now += ms;
      },
      set: (ms) => {
        now = ms;
      },
    },
    timings,
    switches,
    requests,
    uploads,
    abortedUploads: () => aborted,
    jobs,
    job: (id) => {
      const j = jobs.get(id);
      return j && advance(j);
    },
    keyLeaks: () => requests.filter((r) => r.server === 'files' && (r.apiKey !== null || r.authorization !== null)),
    log: ({ from = 0, server = 'api', path, method } = {}) =>
      requests.slice(from).filter((r) => r.server === server && (!path || path.test(r.path)) && (!method || r.method === method)),
    close: async () => {
      if (ticker) clearInterval(ticker);
      await Promise.all(
        [apiServer, filesServer].map(
          (s) =>
            new Promise<void>((r) => {
              s.closeAllConnections?.();
              s.close(() => r());
            }),
        ),
      );
    },
  };
}

// ---- multipart, streamed ----

/** The client went away before its request was complete. */
class ClientGone extends Error {}

interface ParsedMultipart {
  file: { filename: string; contentType: string | null; size: number; md5: string; head: Buffer; tooLarge: boolean } | null;
  malformed: string | null;
}

/**
 * Reads a multipart/form-data body as it arrives: the `file` part is hashed (md5) and counted, its
 * first 4 KB kept for sniffing, nothing else kept; past `maxBytes` it is only counted (413 later).
 * Other parts are read and dropped. Rejects with {@link ClientGone} when the client goes away.
 */
async function readMultipart(req: IncomingMessage, boundary: string, maxBytes: number, onBytes: (n: number) => void, bytesPerSecond: number | null): Promise<ParsedMultipart> {
  const delim = Buffer.from(`\r\n--${boundary}`);
  // A leading CRLF lets the first boundary match the same pattern as the others.
  let buf: Buffer = Buffer.from('\r\n');
  let state: 'preamble' | 'after' | 'headers' | 'body' | 'done' = 'preamble';
  let malformed: string | null = null;
  let part: { isFile: boolean; filename: string; contentType: string | null } | null = null;
  let file: ParsedMultipart['file'] = null;
  let hash = createHash('md5');
  const heads: Buffer[] = [];
  let headBytes = 0;
  let total = 0;

  const feed = (data: Buffer) => {
    if (!part?.isFile || !file || data.length === 0) return;
    file.size += data.length;
    if (file.size > maxBytes) {
      file.tooLarge = true;
      return;
    }
    hash.update(data);
    if (headBytes < 4096) {
      const take = data.subarray(0, 4096 - headBytes);
      heads.push(Buffer.from(take));
      headBytes += take.length;
    }
  };
  const endPart = () => {
    if (part?.isFile && file) {
      file.md5 = hash.digest('hex');
      file.head = Buffer.concat(heads);
    }
    part = null;
  };

  try {
    for await (const chunk of req as AsyncIterable<Buffer>) {
      total += chunk.length;
      onBytes(total);
      if (bytesPerSecond) await new Promise((r) => setTimeout(r, (1000 * chunk.length) / bytesPerSecond));
      if (state === 'done') continue; // the epilogue, or a body we gave up on: drained
      buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
      for (let more = true; more; ) {
        switch (state) {
          case 'preamble': {
            const i = buf.indexOf(delim);
            if (i < 0) {
              buf = buf.subarray(Math.max(0, buf.length - delim.length + 1));
              more = false;
            } else {
              buf = buf.subarray(i + delim.length);
              state = 'after';
            }
            break;
          }
          case 'after': {
            if (buf.length < 2) {
              more = false;
              break;
            }
            const two = buf.subarray(0, 2).toString('latin1');
            if (two === '--') {
              state = 'done';
              more = false;
            } else if (two === '\r\n') {
              buf = buf.subarray(2);
              state = 'headers';
            } else {
              malformed = 'a boundary is not followed by a line break';
              state = 'done';
              more = false;
            }
            break;
          }
          case 'headers': {
            const i = buf.indexOf('\r\n\r\n');
            if (i < 0) {
              if (buf.length > 16 * 1024) {
                malformed = 'part headers too long';
                state = 'done';
              }
              more = false;
              break;
            }
            const lines = buf.subarray(0, i).toString('utf8').split('\r\n');
            buf = buf.subarray(i + 4);
            const disposition = lines.find((l) => /^content-disposition:/i.test(l)) ?? '';
            const name = /\bname="([^"]*)"/i.exec(disposition)?.[1];
            const filename = /\bfilename="([^"]*)"/i.exec(disposition)?.[1];
            const type = lines.find((l) => /^content-type:/i.test(l))?.replace(/^content-type:\s*/i, '') ?? null;
            const isFile = name === 'file' && filename !== undefined && file === null;
            part = { isFile, filename: filename ?? '', contentType: type };
            if (isFile) {
              file = { filename: filename!, contentType: type, size: 0, md5: '', head: Buffer.alloc(0), tooLarge: false };
              hash = createHash('md5');
            }
            state = 'body';
            break;
          }
          case 'body': {
            const i = buf.indexOf(delim);
            if (i >= 0) {
              feed(buf.subarray(0, i));
              endPart();
              buf = buf.subarray(i + delim.length);
              state = 'after';
            } else {
              const keep = delim.length - 1;
              if (buf.length > keep) {
                feed(buf.subarray(0, buf.length - keep));
                buf = Buffer.from(buf.subarray(buf.length - keep));
              }
              more = false;
            }
            break;
          }
          case 'done':
            buf = Buffer.alloc(0);
            more = false;
            break;
        }
      }
    }
  } catch {
    throw new ClientGone();
  }
  if (req.readableAborted || (!req.complete && state !== 'done')) throw new ClientGone();
  if (state !== 'done' && !malformed) malformed = 'the body ended before its closing boundary';
  return { file: malformed ? null : file, malformed };
}

/** `mp4` (`ftyp` first), `webm` (EBML magic), `mpegts` (sync byte every 188 bytes), or null. */
export function sniff(head: Buffer): 'mp4' | 'webm' | 'mpegts' | null {
  if (head.length >= 8 && head.subarray(4, 8).toString('latin1') === 'ftyp') return 'mp4';
  if (head.length >= 4 && head.readUInt32BE(0) === 0x1a45dfa3) return 'webm';
  if (head.length >= 189 && head[0] === 0x47 && head[188] === 0x47 && (head.length < 377 || head[376] === 0x47)) return 'mpegts';
  return null;
}

function header(req: IncomingMessage, name: string): string | null {
  const v = req.headers[name];
  return typeof v === 'string' ? v : Array.isArray(v) ? v.join(', ') : null;
}

function listen(server: Server, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
}

/** Reads and drops a request body; its size. */
async function drain(req: IncomingMessage): Promise<number> {
  let n = 0;
  try {
    for await (const chunk of req as AsyncIterable<Buffer>) n += chunk.length;
  } catch {
    throw new ClientGone();
  }
  return n;
}

function readBody(req: IncomingMessage, limit: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
      if (n <= limit) chunks.push(c);
    });
    req.on('end', () => (n > limit ? reject(new HttpError(413, 'body_too_large', 'The body is too large')) : resolve(Buffer.concat(chunks).toString('utf8'))));
    req.on('error', () => reject(new ClientGone()));
  });
}
