import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { VidmuxError } from '@/lib/errors';
import { DownloadRequests } from '@/lib/jobs/download-requests';
import { DownloadService, type EngineHost } from '@/lib/jobs/downloads';
import { JobStore } from '@/lib/jobs/job';
import type { Job } from '@/lib/schemas/job';
import { FINISHED_STAGES } from '@/lib/schemas/progress';
import type { EngineEvent } from '@/lib/schemas/save-spec';
import type { Handlers, Payload } from '@/lib/messages';
import { HttpClient } from '@/lib/net/http';
import { cancelBrowserDownload, describeInterrupt, getBrowserDownload, onBrowserDownloadChanged, startBrowserDownload } from '@/lib/platform/downloads';
import { InProcessEngineHost, OffscreenEngineHost } from '@/lib/platform/engine-host';
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
import { sendToTab, serveMessages } from '@/lib/platform/messaging';
import { loadSettings, sessionStore } from '@/lib/platform/storage';
import { CONTEXT_MENU_ID, notifyFinished, openOptions, registerContextMenu, showInFolder, updateBadge } from '@/lib/platform/surfaces';
import { createProviders } from '@/lib/providers';

type TabMedia = Payload<'media.found'>;

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
  const requests = new DownloadRequests({ loadSettings, getApiKey, getTornadoStorage, downloads });

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

  const finishedSeen = new Set<string>();
  store.onChange((job: Job | null) => {
    persist();
    void updateBadge(store.list()).catch(() => undefined);
    if (!job) return;
    // Tell the page's button; the tab may be gone or have no content script: that's fine.
    if (job.tabId !== null) sendToTab(job.tabId, 'job.update', { job }).catch(() => undefined);
    if (FINISHED_STAGES.has(job.progress.stage) && !finishedSeen.has(job.id)) {
      finishedSeen.add(job.id);
      void notifyFinished(job).catch(() => undefined);
    }
  });

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
      return { job: await requests.start(payload, tabId) };
    },
    'download.retry': async ({ jobId }, sender) => {
      await ready;
      extensionPagesOnly(sender, 'retry downloads');
      const job = store.get(jobId);
      if (!job?.request) throw new VidmuxError('not_found', 'That download is no longer known.');
      return { job: await requests.start(job.request, job.tabId) };
    },
    'download.show': async ({ jobId }, sender) => {
      extensionPagesOnly(sender, 'show files');
      const job = store.get(jobId);
      if (job?.downloadId == null) throw new VidmuxError('not_found', 'That file is not on this computer.');
      await showInFolder(job.downloadId);
      return {};
    },
    'formats.resolve': async ({ url }, sender) => {
      extensionPagesOnly(sender, 'resolve formats');
      return requests.resolve(url);
    },
    'tab.state': async (payload, sender) => {
      await ready;
      extensionPagesOnly(sender, 'read tab state');
      const found = tabs.get(payload.tabId);
      const settings = await loadSettings();
      const keyed = createProviders((await requests.providerSetups(settings)).filter((s) => s.id !== 'page'));
      const pageUrl = found?.page.url ?? '';
      return {
        page: found?.page ?? null,
        media: found?.media ?? [],
        jobs: store.list(payload.tabId),
        history: store.list().filter((j) => FINISHED_STAGES.has(j.progress.stage)).slice(0, 20),
        providerPage: keyed.some((p) => p.supports(pageUrl)),
      };
    },
    'download.cancel': async (payload, sender) => {
      await ready;
      extensionPagesOnly(sender, 'cancel downloads');
      return { job: await downloads.cancel(payload.jobId) };
    },
    'history.clear': async (_payload, sender) => {
      await ready;
      extensionPagesOnly(sender, 'clear the history');
      store.clearFinished();
      return {};
    },
    'options.open': async () => {
      await openOptions();
      return {};
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

  browser.runtime.onInstalled.addListener(() => registerContextMenu());
  browser.contextMenus.onClicked.addListener((info, tab) => {
    if (info.menuItemId !== CONTEXT_MENU_ID || !tab?.id) return;
    const url = info.srcUrl ?? info.linkUrl;
    const page = { title: tab.title ?? '', url: tab.url ?? info.pageUrl ?? '' };
    // A video element plays the page's media; a link may be a provider page (YouTube) or a file.
    void ready
      .then(() => requests.start({ page, media: null, ...(url && (info.linkUrl || !/^blob:/.test(url)) ? { url } : {}) }, tab.id!))
      .catch((err: unknown) =>
        browser.notifications.create({
          type: 'basic',
          iconUrl: browser.runtime.getURL('/icon/128.png'),
          title: 'Vidmux can’t save this',
          message: err instanceof Error ? err.message : String(err),
        }),
      );
  });

  browser.tabs.onRemoved.addListener((tabId: number) => {
    tabs.delete(tabId);
    persist();
  });
});
