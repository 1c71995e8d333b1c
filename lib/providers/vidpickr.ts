/**
 * VidPickr (https://api.vidpickr.com/v1): resolves a YouTube URL into signed per-track tokens and
 * proxies the raw single-track fragmented MP4 bytes; we mux video and audio ourselves.
 * Contract: shared/providers.md section 2 and open questions 8-13; vendor doc seed-001.
 *
 * - `GET /info?url=` in both shapes: per-codec `video_only` lists, or only a merge token per height.
 * - `GET /split_token?token=` turns a merge token into `video_token` + `audio_token`.
 * - `GET /stream?token=` streams one track; the video and audio streams run in parallel through
 *   the network engine and are remuxed by the media engine as they arrive.
 * - `GET /subtitle?token=&format=srt|vtt|txt`.
 * Tokens expire about 10 minutes after /info (VidPickr answers 400 "token expired"): the download
 * re-resolves, finds the same format by height and codec, and continues from its byte offset.
 * Every request carrying the key gets its headers from {@link keyHeaders}; keys never go in URLs.
 */
import { z } from 'zod';
import { maskKey, VidmuxError, type ErrorCode } from '../errors';
import type { ByteSource } from '../io';
import { remux } from '../media';
import { HttpClient, MediaUrl, type HttpResponse, type RequestOptions } from '../net/http';
import { openRangedSource } from '../net/ranged-fetch';
import { cancelledError, realSleep, type Sleep } from '../net/retry-policy';
import { combineProgress, EMPTY_PROGRESS, type JobProgress, type Progress } from '../progress';
import { assertSafeBaseUrl, DEFAULT_BASE_URLS, keyHeaders } from './auth';
import { makeFormat } from './select';
import { youtubeVideoId } from '../sites';
import {
  type AccountInfo,
  type DownloadChoice,
  type DownloadContext,
  type DownloadResult,
  type Format,
  type MediaInfo,
  type Provider,
  type ProviderConfig,
} from './types';

const PROVIDER = 'vidpickr';
const KEY_HEADER = 'X-API-Key';
type Endpoint = 'info' | 'split_token' | 'stream' | 'subtitle';

/** A public video used by {@link VidPickrProvider.checkKey}: the vendor's own example. */
export const VIDPICKR_CHECK_URL = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
/** A resolve younger than this is reused for a download instead of resolving again (tokens last ~10 min). */
const REUSE_RESOLVE_MS = 5 * 60_000;
/** A rate window ends at most this long after we saw it exhausted. */
const RATE_WINDOW_MS = 60_000;
/** How many times one request may renew an expired token in a row. */
const MAX_TOKEN_RENEWALS = 3;
/** Bytes of a stream's start kept in memory for the demuxer's header reads. */
const HEAD_CACHE_BYTES = 32 * 1024 * 1024;
export const SUBTITLE_FORMATS = ['srt', 'vtt', 'txt'] as const;

// ---- the wire format (zod: unknown fields tolerated, nothing assumed beyond the contract) -------

const num = z.number().finite();
const VideoFormatSchema = z.object({
  ext: z.string().nullish(),
  vcodec: z.string().nullish(),
  size_mb: num.nullish(),
  bitrate: num.nullish(),
  download_token: z.string().min(1),
  endpoint: z.string().nullish(),
});
const ResolutionSchema = z.object({
  height: z.number().int().positive(),
  quality_label: z.string().nullish(),
  size_mb: num.nullish(),
  is_progressive: z.boolean().nullish(),
  download_token: z.string().nullish(),
  endpoint: z.string().nullish(),
  filename: z.string().nullish(),
  video_only: z.array(VideoFormatSchema).nullish(),
});
const AudioFormatSchema = z.object({
  ext: z.string().nullish(),
  acodec: z.string().nullish(),
  bitrate: num.nullish(),
  size_mb: num.nullish(),
  download_token: z.string().min(1),
  endpoint: z.string().nullish(),
});
/** SDK shape `code, name, is_auto, download_token, filename`; seed-001's `language, kind` accepted too. */
const SubtitleSchema = z
  .object({
    code: z.string().nullish(),
    language: z.string().nullish(),
    name: z.string().nullish(),
    is_auto: z.boolean().nullish(),
    kind: z.string().nullish(),
    download_token: z.string().min(1),
    filename: z.string().nullish(),
  })
  .refine((s) => !!(s.code ?? s.language), { message: 'subtitle track without a language code' });
export const VidPickrInfoSchema = z.object({
  title: z.string().nullish(),
  duration_sec: num.nullish(),
  platform: z.string().nullish(),
  thumbnail: z.string().nullish(),
  resolutions: z.array(ResolutionSchema).nullish(),
  audio_only: z.array(AudioFormatSchema).nullish(),
  subtitles: z.array(SubtitleSchema).nullish(),
});
export type VidPickrInfo = z.infer<typeof VidPickrInfoSchema>;
const SplitSchema = z.object({ video_token: z.string().min(1), audio_token: z.string().min(1) });
const ErrorBodySchema = z.object({ error: z.object({ code: z.string().min(1), message: z.string().nullish() }) });

// ---- errors ----------------------------------------------------------------------------------

/** A VidPickr failure: `apiCode` is VidPickr's own code (`invalid_api_key`, `http_418`, ...). */
export class VidPickrError extends VidmuxError {
  readonly apiCode: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, apiCode: string, message: string, opts: { status?: number; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(code, message, { provider: PROVIDER, ...opts });
    this.apiCode = apiCode;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

const REASONS: Record<number, string> = {
  400: 'Bad Request', 401: 'Unauthorized', 402: 'Payment Required', 403: 'Forbidden', 404: 'Not Found', 405: 'Method Not Allowed',
  408: 'Request Timeout', 409: 'Conflict', 410: 'Gone', 413: 'Payload Too Large', 418: "I'm a teapot", 422: 'Unprocessable Entity',
  429: 'Too Many Requests', 500: 'Internal Server Error', 502: 'Bad Gateway', 503: 'Service Unavailable', 504: 'Gateway Timeout',
};

/** VidPickr's `{error:{code,message}}` body, or `http_<status>` as the SDKs do when there is none. */
export function parseErrorBody(status: number, text: string): { code: string; message: string } {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) return { code: parsed.data.error.code, message: parsed.data.error.message ?? '' };
  } catch {
    /* not JSON */
  }
  return { code: `http_${status}`, message: `HTTP ${status} ${REASONS[status] ?? ''}`.trim() };
}

/** Whether a 400 says the token is past its lifetime (re-resolving fixes it). */
function isExpiredToken(message: string): boolean {
  return /expired/i.test(message);
}

function quote(message: string): string {
  const m = message.replace(/\s+/g, ' ').trim().slice(0, 200);
  return m ? `: "${m}"` : '';
}

/** Maps one VidPickr error answer to a message a person understands. */
export function vidpickrError(status: number, api: { code: string; message: string }, key: string | null, extra: { retryAfterSeconds?: number; cause?: unknown } = {}): VidPickrError {
  const masked = key ? maskKey(key) : 'none';
  const o = { status, ...extra };
  switch (api.code) {
    case 'missing_api_key':
      return new VidPickrError('unauthorized', api.code, 'VidPickr needs an API key and none was sent. Add your key (it starts with vpk_live_) in the options.', o);
    case 'invalid_api_key':
      return new VidPickrError('unauthorized', api.code, `VidPickr does not accept the API key ${masked}: it is unknown or was revoked. Create a new key in your VidPickr dashboard.`, o);
    case 'plus_required':
      return new VidPickrError('forbidden', api.code, `The VidPickr account of key ${masked} has no active Plus subscription, which API access needs. Renew Plus in your VidPickr account.`, o);
    case 'rate_limited': {
      const wait = extra.retryAfterSeconds === undefined ? '' : ` It asks to wait ${extra.retryAfterSeconds} s.`;
      return new VidPickrError('rate_limited', api.code, `VidPickr's rate limit for your account is used up (too many requests this minute or hour) and it kept refusing after retries.${wait} Try again in a minute.`, o);
    }
    case 'upstream_failed':
      return new VidPickrError('download_failed', api.code, `VidPickr could not get this video from YouTube (502 upstream_failed, twice in a row). Check that the video is public and the link is right, or try again later.`, o);
    case 'lookup_failed':
      return new VidPickrError('download_failed', api.code, `VidPickr had an internal error looking up the video (500 lookup_failed). Try again later.`, o);
    case 'bad_request':
      if (isExpiredToken(api.message)) return new VidPickrError('expired', api.code, `The VidPickr download link expired and could not be renewed (400 bad_request${quote(api.message)}). Start the download again.`, o);
      if (/no source/i.test(api.message)) return new VidPickrError('bad_input', api.code, `VidPickr says the token has no media source (a subtitle token cannot be streamed)${quote(api.message)}.`, o);
      if (/invalid token/i.test(api.message)) return new VidPickrError('bad_input', api.code, `VidPickr rejected a download token as invalid${quote(api.message)}. Resolve the video again.`, o);
      return new VidPickrError('bad_input', api.code, `VidPickr rejected the request as malformed (400 bad_request${quote(api.message)}).`, o);
    default: {
      const base = status === 404 ? 'VidPickr has no such endpoint (404); check the VidPickr base URL in the options' : `VidPickr answered ${api.message || `HTTP ${status}`}`;
      const code: ErrorCode = status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not_found' : status === 429 ? 'rate_limited' : status >= 500 ? 'download_failed' : 'http_error';
      const detail = api.code.startsWith('http_') ? ` (${api.code})` : ` (${status} ${api.code}${quote(api.message)})`;
      return new VidPickrError(code, api.code, `${base}${detail}.`, o);
    }
  }
}

/**
 * Turns what the HTTP client throws after giving up (429 after its retries, 502 twice, 5xx after
 * back-off) into a VidPickr message; other errors pass through.
 */
function giveUpError(err: unknown, key: string | null): unknown {
  if (!(err instanceof VidmuxError) || err instanceof VidPickrError || err.code === 'cancelled') return err;
  const s = err.status;
  if (s === 429) return vidpickrError(429, { code: 'rate_limited', message: '' }, key, { cause: err });
  if (s === 502) return vidpickrError(502, { code: 'upstream_failed', message: '' }, key, { cause: err });
  if (s === 500) return vidpickrError(500, { code: 'lookup_failed', message: '' }, key, { cause: err });
  if (s !== undefined && s >= 500) return vidpickrError(s, { code: `http_${s}`, message: `HTTP ${s} ${REASONS[s] ?? ''}`.trim() }, key, { cause: err });
  if (err.code === 'network' || err.code === 'timeout') {
    return new VidPickrError(err.code, err.code, `Could not reach VidPickr: ${err.message}`, { cause: err, ...(s === undefined ? {} : { status: s }) });
  }
  return err;
}

// ---- what a format id stands for ----------------------------------------------------------------

type VideoEntry = z.infer<typeof VideoFormatSchema>;
type AudioEntry = z.infer<typeof AudioFormatSchema>;
type Resolution = z.infer<typeof ResolutionSchema>;
type SubtitleEntry = z.infer<typeof SubtitleSchema>;

/** One video+audio choice: a height and a codec (null: VidPickr picks it behind the merge token). */
interface VideoChoice {
  id: string;
  height: number;
  vcodec: string | null;
  ext: string | null;
  /** A video_only token, or null to split the resolution's merge token. */
  entry: VideoEntry | null;
  resolution: Resolution;
}

const videoId = (height: number, vcodec: string | null) => `vidpickr:video:${height}:${vcodec ?? 'auto'}`;
const audioId = (a: AudioEntry) => `vidpickr:audio:${a.acodec ?? 'unknown'}:${a.bitrate ?? 0}:${a.ext ?? ''}`;
const subtitleId = (code: string, auto: boolean, format: string) => `vidpickr:sub:${code}:${auto ? 'auto' : 'manual'}:${format}`;

const subCode = (s: SubtitleEntry) => (s.code ?? s.language)!;
const subAuto = (s: SubtitleEntry) => s.is_auto ?? s.kind === 'auto';

/** Video choices by id: one per (height, codec), whatever order VidPickr listed them in. */
function videoChoices(info: VidPickrInfo): Map<string, VideoChoice> {
  const out = new Map<string, VideoChoice>();
  const better = (a: VideoEntry, b: VideoEntry) =>
    Number(a.ext === 'mp4') - Number(b.ext === 'mp4') || (a.bitrate ?? 0) - (b.bitrate ?? 0) || a.download_token.localeCompare(b.download_token);
  for (const r of info.resolutions ?? []) {
    const lists = (r.video_only ?? []).filter((v) => v.download_token);
    if (lists.length) {
      for (const v of lists) {
        const id = videoId(r.height, v.vcodec ?? null);
        const prev = out.get(id);
        if (prev?.entry && better(prev.entry, v) >= 0) continue;
        out.set(id, { id, height: r.height, vcodec: v.vcodec ?? null, ext: v.ext ?? null, entry: v, resolution: r });
      }
    } else if (r.download_token) {
      const id = videoId(r.height, null);
      if (!out.has(id)) out.set(id, { id, height: r.height, vcodec: null, ext: 'mp4', entry: null, resolution: r });
    }
  }
  return out;
}

/** The best audio track as the SDKs pick it: highest bitrate, m4a on a tie. */
export function bestAudio(list: AudioEntry[]): AudioEntry | null {
  let best: AudioEntry | null = null;
  for (const a of list) {
    if (!best) best = a;
    else {
      const d = (a.bitrate ?? 0) - (best.bitrate ?? 0);
      if (d > 0 || (d === 0 && a.ext === 'm4a' && best.ext !== 'm4a') || (d === 0 && (a.ext === 'm4a') === (best.ext === 'm4a') && a.download_token < best.download_token)) best = a;
    }
  }
  return best;
}

const mb = (x: number | null | undefined) => (typeof x === 'number' ? x * 1_000_000 : null);

/** Turns VidPickr's /info into the one format model. */
export function toMediaInfo(url: string, info: VidPickrInfo): MediaInfo {
  const audio = bestAudio(info.audio_only ?? []);
  const formats: Format[] = [];
  for (const v of videoChoices(info).values()) {
    const vBytes = v.entry ? mb(v.entry.size_mb) : mb(v.resolution.size_mb);
    const aBytes = audio ? mb(audio.size_mb) : null;
    formats.push(
      makeFormat(PROVIDER, v.id, {
        kind: 'video+audio',
        container: 'mp4',
        delivery: 'tracks',
        videoCodec: v.vcodec,
        audioCodec: audio?.acodec ?? null,
        height: v.height,
        bitrateKbps: v.entry?.bitrate != null && audio?.bitrate != null ? v.entry.bitrate + audio.bitrate : null,
        approxBytes: vBytes !== null ? Math.round(vBytes + (aBytes ?? 0)) : null,
      }),
    );
  }
  const seenAudio = new Set<string>();
  for (const a of info.audio_only ?? []) {
    const id = audioId(a);
    if (seenAudio.has(id)) continue;
    seenAudio.add(id);
    formats.push(
      makeFormat(PROVIDER, id, {
        kind: 'audio',
        // Saved as MP4 audio: .m4a for AAC; other codecs (Opus) keep the generic .mp4.
        container: a.ext === 'm4a' || (a.acodec ?? '').startsWith('mp4a') ? 'm4a' : 'mp4',
        delivery: 'tracks',
        audioCodec: a.acodec ?? null,
        bitrateKbps: a.bitrate ?? null,
        approxBytes: mb(a.size_mb),
      }),
    );
  }
  const subtitles: Format[] = [];
  const seenSubs = new Set<string>();
  for (const s of info.subtitles ?? []) {
    for (const container of SUBTITLE_FORMATS) {
      const id = subtitleId(subCode(s), subAuto(s), container);
      if (seenSubs.has(id)) continue;
      seenSubs.add(id);
      subtitles.push(makeFormat(PROVIDER, id, { kind: 'subtitle', container, delivery: 'file', language: subCode(s), isAuto: subAuto(s) }));
    }
  }
  return {
    provider: PROVIDER,
    url,
    title: info.title?.trim() || 'YouTube video',
    durationSeconds: info.duration_sec ?? null,
    thumbnail: info.thumbnail ?? null,
    formats,
    subtitles,
  };
}

/** Tokens to stream for one format. */
interface TrackTokens {
  video: string | null;
  audio: string | null;
}

/** Extra knobs (tests, bench); the defaults are what ships. */
export interface VidPickrTuning {
  /** Ranged connections per track. Default 1: every request is a "stream start" VidPickr counts (60/min). */
  connectionsPerTrack?: number;
  /** Bytes per ranged request when connectionsPerTrack > 1. */
  chunkBytes?: number;
}

// ---- the provider ------------------------------------------------------------------------------

export class VidPickrProvider implements Provider {
  readonly id = 'vidpickr' as const;
  readonly displayName = 'VidPickr';
  readonly needsKey = true;
  readonly baseUrl: string;
  private readonly key: string | null;
  private readonly http: HttpClient;
  private readonly now: () => number;
  private readonly sleep: Sleep;
  /** The last /info per URL, so a download right after a resolve does not resolve again. */
  private readonly resolved = new Map<string, { at: number; info: VidPickrInfo }>();
  /** X-RateLimit-Remaining as last seen, per endpoint (`seq`: requests started by then). */
  private readonly remaining = new Map<Endpoint, { value: number; at: number; seq: number }>();
  /** When an endpoint's minute window was seen exhausted (X-RateLimit-Remaining: 0). */
  private readonly exhausted = new Map<Endpoint, { at: number; seq: number }>();
  /** Counts requests started, to tell answers to earlier requests from later ones. */
  private seq = 0;

  constructor(
    config: ProviderConfig,
    private readonly tuning: VidPickrTuning = {},
  ) {
    this.key = config.apiKey;
    this.baseUrl = (config.baseUrl ?? DEFAULT_BASE_URLS.vidpickr).replace(/\/+$/, '');
    this.http = config.http ?? new HttpClient({ provider: PROVIDER });
    this.now = config.now ?? (() => Date.now());
    this.sleep = config.sleep ?? realSleep;
  }

  supports(url: string): boolean {
    return youtubeVideoId(url) !== null;
  }

  async resolve(url: string, opts: { signal?: AbortSignal } = {}): Promise<MediaInfo> {
    if (!this.supports(url)) throw new VidmuxError('unsupported', 'VidPickr only handles YouTube links.', { provider: PROVIDER });
    return toMediaInfo(url, await this.fetchInfo(url, opts.signal));
  }

  async checkKey(opts: { signal?: AbortSignal } = {}): Promise<AccountInfo> {
    const started = this.now();
    await this.fetchInfo(VIDPICKR_CHECK_URL, opts.signal);
    const left = this.remaining.get('info');
    return {
      summary: 'Plus plan: the key works.',
      details: {
        key: this.key ? maskKey(this.key) : null,
        plan: 'Plus',
        infoCallsLeftThisMinute: left?.value ?? null,
        checkedInMs: Math.max(0, this.now() - started),
      },
    };
  }

  async download(info: MediaInfo, choice: DownloadChoice, ctx: DownloadContext): Promise<DownloadResult> {
    const { format } = choice;
    const signal = ctx.signal;
    if (format.provider === PROVIDER && format.kind === 'subtitle') {
      // Subtitles only: the subtitle is the file.
      const bytes = await this.saveSubtitle(info.url, format, { ...ctx, target: { ...ctx.target, subtitle: () => ctx.target.media() } });
      if (bytes === null) throw new VidmuxError('not_found', `VidPickr has no ${format.language ?? ''} subtitles for this video.`, { provider: PROVIDER });
      return { bytes, subtitles: [] };
    }
    if (format.provider !== PROVIDER || format.kind === 'subtitle' || format.kind === 'video') {
      throw new VidmuxError('bad_input', 'That format is not a VidPickr video or audio format.', { provider: PROVIDER });
    }
    try {
      const tokens = await this.tokensFor(info.url, format.id, signal);
      const tracks: Record<string, Progress> = {
        ...(tokens.video ? { video: EMPTY_PROGRESS } : {}),
        ...(tokens.audio ? { audio: EMPTY_PROGRESS } : {}),
      };
      let stage: JobProgress['stage'] = 'downloading';
      const emit = () => ctx.onProgress?.({ stage, tracks: { ...tracks }, overall: combineProgress(Object.values(tracks)) });
      emit();
      const renewer = new TokenRenewer(tokens, () => this.tokensFor(info.url, format.id, signal, true));
      const done = new Set<string>();
      const open = async (kind: 'video' | 'audio') => {
        const source = await openRangedSource(this.streamUrl(renewer.tokens[kind]!), {
          client: this.streamClient(),
          refresh: async (stale) => this.streamUrl(await renewer.fresh(kind, stale, (t) => this.streamUrl(t))),
          connections: this.tuning.connectionsPerTrack ?? 1,
          ...(this.tuning.chunkBytes ? { chunkSize: this.tuning.chunkBytes } : {}),
          onProgress: (p) => {
            tracks[kind] = p;
            emit();
          },
          ...(signal ? { signal } : {}),
        });
        return new ForwardSource(source, signal, () => {
          done.add(kind);
          if (done.size === Object.keys(tracks).length && stage === 'downloading') {
            stage = 'muxing';
            emit();
          }
        });
      };
      const [video, audio] = await Promise.all([tokens.video ? open('video') : null, tokens.audio ? open('audio') : null]);
      const sink = await ctx.target.media();
      const summary = await remux({
        ...(video ? { video } : {}),
        ...(audio ? { audio } : {}),
        sink,
        title: info.title,
        ...(signal ? { signal } : {}),
      });

      // The video is saved by now: a subtitle that cannot be had is left out of the result rather
      // than failing the whole download (which would make the registry fetch it all again elsewhere).
      const subtitles: DownloadResult['subtitles'] = [];
      for (const sub of choice.subtitles) {
        let bytes: number | null = null;
        try {
          bytes = await this.saveSubtitle(info.url, sub, ctx);
        } catch (err) {
          if (signal?.aborted || (err instanceof VidmuxError && err.code === 'cancelled')) throw err;
        }
        if (bytes !== null) subtitles.push({ format: sub, bytes });
      }
      return { bytes: summary.bytes, subtitles };
    } catch (err) {
      if (signal?.aborted) throw cancelledError(signal);
      throw giveUpError(err, this.key);
    }
  }

  // ---- pieces ---------------------------------------------------------------------------------

  private endpointUrl(endpoint: Endpoint, params: Record<string, string>): string {
    assertSafeBaseUrl(this.baseUrl, PROVIDER);
    return `${this.baseUrl}/${endpoint}?${new URLSearchParams(params)}`;
  }

  private streamUrl(token: string): string {
    return this.endpointUrl('stream', { token });
  }

  /**
   * Waits for the next rate window when VidPickr said no slot is left in this one, then counts
   * the request as started. The window is a minute; when it began is not said, so we wait a full
   * minute from when we saw it exhausted.
   */
  private async gate(endpoint: Endpoint, signal?: AbortSignal): Promise<number> {
    const seen = this.exhausted.get(endpoint);
    if (seen) {
      const wait = RATE_WINDOW_MS - (this.now() - seen.at);
      if (wait > 0) await this.sleep(wait, signal);
      if (this.exhausted.get(endpoint) === seen) this.exhausted.delete(endpoint);
    }
    return ++this.seq;
  }

  /** Records X-RateLimit-Remaining of an answer to a request started as number `seq`. */
  private observe(endpoint: Endpoint, headers: Headers, seq: number): void {
    const raw = headers.get('x-ratelimit-remaining');
    const value = Number(raw);
    if (raw === null || !Number.isFinite(value)) return;
    this.remaining.set(endpoint, { value, at: this.now(), seq });
    const ex = this.exhausted.get(endpoint);
    // Answers to requests that began before the window ran out say nothing about the next one.
    if (value <= 0) this.exhausted.set(endpoint, { at: this.now(), seq: this.seq });
    else if (ex && seq > ex.seq) this.exhausted.delete(endpoint);
  }

  /** One JSON/text call: key headers, rate gate, VidPickr's error bodies mapped. */
  private async call(endpoint: Endpoint, params: Record<string, string>, signal?: AbortSignal): Promise<string> {
    const url = this.endpointUrl(endpoint, params);
    const seq = await this.gate(endpoint, signal);
    let res: HttpResponse;
    try {
      res = await this.http.request(url, {
        headers: { accept: endpoint === 'subtitle' ? 'text/plain, */*' : 'application/json', ...keyHeaders(url, this.baseUrl, KEY_HEADER, this.key, PROVIDER) },
        acceptStatus: (s) => s >= 400 && s < 500 && s !== 429,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      throw giveUpError(err, this.key);
    }
    this.observe(endpoint, res.headers, seq);
    const text = await res.text();
    if (res.status >= 400) throw vidpickrError(res.status, parseErrorBody(res.status, text), this.key);
    return text;
  }

  private async json<T>(endpoint: Endpoint, params: Record<string, string>, schema: z.ZodType<T>, signal?: AbortSignal): Promise<T> {
    const text = await this.call(endpoint, params, signal);
    let data: unknown;
    try {
      data = JSON.parse(text);
    } catch (err) {
      throw new VidPickrError('bad_response', 'bad_response', `VidPickr's /${endpoint} did not answer with JSON.`, { cause: err });
    }
    const parsed = schema.safeParse(data);
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      throw new VidPickrError('bad_response', 'bad_response', `VidPickr's /${endpoint} answer is not what its API documents (${issue ? `${issue.path.join('.') || 'body'}: ${issue.message}` : 'invalid'}).`, { cause: parsed.error });
    }
    return parsed.data;
  }

  private async fetchInfo(url: string, signal?: AbortSignal): Promise<VidPickrInfo> {
    const info = await this.json('info', { url }, VidPickrInfoSchema, signal);
    this.resolved.set(url, { at: this.now(), info });
    return info;
  }

  /** /info for `url`: the last one if recent, else a fresh one. */
  private async infoFor(url: string, signal: AbortSignal | undefined, fresh: boolean): Promise<VidPickrInfo> {
    const last = this.resolved.get(url);
    if (!fresh && last && this.now() - last.at < REUSE_RESOLVE_MS) return last.info;
    return this.fetchInfo(url, signal);
  }

  /**
   * The tokens to stream for format `id`, found by height and codec (never list order); splits a
   * merge token. When a token turns out expired, re-resolves once.
   */
  private async tokensFor(url: string, id: string, signal: AbortSignal | undefined, fresh = false): Promise<TrackTokens> {
    for (let attempt = 0; ; attempt++) {
      const info = await this.infoFor(url, signal, fresh || attempt > 0);
      try {
        return await this.tokensIn(info, id, signal);
      } catch (err) {
        if (attempt === 0 && err instanceof VidPickrError && err.code === 'expired') continue;
        throw err;
      }
    }
  }

  private async tokensIn(info: VidPickrInfo, id: string, signal?: AbortSignal): Promise<TrackTokens> {
    if (id.startsWith('vidpickr:audio:')) {
      const a = (info.audio_only ?? []).find((x) => audioId(x) === id);
      if (!a) throw this.gone(id);
      return { video: null, audio: a.download_token };
    }
    const v = videoChoices(info).get(id);
    if (!v) throw this.gone(id);
    const audio = bestAudio(info.audio_only ?? []);
    const stream = v.entry && v.entry.endpoint !== 'merge' ? v.entry.download_token : null;
    if (stream) {
      if (audio) return { video: stream, audio: audio.download_token };
      // No audio list: the merge token's audio half is the only audio there is.
      if (!v.resolution.download_token) return { video: stream, audio: null };
      const split = await this.json('split_token', { token: v.resolution.download_token }, SplitSchema, signal);
      return { video: stream, audio: split.audio_token };
    }
    const merge = v.entry?.download_token ?? v.resolution.download_token;
    if (!merge) throw this.gone(id);
    const split = await this.json('split_token', { token: merge }, SplitSchema, signal);
    // Like the SDKs: the video half of the split, the best audio_only track for sound.
    return { video: split.video_token, audio: audio?.download_token ?? split.audio_token };
  }

  private gone(id: string): VidmuxError {
    const what = id.replace(/^vidpickr:/, '').replace(/:/g, ' ');
    return new VidmuxError('not_found', `VidPickr no longer offers that format (${what}) for this video; choose another.`, { provider: PROVIDER });
  }

  /**
   * The HTTP client as /stream requests see it: every request gets the key from keyHeaders for
   * its actual URL, waits out an exhausted rate window, records X-RateLimit-Remaining, and turns
   * VidPickr's 400 "token expired" (or a 403/410) into a renewed token from the same byte offset.
   * Other 4xx become VidPickr messages at once.
   */
  private streamClient(): HttpClient {
    const base = this.http;
    const client: HttpClient = Object.create(base);
    client.request = async (target: string | MediaUrl, opts: RequestOptions = {}): Promise<HttpResponse> => {
      const media = typeof target === 'string' ? new MediaUrl(target) : target;
      for (let renewals = 0; ; ) {
        const url = media.current;
        const seq = await this.gate('stream', opts.signal);
        const callerAccepts = opts.acceptStatus;
        let res: HttpResponse;
        try {
          res = await base.request(url, {
            ...opts,
            headers: { ...opts.headers, ...keyHeaders(url, this.baseUrl, KEY_HEADER, this.key, PROVIDER) },
            acceptStatus: (s) => !!callerAccepts?.(s) || (s >= 400 && s < 500 && s !== 429),
          });
        } catch (err) {
          throw giveUpError(err, this.key);
        }
        this.observe('stream', res.headers, seq);
        if (res.status < 400 || callerAccepts?.(res.status)) return res;
        const api = parseErrorBody(res.status, await res.text());
        const expired = (res.status === 400 && isExpiredToken(api.message)) || res.status === 403 || res.status === 410;
        if (expired && media.refreshable && renewals < MAX_TOKEN_RENEWALS) {
          renewals++;
          await media.refresh(url, opts.signal);
          continue;
        }
        throw vidpickrError(res.status, api, this.key);
      }
    };
    return client;
  }

  /** Fetches one subtitle format and writes it; null when this video has no such track. */
  private async saveSubtitle(url: string, sub: Format, ctx: DownloadContext): Promise<number | null> {
    const m = /^vidpickr:sub:(.+):(auto|manual):(srt|vtt|txt)$/.exec(sub.id);
    if (!m || sub.provider !== PROVIDER) return null;
    const [, code, auto, format] = m;
    let text: string | null = null;
    for (let attempt = 0; text === null; attempt++) {
      const info = await this.infoFor(url, ctx.signal, attempt > 0);
      const track = (info.subtitles ?? []).find((s) => subCode(s) === code && subAuto(s) === (auto === 'auto'));
      if (!track) return null;
      try {
        text = await this.call('subtitle', { token: track.download_token, format: format! }, ctx.signal);
      } catch (err) {
        if (attempt === 0 && err instanceof VidPickrError && err.code === 'expired') continue;
        throw err;
      }
    }
    const bytes = new TextEncoder().encode(text);
    const sink = await ctx.target.subtitle(sub);
    try {
      await sink.write(0, bytes);
      await sink.close();
    } catch (err) {
      await sink.abort(err).catch(() => undefined);
      throw err;
    }
    return bytes.length;
  }
}

/**
 * The tokens of one download and their renewal: the video and audio streams expire together, so
 * whichever notices first re-resolves and the other picks up the result.
 */
class TokenRenewer {
  private pending: Promise<void> | null = null;
  constructor(
    readonly tokens: TrackTokens,
    private readonly renew: () => Promise<TrackTokens>,
  ) {}

  async fresh(kind: 'video' | 'audio', staleUrl: string, urlOf: (token: string) => string): Promise<string> {
    const current = this.tokens[kind];
    if (current && urlOf(current) !== staleUrl) return current;
    this.pending ??= this.renew()
      .then((t) => {
        this.tokens.video = t.video;
        this.tokens.audio = t.audio;
      })
      .finally(() => (this.pending = null));
    await this.pending;
    const next = this.tokens[kind];
    if (!next) throw new VidmuxError('expired', `VidPickr no longer offers the ${kind} track of this format.`, { provider: PROVIDER });
    return next;
  }
}

/**
 * A {@link ByteSource} over ONE VidPickr stream. The demuxer asks for the header boxes first (a few
 * small reads from the start) and then streams the rest; over HTTP each of those would be another
 * /stream request, and VidPickr counts every request against 60 a minute (and does not document
 * Range at all). This reads the stream once, front to back, keeps its start in memory for the
 * header reads, and serves later reads from the same connection. A read it cannot serve that way
 * falls back to a ranged request of its own.
 */
export class ForwardSource implements ByteSource {
  readonly size: number | null;
  private reader: ReadableStreamDefaultReader<Uint8Array> | null = null;
  /** Bytes taken from the stream so far (the head cache and `carry` included). */
  private pos = 0;
  /** Bytes `[0, headBytes)` kept while the head cache is open. */
  private head: Uint8Array[] = [];
  private headBytes = 0;
  private headOpen = true;
  /** Bytes `[pos - carry.length ... )`: read from the stream, not yet handed on. */
  private carry: Uint8Array | null = null;
  private busy = false;
  private ended = false;

  constructor(
    private readonly inner: ByteSource,
    private readonly signal: AbortSignal | undefined,
    private readonly onEnd: () => void = () => {},
  ) {
    this.size = inner.size;
  }

  stream(start = 0, end?: number, signal?: AbortSignal): ReadableStream<Uint8Array> {
    const stop = end ?? this.size ?? Infinity;
    const carried = this.carry?.length ?? 0;
    const at = this.pos - carried; // next byte the stream will hand on
    const served = !this.busy && (start >= at || (this.headOpen && this.headBytes === this.pos && carried === 0) || stop <= this.headBytes);
    if (!served) return this.inner.stream(start, end, signal ?? this.signal);
    if (end === undefined && this.headOpen) this.dropHead(start);
    this.busy = true;
    let p = start;
    const release = () => {
      this.busy = false;
    };
    return new ReadableStream<Uint8Array>(
      {
        pull: async (controller) => {
          try {
            const piece = await this.next(p, stop);
            if (!piece) {
              release();
              controller.close();
              return;
            }
            p += piece.length;
            controller.enqueue(piece);
          } catch (err) {
            release();
            throw err;
          }
        },
        cancel: release,
      },
      { highWaterMark: 0 },
    );
  }

  /** Closes the head cache; bytes from `start` that it held are kept as `carry`. */
  private dropHead(start: number): void {
    if (start < this.pos && start >= 0 && this.carry === null) this.carry = sliceOf(this.head, start, this.pos);
    this.head = [];
    this.headBytes = 0;
    this.headOpen = false;
  }

  /** The next bytes at `p` (before `stop`), or null at the end. */
  private async next(p: number, stop: number): Promise<Uint8Array | null> {
    for (;;) {
      if (p >= stop) {
        // At the end of the resource: one more read lets the network stream finish (final progress).
        if (this.size !== null && p >= this.size && !this.ended && this.carry === null) {
          const extra = await this.read();
          if (extra) this.pos += extra.length; // more than the size said: not ours to hand on
        }
        return null;
      }
      if (p < this.headBytes) return sliceOf(this.head, p, Math.min(stop, this.headBytes));
      if (this.headOpen && this.carry === null) {
        const piece = await this.read();
        if (!piece) return null;
        if (this.headBytes + piece.length <= HEAD_CACHE_BYTES) {
          this.head.push(piece);
          this.headBytes += piece.length;
          this.pos += piece.length;
        } else {
          // Too much to keep: from here on bytes pass through.
          this.headOpen = false;
          this.pos += piece.length;
          this.carry = piece;
        }
        continue;
      }
      let piece: Uint8Array;
      let pieceStart: number;
      if (this.carry) {
        piece = this.carry;
        pieceStart = this.pos - piece.length;
        this.carry = null;
      } else {
        const got = await this.read();
        if (!got) return null;
        piece = got;
        pieceStart = this.pos;
        this.pos += piece.length;
      }
      if (pieceStart + piece.length <= p) continue; // before what was asked: skip
      if (pieceStart > p) throw new VidmuxError('internal', `VidPickr stream reader lost bytes ${p}-${pieceStart}.`, { provider: PROVIDER });
      const from = p - pieceStart;
      const take = Math.min(piece.length - from, stop - p);
      if (from + take < piece.length) this.carry = piece.subarray(from + take);
      return piece.subarray(from, from + take);
    }
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.onEnd();
  }

  private async read(): Promise<Uint8Array | null> {
    if (this.ended) return null;
    this.reader ??= this.inner.stream(0, undefined, this.signal).getReader();
    for (;;) {
      const { done, value } = await this.reader.read();
      if (done) {
        this.end();
        return null;
      }
      if (value.length) return value;
    }
  }
}

function sliceOf(parts: Uint8Array[], start: number, end: number): Uint8Array {
  const out = new Uint8Array(Math.max(0, end - start));
  let at = 0;
  for (const part of parts) {
    const s = Math.max(start, at);
    const e = Math.min(end, at + part.length);
    if (s < e) out.set(part.subarray(s - at, e - at), s - start);
    at += part.length;
    if (at >= end) break;
  }
  return out;
}
