// The background's composition root: ports from lib/platform/ into the background of lib/background/.
import { browser } from 'wxt/browser';
import { defineBackground } from 'wxt/utils/define-background';
import { createBackground, type Background } from '@/lib/background/app';
import type { EngineHost } from '@/lib/jobs/downloads';
import { HttpClient } from '@/lib/net/http';
import { createProviders } from '@/lib/providers';
import { VidioProvider } from '@/lib/providers/vidio';
import { cancelBrowserDownload, describeInterrupt, getBrowserDownload, onBrowserDownloadChanged, startBrowserDownload } from '@/lib/platform/downloads';
import { InProcessEngineHost, OffscreenEngineHost } from '@/lib/platform/engine-host';
import { watchEngineLink } from '@/lib/platform/engine-link';
import { removeOrphans } from '@/lib/platform/opfs-outputs';
import { serveSaves, ServiceWorkerSaves } from '@/lib/platform/streamed-save';
import { askForSiteAccessOnInstall } from '@/lib/platform/site-access';
import { IdbKeyStore } from '@/lib/platform/key-store';
import { sendToPages, sendToTab, serveMessages } from '@/lib/platform/messaging';
import { watchTabRequests } from '@/lib/platform/web-requests';
import { loadSettings, saveSettings, sessionStore } from '@/lib/platform/storage';
import { browserSurfaces, installContextMenu } from '@/lib/platform/surfaces';

export default defineBackground(() => {
  // One client for everything this context fetches: the per-host cap holds across jobs.
  const http = new HttpClient();
  let app: Background | null = null;

  // Chrome has an offscreen document for bytes; Firefox's background is a page and does it here,
  // with an engine loaded on the first job (so Chrome's worker bundle never carries it).
  const offscreen = import.meta.env.FIREFOX ? null : new OffscreenEngineHost();
  // Chrome saves a plain copy while it is written (lib/platform/streamed-save.ts says why).
  const saves = offscreen ? new ServiceWorkerSaves((token) => offscreen.openSave(token)) : null;
  if (saves) serveSaves(saves);
  // The ternary on FIREFOX (a build-time constant) is what leaves Firefox's engine out of Chrome's bundle.
  const engine: EngineHost = import.meta.env.FIREFOX
    ? new InProcessEngineHost(async () => {
        const [{ JobRunner }, { OpfsOutputs }, { OpfsInputs }] = await Promise.all([
          import('@/lib/jobs/job-runner'),
          import('@/lib/platform/opfs-outputs'),
          import('@/lib/platform/opfs-inputs'),
        ]);
        void new OpfsInputs().sweep().catch(() => undefined);
        return new JobRunner({
          providers: (spec) => createProviders(spec.providers, { http: spec.limits ? http.withLimits(spec.limits) : http, tornadoStorage: spec.tornadoStorage, connections: spec.connections }),
          outputs: new OpfsOutputs(),
          reels: { maker: (reel) => new VidioProvider({ apiKey: reel.apiKey, baseUrl: reel.baseUrl, contract: reel.contract, http }), inputs: new OpfsInputs() },
          emit: (jobId, event) => void app?.onEngineEvent(jobId, event),
        });
      })
    : offscreen!;

  app = createBackground({
    loadSettings,
    saveSettings,
    keys: new IdbKeyStore(),
    session: sessionStore,
    surfaces: browserSurfaces,
    messenger: {
      toTab: async (tabId, type, payload) => void (await sendToTab(tabId, type, payload).catch(() => undefined)),
      toPages: async (type, payload) => void (await sendToPages(type, payload).catch(() => undefined)),
    },
    downloads: { start: startBrowserDownload, get: getBrowserDownload, cancel: cancelBrowserDownload, describeInterrupt, ...(saves ? { streamed: saves } : {}) },
    engine,
    removeOrphanOutputs: removeOrphans,
    createProviders: (setups, tornadoStorage) => createProviders(setups, { http, tornadoStorage }),
    createReelService: (apiKey, baseUrl, contract) => new VidioProvider({ apiKey, baseUrl, contract, http }),
  });
  const background = app;

  serveMessages(background.handlers, { answerUnknown: true });
  // Chrome: the offscreen document's end (closed, crashed) fails its jobs at once.
  if (!import.meta.env.FIREFOX) watchEngineLink(() => void background.onEngineLost());
  onBrowserDownloadChanged((downloadId) => void background.onBrowserDownloadChanged(downloadId));
  installContextMenu((click, tab) => void background.onContextMenu(click, tab));
  browser.tabs.onRemoved.addListener((tabId: number) => background.onTabRemoved(tabId));
  askForSiteAccessOnInstall();
  watchTabRequests({ onManifest: background.onManifestRequest, onNavigate: background.onFrameNavigated });
});
