/**
 * A local RenderIO (../shared/providers.md section 1, seed 000) for unit, e2e, demo and bench.
 * It implements the contract as strictly as it is written, with the "Open questions" defaults:
 *
 * - Everything under `/api/v1` needs `X-API-KEY` (401 `UNAUTHORIZED` otherwise); bodies of errors
 *   are `{error, message}` (default 1), except 422 `{detail:[{loc,msg,type}]}` for POST bodies
 *   that are not a JSON object (or not sent as application/json).
 * - Rate limit per key over a sliding minute (default 60), `X-RateLimit-Remaining` on every API
 *   response, 429 `RATE_LIMITED` with `Retry-After` (default 2).
 * - Plan refusal of the download endpoints is 403 `FORBIDDEN`, switchable (default 6).
 * - `POST /ytdlp-download` and `POST /run-ytdlp-command` with every field rule of section 1.2 (400
 *   `INVALID_REQUEST`); commands go QUEUED → PROCESSING → SUCCESS|FAILED on the fake clock (or one
 *   step per poll); FAILED carries `error_status`, `error_message` and `error` (default 4);
 *   `command_type` `YTDLP_COMMAND` and `original_request` (default 5).
 * - `GET /commands` with limit/offset/status validation, newest first, no total; `GET
 *   /commands/{id}` (404 for unknown ids and other accounts' commands); `DELETE
 *   /commands/{id}/files`.
 * - Output files are REAL media (test/fixtures/renderio-media.ts): the MP4 of the closest
 *   available height, the M4A for `audio_only`, an MP3 for a libmp3lame command. Their
 *   `storage_url` is signed, expires 24 h after the job finished on the fake clock (default 3),
 *   answers 403 after that, needs no key, and lives on a different origin (a second server) unless
 *   `storage: 'api'` puts it on a keyless path of the API server. By default a poll returns the
 *   same URL every time (whether RenderIO re-signs is not documented); `resignOnPoll` changes that.
 *
 * Binds 127.0.0.1 only. With `tls` both servers speak https, so a browser can reach the API at
 * https://renderio.dev through `--host-resolver-rules` and a test certificate.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { renderIoMedia, type RenderIoMedia, type RenderIoMediaFile } from '../fixtures/renderio-media';
import { serveFile } from './static-range';

/** A key in RenderIO's format (`ffsk_` + 64 lowercase hex), accepted by default. */
export const RENDERIO_TEST_KEY = `ffsk_${'a1b2c3d4e5f60718'.repeat(4)}`;
/** A second default key: another account (its commands are 404 to the first). */
export const RENDERIO_OTHER_KEY = `ffsk_${'0f1e2d3c4b5a6978'.repeat(4)}`;

export const FORMAT_SELECTORS = ['best', '2160p', '1440p', '1080p', '720p', '480p', '360p', 'audio_only', 'worst'] as const;
export const COMMAND_STATUSES = ['QUEUED', 'PROCESSING', 'SUCCESS', 'FAILED'] as const;
type Status = (typeof COMMAND_STATUSES)[number];

/** What happens to the video at one URL. */
export interface RenderIoOutcome {
  /** Default `success`. */
  result?: 'success' | 'failed';
  /** FAILED: `error_status`. Default `DOWNLOAD_FAILED` (INFERRED). */
  errorStatus?: string | null;
  /** FAILED: `error_message`; null leaves it out (null), as a seed-style server would. */
  errorMessage?: string | null;
  /** FAILED: the seed's `error` field; defaults to the error message text (default 4). */
  error?: string | null;
  /** Heights this video exists in (the closest is served). Default: every fixture height. */
  heights?: number[];
  /** Time spent QUEUED / PROCESSING on the fake clock. Defaults 1000 / 3000 ms. */
  queuedMs?: number;
  processingMs?: number;
  /** Advance one status per `GET /commands/{id}` instead of by the clock. */
  perPoll?: boolean;
  /** Stays PROCESSING forever (for client timeouts). */
  never?: boolean;
}

/** Test switches; change them at any time. */
export interface RenderIoSwitches {
  /** 403 FORBIDDEN for the download endpoints ("Growth plan or higher"). */
  planRefused: boolean;
  /** Requests per key per sliding minute. */
  rateLimitPerMinute: number;
  /** A new signed storage_url (fresh expiry) on every poll. */
  resignOnPoll: boolean;
  /** Lifetime of a signed storage_url. Default 24 h. */
  storageTtlSeconds: number;
}

/** One request as the fake saw it. */
export interface RenderIoRequestRecord {
  server: 'api' | 'storage';
  method: string;
  path: string;
  query: Record<string, string>;
  /** The X-API-KEY header as received (null when absent). */
  apiKey: string | null;
  contentType: string | null;
  range: string | null;
  /** Parsed JSON body (or the raw text if it was not JSON); null without a body. */
  body: unknown;
  status: number;
  /** Fake-clock time of the request, ms. */
  at: number;
}

export interface RenderIoFakeOptions {
  /** API port (default: any free one). */
  port?: number;
  /** Storage server port (default: any free one). */
  storagePort?: number;
  /** Serve https with this certificate. */
  tls?: { key: string; cert: string };
  /** The fake clock (ms). Default Date.now; `clock.advance` adds to it either way. */
  now?: () => number;
  /** Accepted keys. Default: {@link RENDERIO_TEST_KEY} and {@link RENDERIO_OTHER_KEY}. */
  keys?: string[];
  rateLimitPerMinute?: number;
  planRefused?: boolean;
  resignOnPoll?: boolean;
  storageTtlSeconds?: number;
  /** Outcome by exact video URL; others get `defaultOutcome`. */
  outcomes?: Record<string, RenderIoOutcome>;
  defaultOutcome?: RenderIoOutcome;
  /** `separate` (default): storage on its own origin. `api`: on the API server under /storage. */
  storage?: 'separate' | 'api';
  /** Origin written into storage_url (e.g. a hostname mapped by the browser). Default: the real one. */
  publicStorageOrigin?: string;
  /** The media served. Default: test/fixtures/renderio-media.ts. */
  media?: RenderIoMedia;
}

/** A fault injected before all checks, like a gateway in front of the API. */
export interface RenderIoFault {
  status: number;
  /** How many requests it hits (default 1). */
  times?: number;
  /** Only requests whose path (after /api/v1) starts with this. */
  path?: string;
  method?: string;
  retryAfter?: number;
  /** A string is sent as text, anything else as JSON. */
  body?: unknown;
}

export interface RenderIoFake {
  /** e.g. http://127.0.0.1:41234/api/v1 */
  baseUrl: string;
  /** Origin of the storage server (or of the API server with `storage: 'api'`). */
  storageOrigin: string;
  clock: { now(): number; advance(ms: number): void };
  switches: RenderIoSwitches;
  /** Every request, API and storage, in order. */
  requests: RenderIoRequestRecord[];
  clearLog(): void;
  setOutcome(url: string, outcome: RenderIoOutcome): void;
  addKey(key: string): void;
  revokeKey(key: string): void;
  failNext(fault: RenderIoFault): void;
  /** Commands by id, for assertions. */
  command(id: string): FakeCommand | undefined;
  /** The file a finished command's output alias is served from. */
  outputFile(commandId: string, alias: string): RenderIoMediaFile | undefined;
  media: RenderIoMedia;
  close(): Promise<void>;
}

interface OutputRecord {
  fileId: string;
  alias: string;
  filename: string;
  media: RenderIoMediaFile | null;
  url: string | null;
}

export interface FakeCommand {
  id: string;
  key: string;
  seq: number;
  createdAt: number;
  endpoint: 'ytdlp-download' | 'run-ytdlp-command';
  inputUrls: Record<string, string>;
  formatSelector: string;
  ffmpegCommand: string | null;
  outputFiles: Record<string, string>;
  metadata: Record<string, string | number | boolean> | null;
  outcome: RenderIoOutcome;
  polls: number;
  /** Set once the terminal state was reached. */
  finishedAt: number | null;
  terminal: 'SUCCESS' | 'FAILED' | null;
  failure: { status: string | null; message: string | null; error: string | null } | null;
  outputs: Record<string, OutputRecord>;
  filesDeleted: boolean;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    readonly headers: Record<string, string> = {},
  ) {
    super(typeof body === 'object' && body && 'message' in body ? String((body as { message: unknown }).message) : `HTTP ${status}`);
  }
}

const invalid = (message: string) => new HttpError(400, { error: 'INVALID_REQUEST', message });
const validation = (loc: Array<string | number>, msg: string, type: 'value_error' | 'type_error') =>
  new HttpError(422, { detail: [{ loc, msg, type }] });

const IN_KEY = /^in_[a-zA-Z0-9_]+$/;
const OUT_KEY = /^out_[a-zA-Z0-9_]+$/;
const MAX_BODY = 1024 * 1024;
const MAX_METADATA_KEYS = 10;

export async function startRenderIoFake(opts: RenderIoFakeOptions = {}): Promise<RenderIoFake> {
  const media = opts.media ?? (await renderIoMedia());
  let offset = 0;
  const baseNow = opts.now ?? (() => Date.now());
  const now = () => baseNow() + offset;
  const keys = new Set(opts.keys ?? [RENDERIO_TEST_KEY, RENDERIO_OTHER_KEY]);
  const switches: RenderIoSwitches = {
    planRefused: opts.planRefused ?? false,
    rateLimitPerMinute: opts.rateLimitPerMinute ?? 60,
    resignOnPoll: opts.resignOnPoll ?? false,
    storageTtlSeconds: opts.storageTtlSeconds ?? 24 * 3600,
  };
  const outcomes = new Map(Object.entries(opts.outcomes ?? {}));
  const requests: RenderIoRequestRecord[] = [];
  const faults: Array<RenderIoFault & { left: number }> = [];
  const windows = new Map<string, number[]>();
  const commands = new Map<string, FakeCommand>();
  const files = new Map<string, OutputRecord>();
  const secret = randomBytes(32);
  let seq = 0;
  const storageMode = opts.storage ?? 'separate';
  let storagePublic = '';

  // ---- status progression -------------------------------------------------------------------

  function outcomeFor(cmd: Pick<FakeCommand, 'inputUrls'>): RenderIoOutcome {
    const failed = Object.values(cmd.inputUrls)
      .map((u) => outcomes.get(u))
      .find((o) => o?.result === 'failed');
    if (failed) return failed;
    const first = Object.values(cmd.inputUrls)[0]!;
    return outcomes.get(first) ?? opts.defaultOutcome ?? {};
  }

  function statusOf(cmd: FakeCommand): Status {
    if (cmd.terminal) return cmd.terminal;
    const o = cmd.outcome;
    if (o.never) return o.perPoll ? (cmd.polls <= 1 ? 'QUEUED' : 'PROCESSING') : now() - cmd.createdAt < (o.queuedMs ?? 1000) ? 'QUEUED' : 'PROCESSING';
    let done: number | null = null;
    if (o.perPoll) {
      if (cmd.polls <= 1) return 'QUEUED';
      if (cmd.polls === 2) return 'PROCESSING';
      done = now();
    } else {
      const elapsed = now() - cmd.createdAt;
      const q = o.queuedMs ?? 1000;
      const p = o.processingMs ?? 3000;
      if (elapsed < q) return 'QUEUED';
      if (elapsed < q + p) return 'PROCESSING';
      done = cmd.createdAt + q + p;
    }
    finish(cmd, done);
    return cmd.terminal!;
  }

  function finish(cmd: FakeCommand, at: number): void {
    cmd.finishedAt = at;
    if (cmd.outcome.result === 'failed') {
      cmd.terminal = 'FAILED';
      const message = cmd.outcome.errorMessage === undefined ? 'yt-dlp could not download the video: it is private or unavailable.' : cmd.outcome.errorMessage;
      cmd.failure = {
        status: cmd.outcome.errorStatus === undefined ? 'DOWNLOAD_FAILED' : cmd.outcome.errorStatus,
        message,
        error: cmd.outcome.error === undefined ? message : cmd.outcome.error,
      };
      return;
    }
    // Pick the files now; an output the fake cannot make fails the command like ffmpeg would.
    for (const out of Object.values(cmd.outputs)) {
      out.media = fileFor(cmd, out.filename);
      if (!out.media) {
        cmd.terminal = 'FAILED';
        const message = `FFmpeg could not write ${out.filename}: unsupported output format.`;
        cmd.failure = { status: 'FFMPEG_FAILED', message, error: message };
        return;
      }
    }
    cmd.terminal = 'SUCCESS';
    for (const out of Object.values(cmd.outputs)) {
      out.url = sign(out, at);
      files.set(out.fileId, out);
    }
  }

  function fileFor(cmd: FakeCommand, filename: string): RenderIoMediaFile | null {
    const ext = filename.slice(filename.lastIndexOf('.') + 1).toLowerCase();
    if (cmd.ffmpegCommand) {
      if (ext === 'mp3') return media.mp3;
      if (ext === 'm4a' || ext === 'aac') return media.m4a;
      if (ext === 'mp4') return pickVideo(cmd, 'best');
      return null;
    }
    return cmd.formatSelector === 'audio_only' ? media.m4a : pickVideo(cmd, cmd.formatSelector);
  }

  /** The "closest available height" rule (ties go to the lower one). */
  function pickVideo(cmd: FakeCommand, selector: string): RenderIoMediaFile {
    const wanted = cmd.outcome.heights;
    let videos = media.videos.filter((v) => !wanted || wanted.includes(v.height ?? 0));
    if (!videos.length) videos = media.videos;
    const sorted = [...videos].sort((a, b) => (a.height ?? 0) - (b.height ?? 0));
    if (selector === 'best') return sorted.at(-1)!;
    if (selector === 'worst') return sorted[0]!;
    const target = Number(selector.replace(/p$/, ''));
    return sorted.reduce((best, v) => (Math.abs((v.height ?? 0) - target) < Math.abs((best.height ?? 0) - target) ? v : best));
  }

  function sign(out: OutputRecord, from: number): string {
    const expires = Math.floor(from / 1000) + switches.storageTtlSeconds;
    const name = encodeURIComponent(out.filename);
    const sig = signature(out.fileId, out.filename, expires);
    const prefix = storageMode === 'api' ? '/storage' : '';
    return `${storagePublic}${prefix}/files/${out.fileId}/${name}?expires=${expires}&signature=${sig}`;
  }

  function signature(fileId: string, filename: string, expires: number): string {
    return createHmac('sha256', secret).update(`${fileId}/${filename}\n${expires}`).digest('hex');
  }

  function view(cmd: FakeCommand): Record<string, unknown> {
    const status = statusOf(cmd);
    const done = status === 'SUCCESS' || status === 'FAILED';
    const seconds = done && cmd.finishedAt !== null ? Math.round((cmd.finishedAt - cmd.createdAt) / 100) / 10 : null;
    const outputFiles: Record<string, unknown> = {};
    for (const out of Object.values(cmd.outputs)) outputFiles[out.alias] = fileMeta(cmd, out, status);
    return {
      command_id: cmd.id,
      status,
      command_type: 'YTDLP_COMMAND',
      total_processing_seconds: seconds,
      ffmpeg_command_run_seconds: cmd.ffmpegCommand && status === 'SUCCESS' ? 0.4 : null,
      metadata: cmd.metadata,
      error_status: status === 'FAILED' ? cmd.failure?.status ?? null : null,
      error_message: status === 'FAILED' ? cmd.failure?.message ?? null : null,
      ...(status === 'FAILED' && cmd.failure?.error != null ? { error: cmd.failure.error } : {}),
      output_files: outputFiles,
      original_request: {
        input_urls: cmd.inputUrls,
        output_files: cmd.endpoint === 'run-ytdlp-command' && cmd.ffmpegCommand ? cmd.outputFiles : Object.fromEntries(Object.values(cmd.outputs).map((o) => [o.alias, o.filename])),
        ...(cmd.ffmpegCommand ? { ffmpeg_command: cmd.ffmpegCommand } : {}),
        ...(cmd.endpoint === 'ytdlp-download' ? { format_selector: cmd.formatSelector } : {}),
      },
      // Not in the docs: a client must not choke on fields it does not know.
      created_at: new Date(cmd.createdAt).toISOString(),
      vendor_trace: { region: 'fake-1', attempt: 1 },
    };
  }

  function fileMeta(cmd: FakeCommand, out: OutputRecord, status: Status): Record<string, unknown> {
    // Field order as rio:get lists OutputFileMeta (providers.md 1.2): file_id, storage_url, status,
    // rendi_store_type, is_deleted, filename, size_mbytes, then the optional description fields.
    const base = (storageUrl: string | null, fileStatus: 'PROCESSING' | 'STORED' | 'FAILED', sizeMbytes: number | null) => ({
      file_id: out.fileId,
      storage_url: storageUrl,
      status: fileStatus,
      rendi_store_type: 'OUTPUT',
      is_deleted: cmd.filesDeleted,
      filename: out.filename,
      size_mbytes: sizeMbytes,
    });
    if (status !== 'SUCCESS' || !out.media) return base(null, status === 'FAILED' ? 'FAILED' : 'PROCESSING', null);
    if (switches.resignOnPoll) out.url = sign(out, now());
    const m = out.media;
    return {
      ...base(cmd.filesDeleted ? null : out.url, 'STORED', Math.round((m.bytes / 1024 / 1024) * 1e6) / 1e6),
      duration: m.durationSeconds,
      file_type: m.height ? 'video' : 'audio',
      file_format: m.ext,
      codec: m.videoCodec ?? m.audioCodec,
      pixel_format: m.videoCodec ? 'yuv420p' : null,
      mime_type: m.mimeType,
      width: m.width,
      height: m.height,
      frame_rate: m.frameRate,
      bitrate_video_kb: m.bitrateVideoKb,
      bitrate_audio_kb: m.bitrateAudioKb,
    };
  }

  // ---- request validation -------------------------------------------------------------------

  function requireObjectBody(contentType: string, raw: string): Record<string, unknown> {
    const type = contentType.toLowerCase();
    if (!type.startsWith('application/json')) throw validation(['body'], 'Content-Type must be application/json', 'type_error');
    let body: unknown;
    try {
      body = JSON.parse(raw);
    } catch {
      throw validation(['body'], 'Invalid JSON', 'value_error');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) throw validation(['body'], 'Input should be a valid dictionary or object', 'type_error');
    return body as Record<string, unknown>;
  }

  function checkInputUrls(value: unknown): Record<string, string> {
    if (value === undefined || value === null) throw invalid('input_urls is required.');
    if (typeof value !== 'object' || Array.isArray(value)) throw invalid('input_urls must be an object of in_* keys to URLs.');
    const entries = Object.entries(value as Record<string, unknown>);
    if (!entries.length) throw invalid('input_urls must contain at least one URL.');
    for (const [k, v] of entries) {
      if (!IN_KEY.test(k)) throw invalid(`Invalid input key "${k}": keys must start with in_ and contain only letters, digits and underscores.`);
      if (typeof v !== 'string') throw invalid(`input_urls.${k} must be a string URL.`);
      let u: URL;
      try {
        u = new URL(v);
      } catch {
        throw invalid(`input_urls.${k} is not a valid URL.`);
      }
      if (u.protocol !== 'https:' && u.protocol !== 'http:') throw invalid(`input_urls.${k} must be an http(s) URL.`);
    }
    return value as Record<string, string>;
  }

  function checkMetadata(value: unknown): FakeCommand['metadata'] {
    if (value === undefined || value === null) return null;
    if (typeof value !== 'object' || Array.isArray(value)) throw invalid('metadata must be an object.');
    const entries = Object.entries(value as Record<string, unknown>);
    if (entries.length > MAX_METADATA_KEYS) throw invalid(`metadata can have at most ${MAX_METADATA_KEYS} keys (got ${entries.length}).`);
    for (const [k, v] of entries) {
      if (!['string', 'number', 'boolean'].includes(typeof v)) throw invalid(`metadata.${k} must be a string, number or boolean.`);
    }
    return value as FakeCommand['metadata'];
  }

  function createCommand(key: string, endpoint: FakeCommand['endpoint'], body: Record<string, unknown>): FakeCommand {
    const inputUrls = checkInputUrls(body.input_urls);
    let formatSelector = 'best';
    let ffmpegCommand: string | null = null;
    let outputFiles: Record<string, string> = {};
    if (endpoint === 'ytdlp-download') {
      if ('ffmpeg_command' in body || 'output_files' in body) {
        throw invalid('ffmpeg_command and output_files are not allowed on /ytdlp-download; use /run-ytdlp-command.');
      }
      if (body.format_selector !== undefined) {
        if (typeof body.format_selector !== 'string' || !(FORMAT_SELECTORS as readonly string[]).includes(body.format_selector)) {
          throw invalid(`format_selector must be one of ${FORMAT_SELECTORS.join(', ')}.`);
        }
        formatSelector = body.format_selector;
      }
    } else {
      if (body.ffmpeg_command !== undefined && body.ffmpeg_command !== null) {
        if (typeof body.ffmpeg_command !== 'string' || !body.ffmpeg_command.trim()) throw invalid('ffmpeg_command must be a non-empty string.');
        if (/^\s*ffmpeg\b/.test(body.ffmpeg_command)) throw invalid('ffmpeg_command must not start with "ffmpeg".');
        ffmpegCommand = body.ffmpeg_command;
        const of = body.output_files;
        if (of === undefined || of === null) throw invalid('output_files is required when ffmpeg_command is given.');
        if (typeof of !== 'object' || Array.isArray(of) || !Object.keys(of).length) throw invalid('output_files must be an object of out_* keys to file names.');
        for (const [k, v] of Object.entries(of as Record<string, unknown>)) {
          if (!OUT_KEY.test(k)) throw invalid(`Invalid output key "${k}": keys must start with out_ and contain only letters, digits and underscores.`);
          if (typeof v !== 'string' || !/^[^/\\]+\.[A-Za-z0-9]{1,5}$/.test(v)) throw invalid(`output_files.${k} must be a file name with an extension.`);
          if (!ffmpegCommand.includes(`{{${k}}}`)) throw invalid(`ffmpeg_command must reference every output file: {{${k}}} is missing.`);
        }
        outputFiles = of as Record<string, string>;
        for (const m of ffmpegCommand.matchAll(/\{\{([^}]*)\}\}/g)) {
          const ref = m[1]!;
          if (!(ref in inputUrls) && !(ref in outputFiles)) throw invalid(`ffmpeg_command refers to {{${ref}}}, which is neither an input_urls nor an output_files key.`);
        }
      } else if (body.output_files !== undefined && body.output_files !== null) {
        throw invalid('output_files needs an ffmpeg_command.');
      }
    }
    const metadata = checkMetadata(body.metadata);
    const cmd: FakeCommand = {
      id: randomUUID(),
      key,
      seq: ++seq,
      createdAt: now(),
      endpoint,
      inputUrls,
      formatSelector,
      ffmpegCommand,
      outputFiles,
      metadata,
      outcome: {},
      polls: 0,
      finishedAt: null,
      terminal: null,
      failure: null,
      outputs: {},
      filesDeleted: false,
    };
    cmd.outcome = outcomeFor(cmd);
    const aliases: Record<string, string> = ffmpegCommand
      ? outputFiles
      : Object.fromEntries(
          Object.keys(inputUrls).map((k) => {
            const suffix = k.slice(3);
            return [`out_${suffix}`, `${suffix}.${formatSelector === 'audio_only' ? 'm4a' : 'mp4'}`];
          }),
        );
    for (const [alias, filename] of Object.entries(aliases)) cmd.outputs[alias] = { fileId: randomUUID(), alias, filename, media: null, url: null };
    commands.set(cmd.id, cmd);
    return cmd;
  }

  function listCommands(key: string, query: URLSearchParams): Record<string, unknown> {
    const int = (name: string, def: number, min: number, max: number) => {
      const v = query.get(name);
      if (v === null) return def;
      if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw invalid(`${name} must be an integer from ${min} to ${max}.`);
      return Number(v);
    };
    const limit = int('limit', 50, 1, 100);
    const offset = int('offset', 0, 0, Number.MAX_SAFE_INTEGER);
    const status = query.get('status');
    if (status !== null && !(COMMAND_STATUSES as readonly string[]).includes(status)) throw invalid(`status must be one of ${COMMAND_STATUSES.join(', ')}.`);
    const mine = [...commands.values()].filter((c) => c.key === key).sort((a, b) => b.createdAt - a.createdAt || b.seq - a.seq);
    const filtered = status ? mine.filter((c) => statusOf(c) === status) : mine;
    return { commands: filtered.slice(offset, offset + limit).map(view), limit, offset };
  }

  // ---- rate limit ---------------------------------------------------------------------------

  /** Counts a request against `bucket`; returns what is left, or the seconds to wait if over. */
  function take(bucket: string): { remaining: number; retryAfter: number | null } {
    const t = now();
    const window = (windows.get(bucket) ?? []).filter((x) => x > t - 60_000);
    windows.set(bucket, window);
    const limit = switches.rateLimitPerMinute;
    if (window.length >= limit) {
      const oldest = window[0] ?? t;
      return { remaining: 0, retryAfter: Math.max(1, Math.ceil((oldest + 60_000 - t) / 1000)) };
    }
    window.push(t);
    return { remaining: limit - window.length, retryAfter: null };
  }

  // ---- HTTP ---------------------------------------------------------------------------------

  async function readBody(req: IncomingMessage): Promise<string | null> {
    if (req.method === 'GET' || req.method === 'HEAD') {
      req.resume();
      return null;
    }
    const chunks: Buffer[] = [];
    let n = 0;
    for await (const c of req as AsyncIterable<Buffer>) {
      n += c.length;
      if (n > MAX_BODY) throw new HttpError(413, { error: 'PAYLOAD_TOO_LARGE', message: 'Request body is too large.' });
      chunks.push(c);
    }
    return Buffer.concat(chunks).toString('utf8');
  }

  function record(server: 'api' | 'storage', req: IncomingMessage, url: URL, raw: string | null): RenderIoRequestRecord {
    let body: unknown = null;
    if (raw !== null && raw !== '') {
      try {
        body = JSON.parse(raw);
      } catch {
        body = raw;
      }
    }
    const key = req.headers['x-api-key'];
    const entry: RenderIoRequestRecord = {
      server,
      method: req.method ?? 'GET',
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      apiKey: typeof key === 'string' ? key : null,
      contentType: req.headers['content-type'] ?? null,
      range: req.headers.range ?? null,
      body,
      status: 0,
      at: now(),
    };
    requests.push(entry);
    return entry;
  }

  function send(res: ServerResponse, entry: RenderIoRequestRecord, status: number, body: unknown, headers: Record<string, string> = {}): void {
    entry.status = status;
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, { 'content-type': typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json', 'content-length': String(Buffer.byteLength(text)), ...headers });
    res.end(text);
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    if (storageMode === 'api' && url.pathname.startsWith('/storage/')) return handleStorage(req, res, url.pathname.slice('/storage'.length));
    let raw: string | null = null;
    let entry: RenderIoRequestRecord;
    try {
      raw = await readBody(req);
    } catch (err) {
      entry = record('api', req, url, null);
      const e = err as HttpError;
      send(res, entry, e.status ?? 400, e.body ?? { error: 'INVALID_REQUEST', message: 'Could not read the body.' });
      return;
    }
    entry = record('api', req, url, raw);
    const route = url.pathname.startsWith('/api/v1/') ? url.pathname.slice('/api/v1'.length) : null;
    const method = req.method ?? 'GET';

    const fault = faults.find((f) => f.left > 0 && (!f.path || (route ?? '').startsWith(f.path)) && (!f.method || f.method === method));
    if (fault) {
      fault.left--;
      if (fault.left === 0) faults.splice(faults.indexOf(fault), 1);
      send(res, entry, fault.status, fault.body ?? (fault.status === 429 ? { error: 'RATE_LIMITED', message: 'Too many requests.' } : `${fault.status} from the fake gateway`), fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {});
      return;
    }

    const key = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : null;
    const valid = key !== null && keys.has(key);
    const bucket = take(valid ? `key:${key}` : `anon:${req.socket.remoteAddress}`);
    const rl = { 'x-ratelimit-remaining': String(bucket.remaining) };
    try {
      if (!valid) throw new HttpError(401, { error: 'UNAUTHORIZED', message: key === null ? 'Missing API key. Send it in the X-API-KEY header.' : 'Invalid API key.' });
      if (bucket.retryAfter !== null) {
        throw new HttpError(429, { error: 'RATE_LIMITED', message: `Rate limit of ${switches.rateLimitPerMinute} requests per minute exceeded.` }, { 'retry-after': String(bucket.retryAfter) });
      }
      if (route === null) throw new HttpError(404, { error: 'NOT_FOUND', message: 'Not found.' });
      send(res, entry, 200, route_(method, route, url, key, raw, req.headers['content-type'] ?? ''), rl);
    } catch (err) {
      if (!(err instanceof HttpError)) {
        send(res, entry, 500, { error: 'INTERNAL_ERROR', message: 'Unexpected error.' }, rl);
        return;
      }
      send(res, entry, err.status, err.body, { ...rl, ...err.headers });
    }
  }

  function route_(method: string, route: string, url: URL, key: string, raw: string | null, contentType: string): unknown {
    const download = route === '/ytdlp-download' || route === '/run-ytdlp-command';
    if (download) {
      if (method !== 'POST') throw new HttpError(405, { error: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed here.` });
      if (switches.planRefused) {
        throw new HttpError(403, { error: 'FORBIDDEN', message: 'Video downloads are available during trials and on the Growth plan or higher.' });
      }
      const body = requireObjectBody(contentType, raw ?? '');
      const cmd = createCommand(key, route === '/ytdlp-download' ? 'ytdlp-download' : 'run-ytdlp-command', body);
      return { command_id: cmd.id };
    }
    if (route === '/commands') {
      if (method !== 'GET') throw new HttpError(405, { error: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed here.` });
      return listCommands(key, url.searchParams);
    }
    const m = /^\/commands\/([^/]+)(\/files)?$/.exec(route);
    if (m) {
      const cmd = commands.get(decodeURIComponent(m[1]!));
      if (!cmd || cmd.key !== key) throw new HttpError(404, { error: 'NOT_FOUND', message: 'Command not found.' });
      if (m[2]) {
        if (method !== 'DELETE') throw new HttpError(405, { error: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed here.` });
        cmd.filesDeleted = true;
        for (const o of Object.values(cmd.outputs)) files.delete(o.fileId);
        return { success: true, command_id: cmd.id };
      }
      if (method !== 'GET') throw new HttpError(405, { error: 'METHOD_NOT_ALLOWED', message: `${method} is not allowed here.` });
      cmd.polls++;
      return view(cmd);
    }
    throw new HttpError(404, { error: 'NOT_FOUND', message: 'Not found.' });
  }

  function handleStorage(req: IncomingMessage, res: ServerResponse, path?: string): void {
    const url = new URL(req.url ?? '/', 'http://fake');
    const entry = record('storage', req, url, null);
    req.resume();
    const m = /^\/files\/([^/]+)\/([^/]+)$/.exec(path ?? url.pathname);
    const deny = (status: number, code: string, message: string) => {
      entry.status = status;
      res.writeHead(status, { 'content-type': 'application/xml' }).end(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>${code}</Code><Message>${message}</Message></Error>`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return deny(405, 'MethodNotAllowed', 'Method not allowed');
    if (!m) return deny(404, 'NoSuchKey', 'The specified key does not exist.');
    const fileId = m[1]!;
    const filename = decodeURIComponent(m[2]!);
    const expires = Number(url.searchParams.get('expires'));
    const sig = url.searchParams.get('signature') ?? '';
    if (!Number.isFinite(expires) || sig !== signature(fileId, filename, expires)) return deny(403, 'AccessDenied', 'Invalid signature');
    if (Math.floor(now() / 1000) > expires) return deny(403, 'AccessDenied', 'Request has expired');
    const file = files.get(fileId);
    if (!file?.media || file.filename !== filename) return deny(404, 'NoSuchKey', 'The specified key does not exist.');
    entry.status = req.headers.range ? 206 : 200;
    res.on('finish', () => (entry.status = res.statusCode));
    serveFile(req, res, file.media.path, { 'cache-control': 'private, max-age=0' });
  }

  const handlerApi = (req: IncomingMessage, res: ServerResponse) => {
    handleApi(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500).end();
    });
  };
  const handlerStorage = (req: IncomingMessage, res: ServerResponse) => handleStorage(req, res);

  const make = (h: (req: IncomingMessage, res: ServerResponse) => void): Server => (opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, h) : createHttpServer(h));
  const listen = (s: Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => resolve((s.address() as AddressInfo).port));
    });
  const proto = opts.tls ? 'https' : 'http';
  const api = make(handlerApi);
  const apiPort = await listen(api, opts.port ?? 0);
  let storage: Server | null = null;
  let storageOrigin = `${proto}://127.0.0.1:${apiPort}`;
  if (storageMode === 'separate') {
    storage = make(handlerStorage);
    storageOrigin = `${proto}://127.0.0.1:${await listen(storage, opts.storagePort ?? 0)}`;
  }
  storagePublic = opts.publicStorageOrigin ?? storageOrigin;

  const closeServer = (s: Server) =>
    new Promise<void>((resolve) => {
      s.closeAllConnections();
      s.close(() => resolve());
    });

  return {
    baseUrl: `${proto}://127.0.0.1:${apiPort}/api/v1`,
    storageOrigin,
    clock: { now, advance: (ms: number) => void (offset += ms) },
    switches,
    requests,
    clearLog: () => void requests.splice(0),
    setOutcome: (url, outcome) => void outcomes.set(url, outcome),
    addKey: (k) => void keys.add(k),
    revokeKey: (k) => void keys.delete(k),
    failNext: (fault) => void faults.push({ ...fault, left: fault.times ?? 1 }),
    command: (id) => commands.get(id),
    outputFile: (id, alias) => commands.get(id)?.outputs[alias]?.media ?? undefined,
    media,
    close: async () => {
      await Promise.all([closeServer(api), ...(storage ? [closeServer(storage)] : [])]);
    },
  };
}
