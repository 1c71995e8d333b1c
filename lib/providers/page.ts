/**
 * The page's own media as a provider: the video the user clicked (a file, or the HLS/DASH stream
 * its player loads), a direct media file or manifest URL, or a web page whose HTML points at files
 * or manifests. Needs no key. Its formats are chosen like every provider's (the user's quality and
 * codec preference apply to a stream too); files are fetched with parallel ranged requests, stream
 * tracks segment by segment (page-streams.ts), and separate video and audio are joined by the
 * engine's muxer.
 */
import { z } from 'zod';
import { VidmuxError } from '../errors';
import { parseDashManifest } from '../manifests/dash';
import { parseHls } from '../manifests/hls';
import { extensionFor } from '../media-types';
import { privateNetworkGuard } from '../net/address';
import { HttpClient } from '../net/http';
import { openRangedSource, type RangedSource } from '../net/ranged-fetch';
import { copyToSink } from '../net/save';
import { pageMediaProblem } from '../page-media';
import { TrackProgress } from '../progress';
import type { MediaCandidate } from '../schemas/media';
import { manifestKind } from '../sites';
import { providerHandles } from './coverage';
import { makeFormat } from './kit/format';
import { scanPageHtml } from './page-html';
import { dashFormats, downloadStream, fetchManifest, findPlayingStream, hlsFormats, saveSubtitles, StreamPlanSchema, SubtitlePlanSchema, type AddFormat, type StreamFacts } from './page-streams';
import type { AccountInfo, DownloadContext, DownloadResult, Format, MediaInfo, Provider, ProviderConfig, Selection } from './types';

const MEDIA_EXT = /\.(mp4|m4v|m4a|mov|webm|mkv|mp3|ogg|ogv|opus)$/i;
const MAX_HTML_BYTES = 5 * 1024 * 1024;
/** Containers whose audio track the media engine reads on its own. */
const MP4_CONTAINERS = new Set(['mp4', 'm4v', 'mov']);
/** Formats one page offers at most. */
const MAX_FORMATS = 500;

/**
 * What a page format stands for: a file to copy, a file's track to mux, or a stream's tracks.
 * Kept in the resolve's state.
 */
const PlanSchema = z.discriminatedUnion('mode', [
  z.object({ mode: z.literal('copy'), url: z.string().url() }),
  z.object({ mode: z.literal('mux'), video: z.string().url().nullable(), audio: z.string().url().nullable() }),
  StreamPlanSchema,
  SubtitlePlanSchema,
]);
type Plan = z.infer<typeof PlanSchema>;
/** `page`: the page the resolved URL was found on, when it is not that page (a link). */
const StateSchema = z.object({ plans: z.record(z.string(), PlanSchema), page: z.string().optional() });

export class PageProvider implements Provider {
  readonly id = 'page' as const;
  readonly displayName = 'The page itself';
  readonly needsKey = false;
  private readonly http: HttpClient;
  private readonly connections: number;
  private readonly chunkSize: number | undefined;
  private readonly privateNetworkSites: readonly string[];

  /** `privateNetworkSites`: sites whose pages the user allowed to make it fetch local addresses. */
  constructor(config: Pick<ProviderConfig, 'http'> & { connections?: number; chunkSize?: number; privateNetworkSites?: readonly string[] } = {}) {
    this.http = config.http ?? new HttpClient({ provider: 'page' });
    this.connections = config.connections ?? 4;
    this.chunkSize = config.chunkSize;
    this.privateNetworkSites = config.privateNetworkSites ?? [];
  }

  /**
   * The client for everything fetched for the page at `pageUrl` (its HTML, manifests, segments,
   * keys, subtitles, files): a page on the internet may not make it reach a local address.
   */
  private clientFor(pageUrl: string): HttpClient {
    const guard = privateNetworkGuard(pageUrl, this.privateNetworkSites, 'page');
    return guard ? this.http.with(guard) : this.http;
  }

  supports(url: string): boolean {
    return providerHandles('page', url);
  }

  async resolve(url: string, opts: { signal?: AbortSignal; media?: MediaCandidate | null; pageUrl?: string | null } = {}): Promise<MediaInfo> {
    const found = new Found(url, opts.pageUrl ?? null);
    const http = this.clientFor(opts.pageUrl ?? url);
    if (opts.media) await this.resolveCandidate(http, opts.media, found, opts.signal);
    else await this.resolveUrl(http, url, found, opts.signal);
    return found.info();
  }

  async download(info: MediaInfo, selection: Selection, ctx: DownloadContext): Promise<DownloadResult> {
    const state = StateSchema.safeParse(info.resolved?.state);
    const plan = state.success ? state.data.plans[selection.format.id] : undefined;
    if (!plan || selection.format.provider !== 'page') throw new VidmuxError('bad_input', 'That format is not one the page provider offered.', { provider: 'page' });
    const http = this.clientFor(state.data?.page ?? info.url);
    const fetch = { http, concurrency: this.connections };
    // Only the subtitles (the chooser's answer to "subtitles only"): they are the file.
    if (plan.mode === 'vtt') return { bytes: await saveSubtitles(plan, await ctx.target.media(), fetch, ctx.signal), subtitles: [] };
    if (plan.mode === 'stream') {
      const result = await downloadStream(plan, ctx, fetch, info.title);
      return { ...result, subtitles: await this.subtitles(http, selection.subtitles, state.data!.plans, ctx) };
    }
    const signal = ctx.signal;
    const kinds = plan.mode === 'copy' ? ['file' as const] : (['video', 'audio'] as const).filter((k) => plan[k]);
    const progress = new TrackProgress(ctx.onProgress, kinds);
    const open = (kind: string, url: string): Promise<RangedSource> =>
      openRangedSource(url, {
        client: http,
        connections: this.connections,
        ...(this.chunkSize ? { chunkSize: this.chunkSize } : {}),
        ...(signal ? { signal } : {}),
        onProgress: (p) => progress.set(kind, p),
      });
    progress.emit();
    if (plan.mode === 'copy') {
      const source = await open('file', plan.url);
      const sink = await ctx.target.media({ resumable: true });
      const what = selection.format.kind === 'audio' ? 'the audio' : 'the video';
      return { bytes: await copyToSink(source, sink, { media: { what }, reopen: () => open('file', plan.url), ...(signal ? { signal } : {}) }), subtitles: [] };
    }
    const [video, audio] = await Promise.all([plan.video ? open('video', plan.video) : null, plan.audio ? open('audio', plan.audio) : null]);
    const { bytes } = await ctx.mux({ ...(video ? { video } : {}), ...(audio ? { audio } : {}), title: info.title });
    return { bytes, subtitles: [] };
  }

  /** The stream's subtitles the selection asks for, each saved beside the video. */
  private async subtitles(http: HttpClient, formats: Format[], plans: Record<string, Plan>, ctx: DownloadContext): Promise<DownloadResult['subtitles']> {
    const saved: DownloadResult['subtitles'] = [];
    for (const format of formats) {
      const plan = plans[format.id];
      if (plan?.mode !== 'vtt') continue;
      const bytes = await saveSubtitles(plan, await ctx.target.subtitle(format), { http, concurrency: this.connections }, ctx.signal);
      saved.push({ format, bytes });
    }
    return saved;
  }

  async checkKey(): Promise<AccountInfo> {
    return { summary: 'No key needed.', details: {} };
  }

  /** The video the user clicked: what it plays, without a request for a plain file. */
  private async resolveCandidate(http: HttpClient, media: MediaCandidate, found: Found, signal?: AbortSignal): Promise<void> {
    const problem = pageMediaProblem(media);
    if (problem) throw new VidmuxError(problem.code, problem.message, { provider: 'page' });
    found.title = fileStem(media.src);
    if (media.kind === 'file') found.file(media.src, media.mimeType, null, media.height || null, media.width || null);
    else if (media.streams?.length) {
      const playing = await findPlayingStream(http, media.streams, signal);
      found.title = fileStem(playing.url);
      await this.streamFormats(http, playing.kind, playing.text, playing.url, found, signal);
    } else await this.stream(http, media.src, found, signal);
  }

  /** A URL: a media file, a DASH manifest, or a web page with media in its HTML. */
  private async resolveUrl(http: HttpClient, url: string, found: Found, signal?: AbortSignal): Promise<void> {
    const res = await http.request(url, { ...(signal ? { signal } : {}), headers: { accept: 'text/html,application/dash+xml,application/vnd.apple.mpegurl,video/*,audio/*,*/*' } });
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    const size = Number(res.headers.get('content-length')) || null;
    const path = new URL(res.url).pathname;
    found.title = fileStem(res.url) || 'video';
    if (type.startsWith('video/') || type.startsWith('audio/') || MEDIA_EXT.test(path)) {
      await res.cancel();
      found.file(res.url, type || null, size);
      return;
    }
    const kind = manifestKind(res.url, type || null);
    if (kind) {
      await this.streamFormats(http, kind, await res.text(), res.url, found, signal);
      return;
    }
    if (!type.includes('html')) {
      await res.cancel();
      throw new VidmuxError('unsupported', `${url} is neither a media file nor a web page (${type || 'no content type'}).`, { provider: 'page' });
    }
    const scan = scanPageHtml(await readLimited(res.body, MAX_HTML_BYTES), res.url);
    if (scan.title) found.title = scan.title;
    // A stream that cannot be saved (protected, live) does not hide the page's other media; if
    // nothing else is found, its reason is the answer.
    let refusal: unknown = null;
    for (const ref of scan.media) {
      const kind = manifestKind(ref.url, ref.mimeType);
      if (!kind) found.file(ref.url, ref.mimeType, null);
      else if (!found.hasStream(ref.url)) {
        try {
          await this.stream(http, ref.url, found, signal);
        } catch (err) {
          if (signal?.aborted) throw err;
          refusal ??= err;
        }
      }
    }
    if (!found.formats.length && refusal) throw refusal;
    if (!found.formats.length) throw new VidmuxError('not_found', `No video file found on ${new URL(url).host}${new URL(url).pathname}.`, { provider: 'page' });
  }

  /** An HLS or DASH manifest URL: its formats. */
  private async stream(http: HttpClient, manifestUrl: string, found: Found, signal?: AbortSignal): Promise<void> {
    const kind = manifestKind(manifestUrl);
    const fetched = await fetchManifest(http, manifestUrl, signal);
    // A manifest URL without a telling path (…/playlist?id=1): its text says which it is.
    await this.streamFormats(http, kind ?? (/^\s*#EXTM3U/.test(fetched.text) ? 'hls' : 'dash'), fetched.text, fetched.url, found, signal);
  }

  private async streamFormats(http: HttpClient, kind: 'hls' | 'dash', text: string, url: string, found: Found, signal?: AbortSignal): Promise<void> {
    const add: AddFormat = Object.assign((plan: Plan, fields: Parameters<typeof makeFormat>[2], label?: string) => found.add(plan, fields, label), {
      subtitle: (plan: Plan, fields: Parameters<typeof makeFormat>[2], label?: string) => found.subtitle(plan, fields, label),
    });
    let facts: StreamFacts;
    try {
      facts = kind === 'hls' ? await hlsFormats(http, parseHls(text, url), url, add, signal) : dashFormats(parseDashManifest(text, url), url, add);
    } catch (err) {
      if (err instanceof VidmuxError && !err.provider) throw new VidmuxError(err.code, err.message, { provider: 'page', cause: err });
      throw err;
    }
    if (facts.duration) found.duration = facts.duration;
  }
}

/** The formats found so far and what each one stands for. */
class Found {
  readonly formats: Format[] = [];
  readonly subtitles: Format[] = [];
  private readonly plans: Record<string, Plan> = {};
  title = '';
  duration: number | null = null;

  constructor(
    private readonly url: string,
    private readonly page: string | null,
  ) {}

  add(plan: Plan, fields: Parameters<typeof makeFormat>[2], label?: string): void {
    if (this.formats.length >= MAX_FORMATS) return; // a page with thousands of sources: the first are plenty
    const id = `page:${this.formats.length}`;
    this.plans[id] = plan;
    this.formats.push(makeFormat('page', id, fields, label));
  }

  file(url: string, mimeType: string | null, size: number | null, height: number | null = null, width: number | null = null): void {
    const container = extensionFor(url, mimeType);
    const audioOnly = /^audio\//.test(mimeType ?? '') || ['m4a', 'mp3', 'opus'].includes(container);
    const fields = { kind: audioOnly ? ('audio' as const) : ('video+audio' as const), container, delivery: 'file' as const, approxBytes: size, height, width };
    const name = new URL(url).pathname.split('/').pop();
    this.add({ mode: 'copy', url }, fields, `${makeFormat('page', 'x', fields).label} · ${name}`);
    // An MP4 video holds its sound as an MP4 track: the media engine can save that track alone
    // (stream copy, no re-encode), so "audio only" works on a page that has only the video file.
    if (!audioOnly && MP4_CONTAINERS.has(container)) {
      this.add({ mode: 'mux', video: null, audio: url }, { kind: 'audio', container: 'm4a', delivery: 'tracks' }, `Audio · M4A · from ${name}`);
    }
  }

  subtitle(plan: Plan, fields: Parameters<typeof makeFormat>[2], label?: string): void {
    if (this.subtitles.length >= MAX_FORMATS) return;
    const id = `page:sub:${this.subtitles.length}`;
    this.plans[id] = plan;
    this.subtitles.push(makeFormat('page', id, fields, label));
  }

  /** Whether a format already stands for this manifest, or for a media playlist of one. */
  hasStream(url: string): boolean {
    return Object.values(this.plans).some((p) => p.mode === 'stream' && (p.manifest === url || p.video === url || p.audio === url));
  }

  info(): MediaInfo {
    return { provider: 'page', url: this.url, title: this.title || 'video', durationSeconds: this.duration, thumbnail: null, formats: this.formats, subtitles: this.subtitles, resolved: { at: Date.now(), state: { plans: this.plans, ...(this.page ? { page: this.page } : {}) } } };
  }
}

/** The file name of a URL without its extension ("clip" for .../clip.mp4?sig=1). */
function fileStem(src: string): string {
  try {
    const last = new URL(src).pathname.split('/').pop() ?? '';
    const stem = decodeURIComponent(last).replace(/\.[a-z0-9]{2,5}$/i, '');
    // A manifest's name says nothing of the video ("master.m3u8"): the page's title names it then.
    return GENERIC_NAMES.test(stem) ? '' : stem;
  } catch {
    return '';
  }
}

/** File names that are a stream's plumbing, not its title. */
const GENERIC_NAMES = /^(master|index|manifest|playlist|stream|main|chunklist|media|prog_index|video|output)([_-]\w{0,8}|\d{0,4})$/i;

async function readLimited(body: ReadableStream<Uint8Array>, max: number): Promise<string> {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let text = '';
  let n = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.length;
    text += decoder.decode(value, { stream: true });
    if (n >= max) {
      await reader.cancel();
      break;
    }
  }
  return text + decoder.decode();
}
