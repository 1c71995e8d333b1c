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
import { maskKey, ProviderError, VidmuxError, type ErrorCode } from '../errors';
import { ForwardSource } from '../net/forward-source';
import type { FailureDetail } from '../net/http';
import { openRangedSource } from '../net/ranged-fetch';
import { writeAll } from '../net/save';
import { RateWindow } from '../net/rate-window';
import { cancelledError, realSleep, type Sleep } from '../net/retry-policy';
import { TrackProgress } from '../progress';
import { providerHandles } from './coverage';
import { httpStatusText, ProviderApi, quoteSaid } from './kit/api';
import { makeFormat } from './kit/format';
import type { AccountInfo, DownloadContext, DownloadResult, Format, MediaInfo, Provider, ProviderConfig, Selection } from './types';

const PROVIDER = 'vidpickr';
const KEY_HEADER = 'X-API-Key';
type Endpoint = 'info' | 'split_token' | 'stream' | 'subtitle';

/** A public video used by {@link VidPickrProvider.checkKey}: the vendor's own example. */
export const VIDPICKR_CHECK_URL = 'https://www.youtube.com/watch?v=dQw4w9WgXcQ';
/** A resolve younger than this is reused for a download instead of resolving again (tokens last ~10 min). */
const REUSE_RESOLVE_MS = 5 * 60_000;
/** VidPickr's rate windows are a minute long (X-RateLimit-Remaining counts the current one). */
const RATE_WINDOW_MS = 60_000;
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
export class VidPickrError extends ProviderError {
  readonly apiCode: string;
  readonly retryAfterSeconds: number | undefined;
  constructor(code: ErrorCode, apiCode: string, message: string, opts: { status?: number; cause?: unknown; retryAfterSeconds?: number } = {}) {
    super(code, message, { provider: PROVIDER, ...opts });
    this.apiCode = apiCode;
    this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** VidPickr's `{error:{code,message}}` body, or `http_<status>` as the SDKs do when there is none. */
export function parseErrorBody(status: number, text: string): { code: string; message: string } {
  try {
    const parsed = ErrorBodySchema.safeParse(JSON.parse(text));
    if (parsed.success) return { code: parsed.data.error.code, message: parsed.data.error.message ?? '' };
  } catch {
    /* not JSON */
  }
  return { code: `http_${status}`, message: httpStatusText(status) };
}

/** Whether a 400 says the token is past its lifetime (re-resolving fixes it). */
function isExpiredToken(message: string): boolean {
  return /expired/i.test(message);
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
      if (isExpiredToken(api.message)) return new VidPickrError('expired', api.code, `The VidPickr download link expired and could not be renewed (400 bad_request${quoteSaid(api.message)}). Start the download again.`, o);
      if (/no source/i.test(api.message)) return new VidPickrError('bad_input', api.code, `VidPickr says the token has no media source (a subtitle token cannot be streamed)${quoteSaid(api.message)}.`, o);
      if (/invalid token/i.test(api.message)) return new VidPickrError('bad_input', api.code, `VidPickr rejected a download token as invalid${quoteSaid(api.message)}. Resolve the video again.`, o);
      return new VidPickrError('bad_input', api.code, `VidPickr rejected the request as malformed (400 bad_request${quoteSaid(api.message)}).`, o);
    default: {
      const base = status === 404 ? 'VidPickr has no such endpoint (404); check the VidPickr base URL in the options' : `VidPickr answered ${api.message || `HTTP ${status}`}`;
      const code: ErrorCode = status === 401 ? 'unauthorized' : status === 403 ? 'forbidden' : status === 404 ? 'not_found' : status === 429 ? 'rate_limited' : status >= 500 ? 'download_failed' : 'http_error';
      const detail = api.code.startsWith('http_') ? ` (${api.code})` : ` (${status} ${api.code}${quoteSaid(api.message)})`;
      return new VidPickrError(code, api.code, `${base}${detail}.`, o);
    }
  }
}

/**
 * VidPickr's words for any failure the HTTP client gives up on: its own `{error}` body when it sent
 * one, else what the SDKs say for the status (429 rate_limited, 502 upstream_failed, 500
 * lookup_failed); transport failures say VidPickr could not be reached.
 */
function vidpickrWording(key: string | null) {
  return (err: VidmuxError, d: FailureDetail): VidmuxError => {
    if (d.status !== undefined) {
      const api = parseErrorBody(d.status, d.body ?? '');
      const bySdk: Record<number, string> = { 429: 'rate_limited', 502: 'upstream_failed', 500: 'lookup_failed' };
      const code = api.code.startsWith('http_') ? (bySdk[d.status] ?? api.code) : api.code;
      return vidpickrError(d.status, { code, message: api.message }, key, { cause: err, ...(d.retryAfterSeconds === undefined ? {} : { retryAfterSeconds: d.retryAfterSeconds }) });
    }
    if (err.code === 'network' || err.code === 'timeout') return new VidPickrError(err.code, err.code, `Could not reach VidPickr: ${err.message}`, { cause: err });
    return err;
  };
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
const audioIdOf = (a: AudioEntry) => `vidpickr:audio:${a.acodec ?? 'unknown'}:${a.bitrate ?? 0}:${a.ext ?? ''}`;
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
        sourceContainer: v.ext,
        // Its sound is one of audio_only, which the chooser picks to fit the video and container
        // (with no audio_only list, the merge token's own audio half).
        pairsWithAudio: (info.audio_only ?? []).length > 0,
        videoCodec: v.vcodec,
        audioCodec: (info.audio_only ?? []).length > 0 ? null : (audio?.acodec ?? null),
        height: v.height,
        bitrateKbps: v.entry?.bitrate != null && audio?.bitrate != null ? v.entry.bitrate + audio.bitrate : null,
        approxBytes: vBytes !== null ? Math.round(vBytes + (aBytes ?? 0)) : null,
      }),
    );
  }
  const seenAudio = new Set<string>();
  for (const a of info.audio_only ?? []) {
    const id = audioIdOf(a);
    if (seenAudio.has(id)) continue;
    seenAudio.add(id);
    formats.push(
      makeFormat(PROVIDER, id, {
        kind: 'audio',
        // Saved as MP4 audio: .m4a for AAC; other codecs (Opus) keep the generic .mp4.
        container: a.ext === 'm4a' || (a.acodec ?? '').startsWith('mp4a') ? 'm4a' : 'mp4',
        delivery: 'tracks',
        sourceContainer: a.ext ?? null,
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
  private readonly api: ProviderApi;
  /** The API client for /stream: a token that expired (400 "token expired", 403, 410) is renewed, not fatal. */
  private readonly streams: ProviderApi['http'];
  private readonly window: RateWindow;
  private readonly now: () => number;
  /** The last /info per URL, so a download right after a resolve does not resolve again. */
  private readonly resolved = new Map<string, { at: number; info: VidPickrInfo }>();

  constructor(
    config: ProviderConfig,
    private readonly tuning: VidPickrTuning = {},
  ) {
    this.now = config.now ?? (() => Date.now());
    const sleep: Sleep = config.sleep ?? realSleep;
    // Every request counts against its endpoint's minute window, streams included.
    this.window = new RateWindow({ windowMs: RATE_WINDOW_MS, now: this.now, sleep, keyOf: endpointOf });
    const wording = vidpickrWording(config.apiKey);
    this.api = new ProviderApi({
      provider: PROVIDER,
      name: 'VidPickr',
      apiKey: config.apiKey,
      baseUrl: config.baseUrl ?? null,
      ...(config.http ? { http: config.http } : {}),
      sleep,
      auth: (key) => ({ header: KEY_HEADER, value: key }),
      hooks: this.window.hooks(),
      wording,
    });
    this.streams = this.api.http.with({
      classify: (status, body) => (status === 400 && isExpiredToken(parseErrorBody(status, body).message) ? 'expired' : undefined),
      mapError: wording,
    });
  }

  get baseUrl(): string {
    return this.api.baseUrl;
  }

  supports(url: string): boolean {
    return providerHandles(PROVIDER, url);
  }

  async resolve(url: string, opts: { signal?: AbortSignal } = {}): Promise<MediaInfo> {
    if (!this.supports(url)) throw new VidmuxError('unsupported', 'VidPickr only handles YouTube links.', { provider: PROVIDER });
    const info = await this.fetchInfo(url, opts.signal);
    return { ...toMediaInfo(url, info), resolved: { at: this.resolved.get(url)!.at, state: info } };
  }

  async checkKey(opts: { signal?: AbortSignal } = {}): Promise<AccountInfo> {
    const started = this.now();
    await this.fetchInfo(VIDPICKR_CHECK_URL, opts.signal);
    return {
      summary: 'Plus plan: the key works.',
      details: {
        key: this.api.apiKey ? maskKey(this.api.apiKey) : null,
        plan: 'Plus',
        infoCallsLeftThisMinute: this.window.remaining('info'),
        checkedInMs: Math.max(0, this.now() - started),
      },
    };
  }

  async download(info: MediaInfo, selection: Selection, ctx: DownloadContext): Promise<DownloadResult> {
    const { format } = selection;
    const signal = ctx.signal;
    this.adopt(info);
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
      const tokens = await this.tokensFor(info.url, format.id, signal, false, selection.audio?.id);
      const kinds = (['video', 'audio'] as const).filter((k) => tokens[k]);
      const progress = new TrackProgress(ctx.onProgress, kinds);
      progress.emit();
      const renewer = new TokenRenewer(tokens, () => this.tokensFor(info.url, format.id, signal, true, selection.audio?.id));
      const ended = new Set<string>();
      const open = async (kind: 'video' | 'audio') => {
        const source = await openRangedSource(this.streamUrl(renewer.tokens[kind]!), {
          client: this.streams,
          refresh: async (stale) => this.streamUrl(await renewer.fresh(kind, stale, (t) => this.streamUrl(t))),
          connections: this.tuning.connectionsPerTrack ?? 1,
          ...(this.tuning.chunkBytes ? { chunkSize: this.tuning.chunkBytes } : {}),
          onProgress: (p) => progress.set(kind, p),
          ...(signal ? { signal } : {}),
        });
        // One connection per track, read front to back: VidPickr counts every request (60/min).
        return new ForwardSource(source, {
          ...(signal ? { signal } : {}),
          onEnd: () => {
            ended.add(kind);
            if (ended.size === kinds.length) progress.setStage('muxing');
          },
        });
      };
      const [video, audio] = await Promise.all([tokens.video ? open('video') : null, tokens.audio ? open('audio') : null]);
      const { bytes } = await ctx.mux({ ...(video ? { video } : {}), ...(audio ? { audio } : {}), title: info.title });

      // The video is saved by now: a subtitle that cannot be had is left out of the result rather
      // than failing the whole download (which would make the registry fetch it all again elsewhere).
      const subtitles: DownloadResult['subtitles'] = [];
      for (const sub of selection.subtitles) {
        let n: number | null = null;
        try {
          n = await this.saveSubtitle(info.url, sub, ctx);
        } catch (err) {
          if (signal?.aborted || (err instanceof VidmuxError && err.code === 'cancelled')) throw err;
        }
        if (n !== null) subtitles.push({ format: sub, bytes: n });
      }
      return { bytes, subtitles };
    } catch (err) {
      if (signal?.aborted) throw cancelledError(signal);
      throw err;
    }
  }

  // ---- pieces ---------------------------------------------------------------------------------

  /** Takes over the /info of a resolve made elsewhere (the popup's picker), so it is not asked again. */
  private adopt(info: MediaInfo): void {
    if (!info.resolved || this.resolved.has(info.url)) return;
    const parsed = VidPickrInfoSchema.safeParse(info.resolved.state);
    if (parsed.success) this.resolved.set(info.url, { at: info.resolved.at, info: parsed.data });
  }

  private endpointPath(endpoint: Endpoint, params: Record<string, string>): string {
    return `/${endpoint}?${new URLSearchParams(params)}`;
  }

  private streamUrl(token: string): string {
    return this.api.url(this.endpointPath('stream', { token }));
  }

  /** One JSON/text call: key headers, rate window, VidPickr's error bodies in its words. */
  private async call(endpoint: Endpoint, params: Record<string, string>, signal?: AbortSignal): Promise<string> {
    const res = await this.api.call('GET', this.endpointPath(endpoint, params), {
      what: `/${endpoint}`,
      headers: { accept: endpoint === 'subtitle' ? 'text/plain, */*' : 'application/json' },
      signal,
    });
    return res.text;
  }

  private json<S extends z.ZodType>(endpoint: Endpoint, params: Record<string, string>, schema: S, signal?: AbortSignal): Promise<z.infer<S>> {
    return this.api.json('GET', this.endpointPath(endpoint, params), schema, { what: `/${endpoint}`, signal });
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
   * Runs `use` with the /info of `url` (the last one if recent); when a token in it turns out
   * expired, resolves again once and runs `use` with the fresh one.
   */
  private async withInfo<T>(url: string, signal: AbortSignal | undefined, fresh: boolean, use: (info: VidPickrInfo) => Promise<T>): Promise<T> {
    try {
      return await use(await this.infoFor(url, signal, fresh));
    } catch (err) {
      if (fresh || !(err instanceof VidPickrError && err.code === 'expired')) throw err;
      return use(await this.infoFor(url, signal, true));
    }
  }

  /** The tokens to stream for format `id`, found by height and codec (never list order); splits a merge token. */
  private tokensFor(url: string, id: string, signal: AbortSignal | undefined, fresh = false, audioId?: string): Promise<TrackTokens> {
    return this.withInfo(url, signal, fresh, (info) => this.tokensIn(info, id, signal, audioId));
  }

  /** `audioId`: the audio_only format the chooser paired with a video (else the SDKs' best). */
  private async tokensIn(info: VidPickrInfo, id: string, signal?: AbortSignal, audioId?: string): Promise<TrackTokens> {
    if (id.startsWith('vidpickr:audio:')) {
      const a = (info.audio_only ?? []).find((x) => audioIdOf(x) === id);
      if (!a) throw this.gone(id);
      return { video: null, audio: a.download_token };
    }
    const v = videoChoices(info).get(id);
    if (!v) throw this.gone(id);
    const paired = audioId ? (info.audio_only ?? []).find((x) => audioIdOf(x) === audioId) : undefined;
    if (audioId && !paired) throw this.gone(audioId);
    const audio = paired ?? bestAudio(info.audio_only ?? []);
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

  /** Fetches one subtitle format and writes it; null when this video has no such track. */
  private async saveSubtitle(url: string, sub: Format, ctx: DownloadContext): Promise<number | null> {
    const m = /^vidpickr:sub:(.+):(auto|manual):(srt|vtt|txt)$/.exec(sub.id);
    if (!m || sub.provider !== PROVIDER) return null;
    const [, code, auto, format] = m;
    const text = await this.withInfo(url, ctx.signal, false, async (info) => {
      const track = (info.subtitles ?? []).find((s) => subCode(s) === code && subAuto(s) === (auto === 'auto'));
      return track ? this.call('subtitle', { token: track.download_token, format: format! }, ctx.signal) : null;
    });
    if (text === null) return null;
    return writeAll(await ctx.target.subtitle(sub), new TextEncoder().encode(text));
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

/** Which rate window a URL counts against: its endpoint (`/v1/stream?...` -> `stream`). */
function endpointOf(url: string): string {
  return new URL(url).pathname.split('/').pop() ?? '';
}
