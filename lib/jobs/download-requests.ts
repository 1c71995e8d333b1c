/**
 * What happens when the user asks for a download (the button, a quick choice, the popup picker, the
 * context menu, a retry): a page a keyed provider handles goes through the providers in the user's
 * order; anything else is the page's own media. Pure: the background passes the stores.
 */
import { VidmuxError } from '../errors';
import { cleanTitle } from '../filename';
import { classifyUrl } from '../page-media';
import type { KeyedProvider } from '../schemas/ids';
import type { Job } from '../schemas/job';
import type { MediaCandidate, MediaInfo } from '../schemas/media';
import { DownloadRequestSchema, type DownloadRequestInput } from '../schemas/request';
import type { Settings } from '../schemas/settings';
import type { TornadoStorage } from '../schemas/tornado-storage';
import { youtubeVideoId } from '../sites';
import { createProviders, type ProviderSetup } from '../providers';
import { resolveWithFallback, type ProviderAttempt } from '../providers/registry';
import { isTornadoPlaylistUrl, TornadoProvider } from '../providers/tornado';
import type { DownloadService } from './downloads';

export interface DownloadRequestDeps {
  loadSettings(): Promise<Settings>;
  getApiKey(provider: KeyedProvider): Promise<string | null>;
  getTornadoStorage(): Promise<TornadoStorage | null>;
  downloads: DownloadService;
}

export class DownloadRequests {
  constructor(private readonly deps: DownloadRequestDeps) {}

  /** Providers in the user's order with their keys. */
  async providerSetups(settings: Settings): Promise<ProviderSetup[]> {
    return Promise.all(
      settings.providerOrder.map(async (id) => ({
        id,
        apiKey: id === 'page' ? null : await this.deps.getApiKey(id),
        baseUrl: id === 'page' ? null : (settings.baseUrls[id] ?? null),
      })),
    );
  }

  /** Starts what the request asks for; returns the (first) job. `tabId` is whose queue it joins. */
  async start(raw: DownloadRequestInput, tabId: number | null): Promise<Job> {
    const req = DownloadRequestSchema.parse(raw);
    const settings = await this.deps.loadSettings();
    const setups = await this.providerSetups(settings);
    const storage = await this.deps.getTornadoStorage();
    const keyed = createProviders(setups.filter((s) => s.id !== 'page'), { tornadoStorage: storage });
    const target = req.url ?? req.page.url;
    const base = { page: req.page, tabId, filenameTemplate: settings.filenameTemplate, request: req };

    if (keyed.some((p) => p.supports(target))) {
      const spec = {
        quality: req.choice.quality ?? settings.quality,
        audioFormat: req.choice.audioFormat ?? settings.audioFormat,
        codecPreference: settings.codecPreference,
        formatId: req.choice.formatId ?? null,
        formatProvider: req.choice.formatProvider ?? null,
        subtitleLanguages: req.choice.subtitleLanguages ?? (req.choice.subtitlesOnly && !settings.subtitleLanguages.length ? ['en'] : settings.subtitleLanguages),
        subtitlesOnly: req.choice.subtitlesOnly ?? false,
        providers: setups.filter((s) => s.id === 'page' || s.apiKey),
        tornadoStorage: storage,
        tornadoJobId: null,
      };
      // A playlist with Tornado: Tornado makes one job per video; each becomes its own queue entry.
      const tornado = keyed.find((p): p is TornadoProvider => p instanceof TornadoProvider);
      if (tornado && isTornadoPlaylistUrl(target)) {
        const playlist = await tornado.submitPlaylist(target, { quality: spec.quality, subtitles: spec.subtitleLanguages.length > 0 });
        const jobs: Job[] = [];
        for (const entry of playlist.entries) {
          jobs.push(
            await this.deps.downloads.startWithProviders({
              ...base,
              url: entry.url ?? target,
              page: { title: entry.title ?? `${cleanTitle(req.page.title)} (${entry.index + 1} of ${playlist.total})`, url: req.page.url },
              spec: { ...spec, providers: setups.filter((s) => s.id === 'tornado'), tornadoJobId: entry.jobId },
            }),
          );
        }
        return jobs[0]!;
      }
      return this.deps.downloads.startWithProviders({ ...base, url: target, spec });
    }

    if (youtubeVideoId(target)) {
      throw new VidmuxError('needs_key', 'Saving YouTube videos needs a provider: add a VidPickr, RenderIO or Tornado key in Vidmux options.');
    }
    const media = req.url && req.url !== req.page.url ? linkCandidate(req.url) : req.media;
    if (!media) throw new VidmuxError('not_a_file', 'There is no video to save here.');
    return this.deps.downloads.start({ media, page: req.page, tabId, filenameTemplate: settings.filenameTemplate, connections: settings.connections, request: req });
  }

  /** What the providers offer for `url` (the popup's picker). */
  async resolve(url: string): Promise<{ info: MediaInfo; attempts: ProviderAttempt[] }> {
    const settings = await this.deps.loadSettings();
    const setups = await this.providerSetups(settings);
    const providers = createProviders(setups, { tornadoStorage: await this.deps.getTornadoStorage() });
    const { info, attempts } = await resolveWithFallback(url, providers);
    return { info, attempts };
  }
}

/** A link (context menu) described as a media candidate. */
function linkCandidate(url: string): MediaCandidate {
  return { id: 'link', kind: classifyUrl(url), src: url, mimeType: null, width: 0, height: 0, duration: null };
}
