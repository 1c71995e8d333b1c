import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { VidmuxError } from '@/lib/errors';
import { cleanTitle } from '@/lib/filename';
import { DownloadService, type EngineHost } from '@/lib/jobs/downloads';
import { JobStore, type Job } from '@/lib/jobs/job';
import type { EngineEvent } from '@/lib/jobs/save-spec';
import type { Handlers, Request } from '@/lib/messages';
import { HttpClient } from '@/lib/net/http';
import { cancelBrowserDownload, describeInterrupt, getBrowserDownload, onBrowserDownloadChanged, startBrowserDownload } from '@/lib/platform/downloads';
import { InProcessEngineHost, OffscreenEngineHost } from '@/lib/platform/engine-host';
import { sendToTab, serveMessages } from '@/lib/platform/messaging';
import {
  describeTornadoStorage,
  getApiKey,
  getTornadoStorage,
  listMaskedKeys,
  removeApiKey,
  removeTornadoStorage,
  setApiKey,
  setTornadoStorage,
} from '@/lib/platform/key-store';
import { loadSettings, sessionStore } from '@/lib/platform/storage';
import { createProviders, type ProviderSetup } from '@/lib/providers';
import { isTornadoPlaylistUrl, TornadoProvider } from '@/lib/providers/tornado';
import type { Settings } from '@/lib/settings';

type TabMedia = Request<'media.found'>;

export default defineBackground(() => {
  const store = new JobStore();
  const tabs = new Map<number, TabMedia>();
  const http = new HttpClient();
  const onEngineEvent = (jobId: string, event: EngineEvent) => void ready.then(() => downloads.onEngineEvent(jobId, event));
  // Chrome has an offscreen document for bytes; Firefox's background is a page and does it here.
  const engine: EngineHost = 'offscreen' in browser ? new OffscreenEngineHost() : new InProcessEngineHost(onEngineEvent);
  const downloads = new DownloadService(
    store,
    { start: startBrowserDownload, get: getBrowserDownload, cancel: cancelBrowserDownload, describeInterrupt },
    engine,
    { fetchText: async (url) => (await http.request(url)).text() },
  );

  // The worker may be stopped at any time: state lives in storage.session and is restored first.
  const ready = (async () => {
    store.fromJSON(await sessionStore.get('jobs'));
    for (const [id, media] of Object.entries((await sessionStore.get<Record<string, TabMedia>>('tabs')) ?? {})) tabs.set(Number(id), media);
    downloads.resume();
    await downloads.refresh();
  })();

  let persistTimer: ReturnType<typeof setTimeout> | null = null;
  const persist = () => {
    persistTimer ??= setTimeout(() => {
      persistTimer = null;
      void sessionStore.set('jobs', store.toJSON());
      void sessionStore.set('tabs', Object.fromEntries(tabs));
    }, 200);
  };

  store.onChange((job: Job) => {
    persist();
    // Tell the page's button; the tab may be gone or have no content script: that's fine.
    if (job.tabId !== null) sendToTab(job.tabId, 'job.update', { job }).catch(() => undefined);
  });

  /** Providers in the user's order with their keys (keys never leave the background but to the engine). */
  const providerSetups = async (settings: Settings): Promise<ProviderSetup[]> =>
    Promise.all(
      settings.providerOrder.map(async (id) => ({
        id,
        apiKey: id === 'page' ? null : await getApiKey(id),
        baseUrl: id === 'page' ? null : (settings.baseUrls[id] ?? null),
      })),
    );

  const extensionPagesOnly = (sender: { fromExtensionPage: boolean }, what: string) => {
    if (!sender.fromExtensionPage) throw new VidmuxError('forbidden', `Only extension pages may ${what}.`);
  };

  const handlers: Handlers = {
    'media.found': async (payload, sender) => {
      await ready;
      if (sender.tabId === null) throw new VidmuxError('bad_input', 'media.found must come from a tab.');
      tabs.set(sender.tabId, payload);
      persist();
      return {};
    },
    'download.start': async (payload, sender) => {
      await ready;
      // A content script may only start downloads for its own tab.
      const tabId = sender.fromExtensionPage ? (payload.tabId ?? null) : sender.tabId;
      const settings = await loadSettings();
      // A page a keyed provider handles (YouTube, Vimeo, ...) goes through the providers, in order.
      const setups = await providerSetups(settings);
      const storage = await getTornadoStorage();
      const keyed = createProviders(setups.filter((s) => s.id !== 'page'), { tornadoStorage: storage });
      if (keyed.some((p) => p.supports(payload.page.url))) {
        const spec = {
          quality: settings.quality,
          subtitleLanguages: settings.subtitleLanguages,
          providers: setups.filter((s) => s.id === 'page' || s.apiKey),
          tornadoStorage: storage,
          tornadoJobId: null,
        };
        const base = { page: payload.page, tabId, filenameTemplate: settings.filenameTemplate };
        // A playlist with Tornado: Tornado makes one job per video; each becomes its own queue entry.
        const tornado = keyed.find((p): p is TornadoProvider => p instanceof TornadoProvider);
        if (tornado && isTornadoPlaylistUrl(payload.page.url)) {
          const playlist = await tornado.submitPlaylist(payload.page.url, { quality: settings.quality, subtitles: settings.subtitleLanguages.length > 0 });
          const jobs = [];
          for (const entry of playlist.entries) {
            jobs.push(
              await downloads.startWithProviders({
                ...base,
                url: entry.url ?? payload.page.url,
                page: { title: entry.title ?? `${cleanTitle(payload.page.title)} (${entry.index + 1} of ${playlist.total})`, url: payload.page.url },
                spec: { ...spec, providers: setups.filter((s) => s.id === 'tornado'), tornadoJobId: entry.jobId },
              }),
            );
          }
          return { job: jobs[0]! };
        }
        return { job: await downloads.startWithProviders({ ...base, url: payload.page.url, spec }) };
      }
      const job = await downloads.start({ media: payload.media, page: payload.page, tabId, filenameTemplate: settings.filenameTemplate });
      return { job };
    },
    'tab.state': async (payload, sender) => {
      await ready;
      extensionPagesOnly(sender, 'read tab state');
      const found = tabs.get(payload.tabId);
      return { page: found?.page ?? null, media: found?.media ?? [], jobs: store.list(payload.tabId) };
    },
    'download.cancel': async (payload, sender) => {
      await ready;
      extensionPagesOnly(sender, 'cancel downloads');
      return { job: await downloads.cancel(payload.jobId) };
    },
    'keys.list': async (_payload, sender) => {
      extensionPagesOnly(sender, 'list keys');
      return { keys: await listMaskedKeys() };
    },
    'keys.set': async (payload, sender) => {
      extensionPagesOnly(sender, 'set keys');
      return { masked: await setApiKey(payload.provider, payload.key) };
    },
    'keys.remove': async (payload, sender) => {
      extensionPagesOnly(sender, 'remove keys');
      await removeApiKey(payload.provider);
      return {};
    },
    'keys.test': async (payload, sender) => {
      extensionPagesOnly(sender, 'test keys');
      const settings = await loadSettings();
      const [provider] = createProviders([{ id: payload.provider, apiKey: await getApiKey(payload.provider), baseUrl: settings.baseUrls[payload.provider] ?? null }]);
      if (!provider) throw new VidmuxError('unauthorized', 'No key is set for this provider.');
      return provider.checkKey();
    },
    'storage.get': async (_payload, sender) => {
      extensionPagesOnly(sender, 'read storage settings');
      const storage = await getTornadoStorage();
      return { summary: storage ? describeTornadoStorage(storage) : null };
    },
    'storage.set': async (payload, sender) => {
      extensionPagesOnly(sender, 'change storage settings');
      return { summary: describeTornadoStorage(await setTornadoStorage(payload.config)) };
    },
    'storage.remove': async (_payload, sender) => {
      extensionPagesOnly(sender, 'change storage settings');
      await removeTornadoStorage();
      return {};
    },
    'engine.event': async (payload, sender) => {
      extensionPagesOnly(sender, 'report engine events');
      await ready;
      await downloads.onEngineEvent(payload.jobId, payload.event);
      return {};
    },
  };
  serveMessages(handlers, { answerUnknown: true });

  onBrowserDownloadChanged((downloadId) => {
    void ready.then(() => {
      const job = downloads.jobForDownload(downloadId);
      if (job) void downloads.refresh(job.id);
    });
  });

  browser.tabs.onRemoved.addListener((tabId: number) => {
    tabs.delete(tabId);
    persist();
  });
});
