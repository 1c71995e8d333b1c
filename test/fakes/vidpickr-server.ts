/**
 * A local VidPickr: the contract of shared/providers.md section 2 (and its open-question defaults
 * 8-13), served from 127.0.0.1 over http, or https when given a certificate so a browser can reach
 * it at api.vidpickr.com. Same fake for unit, e2e, demo and bench.
 *
 * `/v1/info` of the documented video (dQw4w9WgXcQ) is the vendor's own example (seed 001, "GET
 * /v1/info — response") field for field and in its order: `title, duration_sec, platform,
 * thumbnail, resolutions, audio_only, subtitles`; resolutions `{height, video_only}` with 1080
 * listing AV1 `ext: "mp4"` then VP9 `ext: "webm"` (720: H.264 mp4 + VP9 webm, 480: H.264 mp4: the
 * example elides them); video entries `{ext, vcodec, size_mb, download_token}`; audio_only
 * `{ext, acodec, bitrate, size_mb, download_token}`: M4A AAC 128 then WebM Opus 160; subtitles
 * `{language, kind, download_token}`. Nothing the example does not show (no `bitrate` or
 * `endpoint` on video entries, no SDK-only fields) unless a test asks for it.
 * test/fakes/contracts/vidpickr.contract.test.ts holds it to that.
 *
 * What it does, exactly:
 * - `/v1/info`, `/v1/split_token`, `/v1/stream`, `/v1/subtitle` (and `/api/v1/*` as an alias);
 * - `X-API-Key` auth: 401 `missing_api_key` / `invalid_api_key`, 402 `plus_required`;
 * - errors as `{"error":{"code","message"}}`;
 * - per-user (not per-key) limits per endpoint, per minute AND per hour, from the seed's table, on a
 *   clock the tests control; `X-RateLimit-Remaining` (slots left this minute) on every response;
 *   429 `rate_limited` with `Retry-After` (integer seconds);
 * - HMAC-signed tokens `v1.` (video and merge), `a1.` (audio), `s1.` (subtitle) + base64url JSON
 *   `{V, T, E, ...}` (the seed's tokens decode to `{"V":"v1","T":"av01","E":17...`) + signature;
 *   they expire 600 s after /info: 400 `bad_request` "token expired", a bad signature "invalid
 *   token", a subtitle token on /stream "token has no source", a non-merge token on /split_token
 *   400, a merge token on /stream 400 (INFERRED);
 * - the `merge-only` shape (seed 001's split_token section: "Video formats in /v1/info return
 *   tokens that bundle both the video and audio source URLs ... (the response field marks them
 *   with endpoint: "merge")"): resolutions `{height, download_token, endpoint: "merge"}` and no
 *   `video_only`; those tokens must go through /v1/split_token;
 * - `/stream` serves real single-track media in the container the entry's `ext` names: WebM
 *   (`video/webm`, `audio/webm`) for `webm`, fragmented MP4 (`video/mp4`, `audio/mp4`) for `mp4` /
 *   `m4a`, with Content-Length (unless the `no_content_length` fault is on: then it streams
 *   chunked and ignores Range) and Content-Disposition. It answers single byte ranges with 206:
 *   the vendor does NOT document Range; the fake honours it so resumes can be tested (open
 *   question 12);
 * - `/info` lists formats in a different order on every call after the first (the seed says "Format
 *   order is not stable across requests"); the first answer of a server is in the example's order.
 *   `unknownFields: true` adds fields the client does not know (the seed says "new fields on
 *   responses ... ship inside v1 without notice").
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { renderCues, vidpickrMedia, VIDPICKR_CLIP_SECONDS, VIDPICKR_CUES, type Cue } from '../fixtures/vidpickr-media';
import { parseRange } from './static-range';

export const VIDPICKR_ENDPOINTS = ['info', 'stream', 'split_token', 'subtitle'] as const;
export type VidPickrEndpoint = (typeof VIDPICKR_ENDPOINTS)[number];

/** The seed's rate-limit table (Plus tier). */
export const VIDPICKR_LIMITS: Record<VidPickrEndpoint, { perMinute: number; perHour: number }> = {
  info: { perMinute: 100, perHour: 2000 },
  stream: { perMinute: 60, perHour: 1500 },
  split_token: { perMinute: 100, perHour: 2000 },
  subtitle: { perMinute: 100, perHour: 2000 },
};

/** Token lifetime (open question 11). */
export const TOKEN_TTL_SECONDS = 600;

/** A key the fake knows. Keys of the same `user` share rate limits. */
export interface FakeKey {
  key: string;
  /** Defaults to the key itself. */
  user?: string;
  /** Without Plus the key gets 402 plus_required. Default true. */
  plus?: boolean;
}

/** A default valid key (long enough to be masked as `vpk_live_...`). */
export const VIDPICKR_TEST_KEY = 'vpk_live_fake0123456789abcdefTESTKEY1';
/** A key whose owner has no Plus subscription. */
export const VIDPICKR_FREE_KEY = 'vpk_live_free0123456789abcdefNOPLUS22';

export interface FakeVideoVariant {
  vcodec: string;
  /** `mp4` (served as fMP4, `video/mp4`) or `webm` (`video/webm`): must be what `file` is. */
  ext: string;
  /** The single-track file served for it. */
  file: string;
}

export interface FakeAudio {
  acodec: string;
  /** `m4a` (fMP4, `audio/mp4`) or `webm` (`audio/webm`): must be what `file` is. */
  ext: string;
  /** kbps, what /info reports. */
  bitrate: number;
  file: string;
}

export interface FakeSubtitle {
  code: string;
  name: string;
  isAuto: boolean;
  cues: Cue[];
}

/** One YouTube video the fake can resolve. */
export interface FakeVideo {
  /** The 11-character YouTube id. */
  id: string;
  title: string;
  durationSec: number;
  /**
   * `codec-lists`: each resolution is `{height, video_only}` with per-codec entries (the seed's
   * /info example, exactly); `merge-only`: `{height, download_token, endpoint: "merge"}` per height
   * and no `video_only` (the seed's split_token section; what the Python SDK describes).
   */
  shape: 'codec-lists' | 'merge-only';
  /** Per height, codec variants; the first is what the server picks for the merge token. */
  resolutions: Array<{ height: number; variants: FakeVideoVariant[] }>;
  audio: FakeAudio[];
  subtitles: FakeSubtitle[];
  /** `seed` (default): `language, kind, download_token` (the /info example); `sdk`: `code, name, is_auto, download_token, filename`. */
  subtitleFields?: 'sdk' | 'seed';
  /** In `codec-lists`, mark video_only entries `endpoint: "merge"` (their tokens then need /split_token). */
  videoOnlyEndpoint?: 'stream' | 'merge';
}

/** What can be made to go wrong, per endpoint. */
export type FakeFault =
  /** 429 rate_limited with Retry-After (default 3 s). */
  | { kind: 'rate_limited'; retryAfter?: number }
  /** 502 upstream_failed. */
  | { kind: 'upstream_failed' }
  /** 500 lookup_failed. */
  | { kind: 'lookup_failed' }
  /** A status with a body that is not JSON (a proxy's HTML page). */
  | { kind: 'non_json'; status: number }
  /** /stream only: no Content-Length, Range ignored, body chunked until the connection closes. */
  | { kind: 'no_content_length' };

export interface LoggedRequest {
  /** Fake-clock time. */
  at: number;
  method: string;
  /** Path as requested (e.g. /v1/info or /api/v1/info). */
  path: string;
  endpoint: VidPickrEndpoint | null;
  query: Record<string, string>;
  /** The X-API-Key header as received, or null. */
  apiKey: string | null;
  range: string | null;
  status: number;
  /** Every request header, as received. */
  headers: IncomingMessage['headers'];
}

export interface VidPickrFakeOptions {
  port?: number;
  /** Serve https with this certificate (PEM). */
  tls?: { key: string; cert: string };
  /** Host name put in `url`/`baseUrl` (e.g. api.vidpickr.com when the browser maps it here). */
  hostname?: string;
  /** The clock for token expiry and rate windows. Default Date.now; `clock.advance` adds to it. */
  now?: () => number;
  /** Valid keys. Default: {@link VIDPICKR_TEST_KEY} (Plus) and {@link VIDPICKR_FREE_KEY} (no Plus). */
  keys?: Array<string | FakeKey>;
  /** Videos by id. Default: {@link defaultVidPickrVideos} over the fixtures. */
  videos?: FakeVideo[];
  /** Override the seed's limits (e.g. tiny ones for a test). */
  limits?: Partial<Record<VidPickrEndpoint, { perMinute: number; perHour: number }>>;
  /** Token lifetime in seconds. Default 600. */
  tokenTtlSeconds?: number;
  /** Shuffle list order on every /info. Default true. */
  shuffle?: boolean;
  /** HMAC secret. Default random-ish per server. */
  secret?: string;
  /**
   * Add fields the seed's example does not show (`uploader`, `view_count`, a resolution's `fps`, a
   * video entry's `dynamic_range`, an audio entry's `language`), as VidPickr may ("Non-breaking
   * additions — new fields on responses ... ship inside v1 without notice"). Default false.
   */
  unknownFields?: boolean;
}

export interface VidPickrFake {
  /** e.g. http://127.0.0.1:41234 */
  url: string;
  /** e.g. http://127.0.0.1:41234/v1 */
  baseUrl: string;
  server: Server;
  close(): Promise<void>;
  clock: { now(): number; advance(ms: number): void; set(ms: number): void };
  /** Every request, in order. */
  requests: LoggedRequest[];
  clearLog(): void;
  /** Makes the next `times` requests to `endpoint` ('*' = any) fail with `fault`. */
  fault(endpoint: VidPickrEndpoint | '*', fault: FakeFault, times?: number): void;
  clearFaults(): void;
  videos: Map<string, FakeVideo>;
  /** /stream connections open now, and the most there ever were at once. */
  streams: { active: number; peak: number };
  /** Signs a token as the server would (for forged/expired-token tests pass `sign: false`). */
  mintToken(prefix: 'v1' | 'a1' | 's1', payload: Record<string, unknown>, opts?: { sign?: boolean }): string;
  /** Called with each request as it arrives, before it is answered (tests use it to move the clock). */
  onRequest: ((request: LoggedRequest) => void) | null;
  /** Requests counted against a user's limits in the current windows. */
  usage(user: string, endpoint: VidPickrEndpoint): { minute: number; hour: number };
}

/**
 * The default catalog, over the VidPickr fixtures: the documented video `dQw4w9WgXcQ` in the /info
 * example's shape and order, and `MergeOnly01` with only merge tokens per height.
 */
export async function defaultVidPickrVideos(): Promise<FakeVideo[]> {
  const m = await vidpickrMedia();
  // seed 001: 1080 lists AV1 in MP4 then VP9 in WebM. 720 and 480 are elided there ("One entry per
  // available height, with codec variants under video_only"): YouTube's usual H.264 MP4 + VP9 WebM
  // at 720 and H.264 only at 480.
  const resolutions = [
    {
      height: 1080,
      variants: [
        { vcodec: 'av01.0.08M.08', ext: 'mp4', file: m.av1_1080 },
        { vcodec: 'vp09.00.50.08', ext: 'webm', file: m.vp9_1080 },
      ],
    },
    {
      height: 720,
      variants: [
        { vcodec: 'avc1.4d401f', ext: 'mp4', file: m.h264_720 },
        { vcodec: 'vp09.00.31.08', ext: 'webm', file: m.vp9_720 },
      ],
    },
    { height: 480, variants: [{ vcodec: 'avc1.4d401e', ext: 'mp4', file: m.h264_480 }] },
  ];
  // seed 001: M4A AAC 128 kbps, then WebM Opus 160 kbps.
  const audio = [
    { acodec: 'mp4a.40.2', ext: 'm4a', bitrate: 128, file: m.aac },
    { acodec: 'opus', ext: 'webm', bitrate: 160, file: m.opus },
  ];
  const subtitles = [
    { code: 'en', name: 'English', isAuto: false, cues: VIDPICKR_CUES.en! },
    { code: 'tr', name: 'Turkish (auto-generated)', isAuto: true, cues: VIDPICKR_CUES.tr! },
  ];
  return [
    { id: 'dQw4w9WgXcQ', title: 'Never Gonna Give You Up', durationSec: VIDPICKR_CLIP_SECONDS, shape: 'codec-lists', resolutions, audio, subtitles, subtitleFields: 'seed' },
    // The split_token example reads `.code` / `.is_auto`, as both SDKs do: this video answers in
    // the SDKs' subtitle shape (providers.md open question 9).
    { id: 'MergeOnly01', title: 'Merge-only video', durationSec: VIDPICKR_CLIP_SECONDS, shape: 'merge-only', resolutions, audio, subtitles, subtitleFields: 'sdk' },
  ];
}

const YT_ID = /(?:[?&]v=|youtu\.be\/|\/shorts\/|\/embed\/|\/live\/)([\w-]{6,})/;
const YT_HOST = /^(?:(?:www|m|music)\.)?(?:youtube\.com|youtu\.be)$/i;

function b64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

/** Starts the fake on 127.0.0.1. */
export async function startVidPickrFake(opts: VidPickrFakeOptions = {}): Promise<VidPickrFake> {
  const baseNow = opts.now ?? (() => Date.now());
  let offset = 0;
  const clock = {
    now: () => baseNow() + offset,
    advance: (ms: number) => void (offset += ms),
    set: (ms: number) => void (offset = ms - baseNow()),
  };
  const secret = opts.secret ?? `vidpickr-fake-${process.pid}-${Math.random()}`;
  const ttl = opts.tokenTtlSeconds ?? TOKEN_TTL_SECONDS;
  const limits = { ...VIDPICKR_LIMITS, ...opts.limits };
  const shuffle = opts.shuffle ?? true;
  const unknownFields = opts.unknownFields ?? false;
  const keys = new Map<string, { user: string; plus: boolean }>();
  for (const k of opts.keys ?? [VIDPICKR_TEST_KEY, { key: VIDPICKR_FREE_KEY, plus: false }]) {
    const spec = typeof k === 'string' ? { key: k } : k;
    keys.set(spec.key, { user: spec.user ?? spec.key, plus: spec.plus ?? true });
  }
  const videos = new Map((opts.videos ?? (await defaultVidPickrVideos())).map((v) => [v.id, v]));
  const requests: LoggedRequest[] = [];
  const faults: Array<{ endpoint: VidPickrEndpoint | '*'; fault: FakeFault; left: number }> = [];
  const counters = new Map<string, number>();
  const streams = { active: 0, peak: 0 };
  let infoCalls = 0;
  // eslint-disable-next-line prefer-const
  let api: VidPickrFake;

  // ---- tokens -----------------------------------------------------------------------------------
  const sign = (body: string) => createHmac('sha256', secret).update(body).digest().subarray(0, 16);
  const mintToken = (prefix: 'v1' | 'a1' | 's1', payload: Record<string, unknown>, o: { sign?: boolean } = {}) => {
    const body = `${prefix}.${b64url(JSON.stringify({ V: prefix, ...payload }))}`;
    const sig = o.sign === false ? b64url(Buffer.alloc(16, 7)) : b64url(sign(body));
    return `${body}.${sig}`;
  };
  type Token = { prefix: string; p: Record<string, any> };
  /** The token, or the error message to answer 400 with. */
  const readToken = (token: string): Token | string => {
    const m = /^(v1|a1|s1)\.([A-Za-z0-9_-]+)\.([A-Za-z0-9_-]+)$/.exec(token);
    if (!m) return 'invalid token';
    const expected = sign(`${m[1]}.${m[2]}`);
    const got = Buffer.from(m[3]!, 'base64url');
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return 'invalid token';
    let p: Record<string, any>;
    try {
      p = JSON.parse(Buffer.from(m[2]!, 'base64url').toString('utf8'));
    } catch {
      return 'invalid token';
    }
    if (typeof p.E !== 'number' || clock.now() >= p.E * 1000) return 'token expired';
    return { prefix: m[1]!, p };
  };
  const expiry = () => Math.floor(clock.now() / 1000) + ttl;

  // ---- rate limits ------------------------------------------------------------------------------
  const windows = () => ({ minute: Math.floor(clock.now() / 60_000), hour: Math.floor(clock.now() / 3_600_000) });
  const usage = (user: string, endpoint: VidPickrEndpoint) => {
    const w = windows();
    return { minute: counters.get(`${user}|${endpoint}|m|${w.minute}`) ?? 0, hour: counters.get(`${user}|${endpoint}|h|${w.hour}`) ?? 0 };
  };
  /** Counts one request; returns Retry-After seconds when over a limit. */
  const take = (user: string, endpoint: VidPickrEndpoint): number | null => {
    const w = windows();
    const u = usage(user, endpoint);
    const lim = limits[endpoint];
    const now = clock.now();
    if (u.hour >= lim.perHour) return Math.max(1, Math.ceil(((w.hour + 1) * 3_600_000 - now) / 1000));
    if (u.minute >= lim.perMinute) return Math.max(1, Math.ceil(((w.minute + 1) * 60_000 - now) / 1000));
    counters.set(`${user}|${endpoint}|m|${w.minute}`, u.minute + 1);
    counters.set(`${user}|${endpoint}|h|${w.hour}`, u.hour + 1);
    return null;
  };
  const remaining = (user: string | null, endpoint: VidPickrEndpoint | null) => {
    if (!endpoint) return 0;
    if (!user) return limits[endpoint].perMinute;
    return Math.max(0, limits[endpoint].perMinute - usage(user, endpoint).minute);
  };

  // ---- the handler -------------------------------------------------------------------------------
  let origin = '';
  const publicOrigin = () => origin;
  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const u = new URL(req.url ?? '/', 'http://fake');
    const path = u.pathname;
    // Thumbnails: the real ones live on YouTube's image host; tests must never reach out, so the
    // fake serves a small picture itself (no key needed, like an image CDN).
    const thumb = /^\/thumbs\/([\w-]{6,20})\.svg$/.exec(path);
    if (thumb) {
      res.writeHead(200, { 'content-type': 'image/svg+xml', 'cache-control': 'max-age=3600' });
      res.end(`<svg xmlns="http://www.w3.org/2000/svg" width="320" height="180"><rect width="320" height="180" fill="#2b5797"/><text x="160" y="98" font-family="sans-serif" font-size="22" fill="#fff" text-anchor="middle">${thumb[1]}</text></svg>`);
      return;
    }
    const m = /^(?:\/api)?\/v1\/([a-z_]+)\/?$/.exec(path);
    const endpoint = m && (VIDPICKR_ENDPOINTS as readonly string[]).includes(m[1]!) ? (m[1] as VidPickrEndpoint) : null;
    const apiKeyHeader = req.headers['x-api-key'];
    const apiKey = typeof apiKeyHeader === 'string' ? apiKeyHeader : null;
    const entry: LoggedRequest = {
      at: clock.now(),
      method: req.method ?? 'GET',
      path,
      endpoint,
      query: Object.fromEntries(u.searchParams),
      apiKey,
      range: req.headers.range ?? null,
      status: 0,
      headers: req.headers,
    };
    requests.push(entry);
    api.onRequest?.(entry);
    let user: string | null = null;

    const head = (status: number, headers: Record<string, string | number>) => {
      entry.status = status;
      res.writeHead(status, { 'x-ratelimit-remaining': String(remaining(user, endpoint)), 'cache-control': 'no-store', ...headers });
    };
    const error = (status: number, code: string, message: string, extra: Record<string, string | number> = {}) => {
      head(status, { 'content-type': 'application/json', ...extra });
      res.end(JSON.stringify({ error: { code, message } }));
    };
    const json = (body: unknown) => {
      const text = JSON.stringify(body);
      head(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    };

    if (!endpoint) return error(404, 'not_found', `no such endpoint: ${path}`);
    if (req.method !== 'GET' && req.method !== 'HEAD') return error(405, 'method_not_allowed', 'only GET is supported');

    // Auth.
    if (apiKey === null || apiKey === '') return error(401, 'missing_api_key', 'missing X-API-Key header');
    const account = keys.get(apiKey);
    if (!account) return error(401, 'invalid_api_key', 'API key not recognized or revoked');
    if (!account.plus) return error(402, 'plus_required', 'an active Plus subscription is required for API access');
    user = account.user;

    // Injected faults.
    const fi = faults.findIndex((f) => (f.endpoint === '*' || f.endpoint === endpoint) && f.left > 0 && f.fault.kind !== 'no_content_length');
    if (fi >= 0) {
      const f = faults[fi]!;
      if (--f.left <= 0) faults.splice(fi, 1);
      const fault = f.fault;
      if (fault.kind === 'rate_limited') {
        const after = fault.retryAfter ?? 3;
        return error(429, 'rate_limited', `too many requests, retry in ${after}s`, { 'retry-after': String(after) });
      }
      if (fault.kind === 'upstream_failed') return error(502, 'upstream_failed', 'YouTube refused the resolution');
      if (fault.kind === 'lookup_failed') return error(500, 'lookup_failed', 'internal resolver error');
      if (fault.kind === 'non_json') {
        head(fault.status, { 'content-type': 'text/html' });
        return res.end(`<html><body><h1>${fault.status} Bad Gateway</h1>nginx</body></html>`);
      }
    }

    // Rate limits: per user, per endpoint, per minute and per hour.
    const retryAfter = take(account.user, endpoint);
    if (retryAfter !== null) {
      return error(429, 'rate_limited', `too many requests, retry in ${retryAfter}s`, { 'retry-after': String(retryAfter) });
    }

    const q = u.searchParams;
    switch (endpoint) {
      case 'info': {
        const url = q.get('url');
        if (!url) return error(400, 'bad_request', 'missing required parameter: url');
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          return error(400, 'bad_request', 'url is not a valid URL');
        }
        const id = YT_HOST.test(parsed.hostname) ? YT_ID.exec(url)?.[1] : undefined;
        if (!id) return error(400, 'bad_request', 'url must be a YouTube watch URL or youtu.be link');
        const video = videos.get(id);
        if (!video) return error(502, 'upstream_failed', 'YouTube refused the resolution');
        return json(infoBody(video, infoCalls++));
      }
      case 'split_token': {
        const token = q.get('token');
        if (!token) return error(400, 'bad_request', 'missing required parameter: token');
        const t = readToken(token);
        if (typeof t === 'string') return error(400, 'bad_request', t);
        if (t.prefix !== 'v1' || t.p.k !== 'merge') return error(400, 'bad_request', 'token is not a merge token');
        const video = videos.get(t.p.vid);
        const res0 = video?.resolutions.find((r) => r.height === t.p.h);
        if (!video || !res0 || !res0.variants[0]) return error(500, 'lookup_failed', 'merge token points at nothing');
        const variant = typeof t.p.c === 'number' ? t.p.c : 0;
        const best = bestAudio(video);
        return json({
          video_token: mintToken('v1', { T: codecTag(res0.variants[variant]!.vcodec), E: t.p.E, k: 'video', vid: video.id, h: res0.height, c: variant }),
          audio_token: mintToken('a1', { T: codecTag(video.audio[best]!.acodec), E: t.p.E, k: 'audio', vid: video.id, a: best }),
        });
      }
      case 'stream': {
        const token = q.get('token');
        if (!token) return error(400, 'bad_request', 'missing required parameter: token');
        const t = readToken(token);
        if (typeof t === 'string') return error(400, 'bad_request', t);
        if (t.prefix === 's1' || t.p.k === 'sub') return error(400, 'bad_request', 'token has no source');
        if (t.p.k === 'merge') return error(400, 'bad_request', 'merge tokens cannot be streamed; exchange it at /v1/split_token');
        const video = videos.get(t.p.vid);
        let file: string | undefined;
        let type = 'video/mp4';
        let name = video?.title ?? 'video';
        // Content-Type "matches the source codec" (seed 001): the container the entry's ext names.
        if (t.p.k === 'video') {
          const r = video?.resolutions.find((x) => x.height === t.p.h);
          const v = r?.variants[t.p.c ?? 0];
          file = v?.file;
          type = v?.ext === 'webm' ? 'video/webm' : 'video/mp4';
          name += ` [${t.p.h}p].${v?.ext ?? 'mp4'}`;
        } else if (t.p.k === 'audio') {
          const a = video?.audio[t.p.a];
          file = a?.file;
          type = a?.ext === 'webm' ? 'audio/webm' : 'audio/mp4';
          name += ` [audio].${a?.ext ?? 'm4a'}`;
        }
        if (!file) return error(400, 'bad_request', 'token has no source');
        return serveStream(req, res, file, type, name, head, entry);
      }
      case 'subtitle': {
        const token = q.get('token');
        if (!token) return error(400, 'bad_request', 'missing required parameter: token');
        const format = q.get('format') ?? 'srt';
        if (format !== 'srt' && format !== 'vtt' && format !== 'txt') return error(400, 'bad_request', 'format must be srt, vtt or txt');
        const t = readToken(token);
        if (typeof t === 'string') return error(400, 'bad_request', t);
        if (t.prefix !== 's1' || t.p.k !== 'sub') return error(400, 'bad_request', 'not a subtitle token');
        const video = videos.get(t.p.vid);
        const sub = video?.subtitles[t.p.s];
        if (!video || !sub) return error(500, 'lookup_failed', 'subtitle track not found');
        const text = renderCues(sub.cues, format);
        head(200, {
          'content-type': 'text/plain; charset=utf-8',
          'content-length': Buffer.byteLength(text),
          'content-disposition': `attachment; filename="${asciiName(`${video.title}.${sub.code}.${format}`)}"`,
        });
        return res.end(text);
      }
    }
  };

  const noContentLength = () => {
    const i = faults.findIndex((f) => (f.endpoint === 'stream' || f.endpoint === '*') && f.fault.kind === 'no_content_length' && f.left > 0);
    if (i < 0) return false;
    if (--faults[i]!.left <= 0) faults.splice(i, 1);
    return true;
  };

  function serveStream(
    req: IncomingMessage,
    res: ServerResponse,
    file: string,
    type: string,
    name: string,
    head: (status: number, headers: Record<string, string | number>) => void,
    entry: LoggedRequest,
  ): void {
    const size = statSync(file).size;
    const base = { 'content-type': type, 'content-disposition': `attachment; filename="${asciiName(name)}"` };
    let start = 0;
    let end = size - 1;
    if (noContentLength()) {
      // Upstream did not report a length: no Content-Length, no ranges, close at the end.
      head(200, base);
    } else {
      const range = parseRange(req.headers.range, size);
      if (range === 'unsatisfiable') {
        head(416, { ...base, 'content-range': `bytes */${size}` });
        res.end();
        return;
      }
      if (range) ({ start, end } = range);
      head(range ? 206 : 200, {
        ...base,
        'content-length': end - start + 1,
        'accept-ranges': 'bytes',
        ...(range ? { 'content-range': `bytes ${start}-${end}/${size}` } : {}),
      });
    }
    if (req.method === 'HEAD') {
      res.end();
      return;
    }
    entry.status = res.statusCode;
    streams.active++;
    streams.peak = Math.max(streams.peak, streams.active);
    const stream = createReadStream(file, { start, end, highWaterMark: 16 * 1024 });
    stream.pipe(res);
    // Done when the last byte was handed to the response (the client cannot have it before that;
    // 'finish' may come after the client already read it and opened its next stream), or when the
    // connection dropped ('close').
    let open = true;
    const done = () => {
      if (open) streams.active--;
      open = false;
    };
    stream.once('end', done);
    res.on('close', () => {
      done();
      stream.destroy();
    });
  }

  // ---- /info body ----------------------------------------------------------------------------
  function bestAudio(video: FakeVideo): number {
    let best = 0;
    video.audio.forEach((a, i) => {
      const b = video.audio[best]!;
      if (a.bitrate > b.bitrate || (a.bitrate === b.bitrate && a.ext === 'm4a' && b.ext !== 'm4a')) best = i;
    });
    return best;
  }

  /** /info as seed 001's example writes it: its field names, in its order, and nothing else. */
  function infoBody(video: FakeVideo, call: number): unknown {
    const E = expiry();
    const mb = (file: string) => Math.round((statSync(file).size / 1_000_000) * 100) / 100;
    const resolutions = video.resolutions.map((r): Record<string, unknown> => {
      if (video.shape === 'merge-only') {
        return {
          height: r.height,
          download_token: mintToken('v1', { T: 'merge', E, k: 'merge', vid: video.id, h: r.height }),
          endpoint: 'merge',
          ...(unknownFields ? { fps: 30 } : {}),
        };
      }
      const merged = video.videoOnlyEndpoint === 'merge';
      const video_only = r.variants.map((v, c) => ({
        ext: v.ext,
        vcodec: v.vcodec,
        size_mb: mb(v.file),
        download_token: merged
          ? mintToken('v1', { T: 'merge', E, k: 'merge', vid: video.id, h: r.height, c })
          : mintToken('v1', { T: codecTag(v.vcodec), E, k: 'video', vid: video.id, h: r.height, c }),
        ...(merged ? { endpoint: 'merge' } : {}),
        ...(unknownFields ? { dynamic_range: 'SDR' } : {}),
      }));
      return { height: r.height, video_only: rotate(video_only, call), ...(unknownFields ? { fps: 30 } : {}) };
    });
    const audio_only = video.audio.map((a, i) => ({
      ext: a.ext,
      acodec: a.acodec,
      bitrate: a.bitrate,
      size_mb: mb(a.file),
      download_token: mintToken('a1', { T: codecTag(a.acodec), E, k: 'audio', vid: video.id, a: i }),
      ...(unknownFields ? { language: null } : {}),
    }));
    const subtitles = video.subtitles.map((s, i) => {
      const token = mintToken('s1', { T: 'sub', E, k: 'sub', vid: video.id, s: i });
      return (video.subtitleFields ?? 'seed') === 'seed'
        ? { language: s.code, kind: s.isAuto ? 'auto' : 'manual', download_token: token }
        : { code: s.code, name: s.name, is_auto: s.isAuto, download_token: token, filename: asciiName(`${video.title}.${s.code}.srt`) };
    });
    return {
      title: video.title,
      duration_sec: video.durationSec,
      platform: 'youtube',
      thumbnail: `${publicOrigin()}/thumbs/${video.id}.svg`,
      resolutions: rotate(resolutions, call),
      audio_only: rotate(audio_only, call),
      subtitles,
      ...(unknownFields ? { uploader: 'Fake channel', view_count: 1234567 } : {}),
    };
  }

  function rotate<T>(list: T[], n: number): T[] {
    if (!shuffle || list.length < 2) return list;
    const k = n % list.length;
    return [...list.slice(k), ...list.slice(0, k)];
  }

  const server = opts.tls ? createHttpsServer({ key: opts.tls.key, cert: opts.tls.cert }, handler) : createServer(handler);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  const url = `${opts.tls ? 'https' : 'http'}://${opts.hostname ?? '127.0.0.1'}:${port}`;
  // A browser mapping the real hostname reaches us on 443; Node tests use the local port.
  origin = opts.hostname && opts.tls ? `https://${opts.hostname}` : `${opts.tls ? 'https' : 'http'}://127.0.0.1:${port}`;
  api = {
    url,
    baseUrl: `${url}/v1`,
    server: server as Server,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections?.();
        server.close(() => resolve());
      }),
    clock,
    requests,
    clearLog: () => void requests.splice(0),
    fault: (endpoint, fault, times) => void faults.push({ endpoint, fault, left: times ?? (fault.kind === 'no_content_length' ? Infinity : 1) }),
    clearFaults: () => void faults.splice(0),
    videos,
    streams,
    mintToken,
    usage,
    onRequest: null,
  };
  return api;
}

function codecTag(codec: string): string {
  const c = codec.toLowerCase();
  if (c.startsWith('avc')) return 'avc1';
  if (c.startsWith('av01')) return 'av01';
  if (c.startsWith('vp09') || c === 'vp9') return 'vp9';
  if (c.startsWith('mp4a')) return 'aac';
  return c;
}

function asciiName(name: string): string {
  return name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, "'");
}
