/**
 * The page's own media as a provider: a direct media file URL, a DASH manifest, or a web page whose
 * `<video>`/`<source>` point at files. Needs no key. Downloads run through the same save pipeline
 * as the extension's button (network engine, then copy or remux).
 */
import { VidmuxError } from '../errors';
import { parseDashManifest, pickTracks, type ManifestTrack } from '../manifests/dash';
import { HttpClient } from '../net/http';
import { extensionFor, mimeTypeFor } from '../media-types';
import { runSave } from '../jobs/run-save';
import { scanPageHtml } from './page-html';
import { makeFormat } from './select';
import { youtubeVideoId } from '../sites';
import type { AccountInfo, DownloadChoice, DownloadContext, DownloadResult, Format, MediaInfo, Provider, ProviderConfig } from './types';

const MEDIA_EXT = /\.(mp4|m4v|m4a|mov|webm|mkv|mp3|ogg|ogv|opus)$/i;
const MAX_HTML_BYTES = 5 * 1024 * 1024;

/** Format ids of the page provider carry what to fetch: a file, or a DASH video/audio pair. */
type PageFormatPlan = { mode: 'copy'; url: string } | { mode: 'mux'; video: string | null; audio: string | null };

function encodePlan(p: PageFormatPlan): string {
  return `page:${JSON.stringify(p)}`;
}

function decodePlan(id: string): PageFormatPlan {
  try {
    if (id.startsWith('page:')) return JSON.parse(id.slice(5)) as PageFormatPlan;
  } catch {
    /* fall through */
  }
  throw new VidmuxError('bad_input', 'That format is not one the page provider offered.', { provider: 'page' });
}

export class PageProvider implements Provider {
  readonly id = 'page' as const;
  readonly displayName = 'The page itself';
  readonly needsKey = false;
  private readonly http: HttpClient;
  private readonly connections: number;
  private readonly chunkSize: number | undefined;

  constructor(config: Pick<ProviderConfig, 'http'> & { connections?: number; chunkSize?: number } = {}) {
    this.http = config.http ?? new HttpClient({ provider: 'page' });
    this.connections = config.connections ?? 4;
    this.chunkSize = config.chunkSize;
  }

  supports(url: string): boolean {
    // YouTube never serves its videos as plain files or open manifests: there the page's own
    // media is a dead end, and only the keyed providers help.
    return /^https?:\/\//i.test(url) && !youtubeVideoId(url);
  }

  async resolve(url: string, opts: { signal?: AbortSignal } = {}): Promise<MediaInfo> {
    const res = await this.http.request(url, { ...(opts.signal ? { signal: opts.signal } : {}), headers: { accept: 'text/html,application/dash+xml,video/*,audio/*,*/*' } });
    const type = (res.headers.get('content-type') ?? '').toLowerCase();
    const size = Number(res.headers.get('content-length')) || null;
    const path = new URL(res.url).pathname;
    const stem = decodeURIComponent(path.split('/').pop() ?? '').replace(/\.[a-z0-9]{2,5}$/i, '') || 'video';

    if (type.startsWith('video/') || type.startsWith('audio/') || MEDIA_EXT.test(path)) {
      await res.cancel();
      return this.info(url, stem, [this.fileFormat(res.url, type || null, size)]);
    }
    if (type.includes('dash+xml') || /\.mpd$/i.test(path)) {
      return this.dashInfo(url, stem, await res.text(), res.url);
    }
    if (!type.includes('html')) {
      await res.cancel();
      throw new VidmuxError('unsupported', `${url} is neither a media file nor a web page (${type || 'no content type'}).`, { provider: 'page' });
    }
    const html = await readLimited(res.body, MAX_HTML_BYTES);
    const scan = scanPageHtml(html, res.url);
    const formats: Format[] = [];
    for (const ref of scan.media) {
      if (/\.mpd(\?|#|$)/i.test(ref.url) || /dash\+xml/i.test(ref.mimeType ?? '')) {
        const text = await (await this.http.request(ref.url, opts.signal ? { signal: opts.signal } : {})).text();
        formats.push(...(await this.dashInfo(url, scan.title, text, ref.url)).formats);
      } else if (!/\.m3u8(\?|#|$)/i.test(ref.url)) {
        formats.push(this.fileFormat(ref.url, ref.mimeType, null));
      }
    }
    if (!formats.length) throw new VidmuxError('not_found', `No video file found on ${new URL(url).host}${new URL(url).pathname}.`, { provider: 'page' });
    return this.info(url, scan.title || stem, formats);
  }

  async download(info: MediaInfo, choice: DownloadChoice, ctx: DownloadContext): Promise<DownloadResult> {
    const plan = decodePlan(choice.format.id);
    const spec =
      plan.mode === 'copy'
        ? { jobId: 'page', mode: 'copy' as const, title: info.title, mimeType: mimeTypeFor(choice.format.container), tracks: [{ kind: 'file' as const, url: plan.url }], connections: this.connections }
        : {
            jobId: 'page',
            mode: 'mux' as const,
            title: info.title,
            mimeType: plan.video ? 'video/mp4' : 'audio/mp4',
            tracks: [
              ...(plan.video ? [{ kind: 'video' as const, url: plan.video }] : []),
              ...(plan.audio ? [{ kind: 'audio' as const, url: plan.audio }] : []),
            ],
            connections: this.connections,
          };
    const { bytes } = await runSave(spec, {
      createSink: () => ctx.target.media(),
      client: this.http,
      ...(this.chunkSize ? { chunkSize: this.chunkSize } : {}),
      ...(ctx.signal ? { signal: ctx.signal } : {}),
      ...(ctx.onProgress ? { onProgress: ctx.onProgress } : {}),
    });
    return { bytes, subtitles: [] };
  }

  async checkKey(): Promise<AccountInfo> {
    return { summary: 'No key needed.', details: {} };
  }

  private info(url: string, title: string, formats: Format[]): MediaInfo {
    return { provider: 'page', url, title, durationSeconds: null, thumbnail: null, formats, subtitles: [] };
  }

  private fileFormat(url: string, mimeType: string | null, size: number | null): Format {
    const container = extensionFor(url, mimeType);
    const audioOnly = /^audio\//.test(mimeType ?? '') || ['m4a', 'mp3', 'opus'].includes(container);
    const kind = audioOnly ? ('audio' as const) : ('video+audio' as const);
    const format = makeFormat('page', encodePlan({ mode: 'copy', url }), { kind, container, delivery: 'file', approxBytes: size });
    return { ...format, label: `${format.label} · ${new URL(url).pathname.split('/').pop()}` };
  }

  private async dashInfo(url: string, title: string, text: string, manifestUrl: string): Promise<MediaInfo> {
    const manifest = parseDashManifest(text, manifestUrl);
    const { audio } = pickTracks(manifest);
    const single = (t: ManifestTrack | null) => (t?.singleFileUrl ?? null);
    const formats: Format[] = [];
    for (const v of manifest.video) {
      if (!single(v)) continue;
      formats.push(
        makeFormat('page', encodePlan({ mode: 'mux', video: single(v), audio: single(audio) }), {
          kind: 'video+audio',
          container: 'mp4',
          delivery: 'tracks',
          videoCodec: v.codecs,
          audioCodec: audio?.codecs ?? null,
          width: v.width,
          height: v.height,
          fps: v.fps,
          bitrateKbps: Math.round((v.bandwidth + (audio?.bandwidth ?? 0)) / 1000),
          approxBytes: manifest.duration ? Math.round(((v.bandwidth + (audio?.bandwidth ?? 0)) / 8) * manifest.duration) : null,
          language: audio?.language ?? null,
        }),
      );
    }
    for (const a of manifest.audio) {
      if (!single(a)) continue;
      formats.push(
        makeFormat('page', encodePlan({ mode: 'mux', video: null, audio: single(a) }), {
          kind: 'audio',
          container: 'm4a',
          delivery: 'tracks',
          audioCodec: a.codecs,
          bitrateKbps: Math.round(a.bandwidth / 1000),
          language: a.language,
        }),
      );
    }
    if (!formats.length) throw new VidmuxError('unsupported', 'This DASH stream has no single-file tracks Vidmux can save yet.', { provider: 'page' });
    return { provider: 'page', url, title, durationSeconds: manifest.duration, thumbnail: null, formats, subtitles: [] };
  }
}

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
