/**
 * What happens when the user asks for a download (the button, a quick choice, the popup picker, the
 * context menu, a retry): one job spec for the engine, with the user's providers in their order
 * (the page's own media is the page provider), or one job per video of a playlist. What cannot work
 * is refused before any job exists. Pure: the background passes its stores and its providers.
 */
import { VidmuxError } from '../errors';
import { cleanTitle } from '../filename';
import { classifyUrl, pageMediaProblem } from '../page-media';
import { providerHandles } from '../providers/coverage';
import { resolveWithFallback, type ProviderAttempt } from '../providers/registry';
import type { Provider } from '../providers/types';
import type { KeyedProvider } from '../schemas/ids';
import type { Job } from '../schemas/job';
import type { ProviderSetup } from '../schemas/job-spec';
import type { MediaCandidate, MediaInfo } from '../schemas/media';
import { DownloadRequestSchema, type DownloadRequest, type DownloadRequestInput } from '../schemas/request';
import type { Settings } from '../schemas/settings';
import type { TornadoStorage } from '../schemas/tornado-storage';
import { youtubeVideoId } from '../sites';
import type { DownloadService } from './downloads';
import { wishFor } from './wish';

/** A picker's resolve stays usable for a download this long (VidPickr's tokens last ~10 min). */
const RESOLVE_REUSE_MS = 5 * 60_000;
const RESOLVE_CACHE_SIZE = 20;

export interface DownloadRequestDeps {
  loadSettings(): Promise<Settings>;
  getApiKey(provider: KeyedProvider): Promise<string | null>;
  getTornadoStorage(): Promise<TornadoStorage | null>;
  /** Builds providers on the background's own client (for the picker and playlists). */
  createProviders(setups: ProviderSetup[], tornadoStorage: TornadoStorage | null): Provider[];
  downloads: DownloadService;
  now?: () => number;
}

export class DownloadRequests {
  /** The picker's resolves, by provider and URL, with the provider's state to download without resolving again. */
  private readonly resolved = new Map<string, { at: number; info: MediaInfo }>();

  constructor(private readonly deps: DownloadRequestDeps) {}

  /** Providers in the user's order with their keys (the page: with the sites allowed local addresses). */
  async providerSetups(settings: Settings): Promise<ProviderSetup[]> {
    return Promise.all(
      settings.providerOrder.map(async (id) =>
        id === 'page'
          ? { id, apiKey: null, baseUrl: null, privateNetworkSites: settings.privateNetworkSites }
          : { id, apiKey: await this.deps.getApiKey(id), baseUrl: settings.baseUrls[id] ?? null },
      ),
    );
  }

  /** Starts what the request asks for; returns the (first) job. `tabId` is whose queue it joins. */
  async start(raw: DownloadRequestInput, tabId: number | null, opts: { jobId?: string } = {}): Promise<Job> {
    const req = DownloadRequestSchema.parse(raw);
    const settings = await this.deps.loadSettings();
    const usable = (await this.providerSetups(settings)).filter((s) => s.id === 'page' || s.apiKey);
    const target = req.url ?? req.page.url;
    const media = req.url && req.url !== req.page.url ? linkCandidate(req.url) : req.media;
    const keyed = usable.filter((s) => s.id !== 'page' && providerHandles(s.id, target));
    if (!keyed.length) this.refuseEarly(target, media);

    const storage = await this.deps.getTornadoStorage();
    const wish = wishFor(req.choice, settings);
    const base = { page: req.page, tabId, filenameTemplate: settings.filenameTemplate, request: req, ...(opts.jobId ? { jobId: opts.jobId } : {}) };
    // A link or a video's own address (the context menu) is judged by the page it is on.
    const pageUrl = target !== req.page.url && /^https?:\/\//i.test(req.page.url) ? req.page.url : null;
    const spec = { url: target, pageUrl, media, wish, providers: usable, tornadoStorage: storage, connections: settings.connections, limits: settings.limits, resolved: this.reusable(target, wish.formatProvider) };

    // A playlist a provider expands (Tornado): one queue entry per video, each its own job.
    for (const setup of keyed) {
      const provider = this.deps.createProviders([setup], storage)[0];
      const entries = await provider?.expand?.(target, { quality: wish.quality, audioFormat: wish.audioFormat, subtitles: wish.subtitleLanguages.length > 0 });
      if (!entries?.length) continue;
      const jobs: Job[] = [];
      for (const entry of entries) {
        const title = entry.title ?? `${cleanTitle(req.page.title)} (${entry.index + 1} of ${entry.total})`;
        jobs.push(await this.deps.downloads.start({ ...base, page: { title, url: req.page.url }, spec: { ...spec, url: entry.url ?? target, providers: [setup], resolved: null, entry } }));
      }
      return jobs[0]!;
    }
    return this.deps.downloads.start({ ...base, spec });
  }

  /** What the providers offer for `url` (the popup's picker). The provider's private state stays here. */
  async resolve(url: string, media: MediaCandidate | null = null): Promise<{ info: MediaInfo; attempts: ProviderAttempt[] }> {
    const settings = await this.deps.loadSettings();
    const providers = this.deps.createProviders(await this.providerSetups(settings), await this.deps.getTornadoStorage());
    const { info, attempts } = await resolveWithFallback(url, providers, media ? { media } : {});
    this.resolved.delete(`${info.provider} ${url}`);
    this.resolved.set(`${info.provider} ${url}`, { at: this.now(), info });
    while (this.resolved.size > RESOLVE_CACHE_SIZE) this.resolved.delete(this.resolved.keys().next().value!);
    const { resolved: _private, ...shown } = info;
    return { info: shown, attempts };
  }

  /** With only the page's own media to go on: what cannot work is refused now, before any job. */
  private refuseEarly(target: string, media: MediaCandidate | null): void {
    if (youtubeVideoId(target)) {
      throw new VidmuxError('needs_key', 'Saving YouTube videos needs a provider: add a VidPickr, RenderIO or Tornado key in Vidmux options.');
    }
    if (!media) throw new VidmuxError('not_a_file', 'There is no video to save here.');
    const problem = pageMediaProblem(media);
    if (problem) throw new VidmuxError(problem.code, problem.message, { provider: 'page' });
  }

  /** The picker's resolve of `url` by the provider a picked format came from, while it is fresh. */
  private reusable(url: string, provider: string | null): MediaInfo | null {
    if (!provider) return null;
    const hit = this.resolved.get(`${provider} ${url}`);
    return hit && this.now() - hit.at < RESOLVE_REUSE_MS ? hit.info : null;
  }

  private now(): number {
    return this.deps.now?.() ?? Date.now();
  }
}

/** A link (context menu) described as a media candidate. */
function linkCandidate(url: string): MediaCandidate {
  return { id: 'link', kind: classifyUrl(url), src: url, mimeType: null, width: 0, height: 0, duration: null };
}

export type { DownloadRequest };
