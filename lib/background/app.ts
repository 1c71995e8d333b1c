/**
 * The background, built from its ports: the queue, the download service, the request handling and
 * every message handler, plus what the browser's events should call. The entrypoint only wires
 * this to the browser (lib/platform/), so the whole background is tested in Node.
 */
import { DownloadRequests } from '../jobs/download-requests';
import { DownloadService } from '../jobs/downloads';
import { JobStore } from '../jobs/job';
import type { Handlers } from '../messages';
import { providerHandles } from '../providers/coverage';
import type { Job } from '../schemas/job';
import type { EngineEvent } from '../schemas/job-spec';
import { FINISHED_STAGES } from '../schemas/progress';
import { isReelable } from '../schemas/reel';
import { contextMenuRequest, type MenuClick } from './context-menu';
import { downloadHandlers } from './handlers/downloads';
import { keyHandlers } from './handlers/keys';
import { privateNetworkHandlers } from './handlers/private-network';
import { reelHandlers } from './handlers/reels';
import type { BackgroundPorts } from './ports';
import { TabMediaRegistry } from './tab-media';

/** How long state changes are gathered before they are written to session storage. */
const PERSIST_DELAY_MS = 200;

export interface Background {
  handlers: Handlers;
  /** Resolves once the state a restarted worker had is back. */
  ready: Promise<void>;
  onEngineEvent(jobId: string, event: EngineEvent): Promise<void>;
  /** The engine's context went (Chrome's offscreen document closed or crashed): its jobs fail. */
  onEngineLost(): Promise<void>;
  onBrowserDownloadChanged(downloadId: number): Promise<void>;
  onContextMenu(click: MenuClick, tab: { id?: number | undefined; title?: string | undefined; url?: string | undefined }): Promise<void>;
  onTabRemoved(tabId: number): void;
  /** The browser saw a tab's frame request an HLS/DASH manifest (webRequest). */
  onManifestRequest(tabId: number, frameId: number, url: string): void;
  /** A tab's frame loads a new document: what the old one had is gone. */
  onFrameNavigated(tabId: number, frameId: number): void;
}

export function createBackground(ports: BackgroundPorts): Background {
  const store = new JobStore();
  const tabs = new TabMediaRegistry();
  const downloads = new DownloadService(store, ports.downloads, ports.engine, {
    ...(ports.now ? { now: ports.now } : {}),
    // With a VIDIO key, the last saved video stays in the engine's storage for "Make a highlight reel".
    keepForReel: async (job) => isReelable(job) && !!(await ports.keys.get('vidio')),
  });
  const requests = new DownloadRequests({
    loadSettings: ports.loadSettings,
    getApiKey: (p) => ports.keys.get(p),
    getTornadoStorage: () => ports.keys.getTornadoStorage(),
    createProviders: ports.createProviders,
    downloads,
    ...(ports.now ? { now: ports.now } : {}),
  });

  // The worker may be stopped at any time: state lives in session storage and is restored first.
  const ready = (async () => {
    const saved = await ports.session.load();
    store.fromJSON(saved.jobs);
    tabs.fromJSON(saved.tabs);
    // After a browser restart the session is empty: the jobs that were running are interrupted.
    const lasting = new JobStore(Infinity);
    lasting.fromJSON(await ports.session.loadLasting().catch(() => []));
    downloads.restoreInterrupted(lasting.list());
    // Nothing stays in the engine's storage that no job owns (files of jobs discarded meanwhile,
    // or of a browser that closed before their job was recorded).
    await ports.removeOrphanOutputs?.(new Set(store.list().filter((j) => !FINISHED_STAGES.has(j.progress.stage) || j.progress.stage === 'interrupted').map((j) => j.id))).catch(() => undefined);
    downloads.resume();
    await downloads.refresh();
    // An engine that went while no worker watched it (its port's end went unseen) fails its jobs now.
    await downloads.checkEngine();
  })();

  let persistTimer: ReturnType<typeof setTimeout> | null = null;
  const persist = () => {
    persistTimer ??= setTimeout(() => {
      persistTimer = null;
      void ports.session.save({ jobs: store.toJSON(), tabs: tabs.toJSON() }).catch(() => undefined);
      void ports.session.saveLasting(downloads.lasting()).catch(() => undefined);
    }, PERSIST_DELAY_MS);
  };

  const notified = new Set<string>();
  store.onChange((job: Job | null) => {
    persist();
    void ports.surfaces.updateBadge(store.list()).catch(() => undefined);
    if (!job) return;
    // Pushed to the page's button and to open extension pages (the popup never polls).
    if (job.tabId !== null) void ports.messenger.toTab(job.tabId, 'job.update', { job });
    void ports.messenger.toPages('job.update', { job });
    if (FINISHED_STAGES.has(job.progress.stage) && !notified.has(job.id)) {
      notified.add(job.id);
      void ports.surfaces.notifyFinished(job).catch(() => undefined);
    }
  });

  const changed = (tabId: number | null) => {
    persist();
    void ports.messenger.toPages('tab.changed', { tabId });
  };

  /** A keyed provider with a key handles the page: asked without building any provider. */
  const providerPage = async (url: string) => {
    const settings = await ports.loadSettings();
    for (const id of settings.providerOrder) {
      if (id !== 'page' && providerHandles(id, url) && (await ports.keys.get(id))) return true;
    }
    return false;
  };

  const handlers: Handlers = {
    ...downloadHandlers({ ready, store, downloads, requests, tabs, surfaces: ports.surfaces, providerPage, changed }),
    ...keyHandlers(ports),
    ...privateNetworkHandlers({ ready, store, requests, loadSettings: ports.loadSettings, saveSettings: ports.saveSettings }),
    ...reelHandlers({ ready, downloads, keys: ports.keys, loadSettings: ports.loadSettings }),
    'engine.event': async ({ jobId, event }) => {
      await ready;
      await downloads.onEngineEvent(jobId, event);
      return {};
    },
  };

  return {
    handlers,
    ready,
    onEngineEvent: async (jobId, event) => {
      await ready;
      await downloads.onEngineEvent(jobId, event);
    },
    onEngineLost: async () => {
      await ready;
      await downloads.onEngineLost();
    },
    onBrowserDownloadChanged: async (downloadId) => {
      await ready;
      const job = downloads.jobForDownload(downloadId);
      if (job) await downloads.refresh(job.id);
    },
    onContextMenu: async (click, tab) => {
      if (tab.id === undefined) return;
      await ready;
      try {
        await requests.start(contextMenuRequest(click, tab), tab.id);
      } catch (err) {
        await ports.surfaces.notifyProblem('Vidmux can’t save this', err instanceof Error ? err.message : String(err)).catch(() => undefined);
      }
    },
    onTabRemoved: (tabId) => {
      if (tabs.delete(tabId)) persist();
    },
    onManifestRequest: (tabId, frameId, url) => {
      void ready.then(() => {
        if (tabs.sighted(tabId, frameId, url)) changed(tabId);
      });
    },
    onFrameNavigated: (tabId, frameId) => {
      void ready.then(() => {
        tabs.navigated(tabId, frameId);
        changed(tabId);
      });
    },
  };
}
