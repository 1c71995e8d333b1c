/** Handlers of the download messages: start, retry, cancel, show, the picker, the popup's state. */
import { VidmuxError } from '../../errors';
import type { DownloadRequests } from '../../jobs/download-requests';
import type { DownloadService } from '../../jobs/downloads';
import type { JobStore } from '../../jobs/job';
import type { Handlers } from '../../messages';
import { showsInTab } from '../../schemas/job';
import { FINISHED_STAGES } from '../../schemas/progress';
import type { Surfaces } from '../ports';
import type { TabMediaRegistry } from '../tab-media';

export interface DownloadHandlerDeps {
  /** Resolves once the state a restarted worker had is back. */
  ready: Promise<void>;
  store: JobStore;
  downloads: DownloadService;
  requests: DownloadRequests;
  tabs: TabMediaRegistry;
  surfaces: Surfaces;
  /** Whether a provider with a key handles a page (the popup then shows the providers' formats). */
  providerPage(url: string): Promise<boolean>;
  /** The media of a tab (or, with null, the history) changed: tell the open pages. */
  changed(tabId: number | null): void;
}

export function downloadHandlers(d: DownloadHandlerDeps): Handlers {
  return {
    'media.found': async (payload, sender) => {
      await d.ready;
      if (sender.tabId === null) throw new VidmuxError('bad_input', 'media.found must come from a tab.');
      d.tabs.set(sender.tabId, payload, sender.frameId ?? 0);
      d.changed(sender.tabId);
      return {};
    },
    'download.start': async (payload, sender) => {
      await d.ready;
      // A content script may only start downloads for its own tab.
      const tabId = sender.kind === 'tab' ? sender.tabId : (payload.tabId ?? null);
      // A video of a MediaSource player: with the manifests the browser saw its frame load.
      const media = payload.media && sender.kind === 'tab' && tabId !== null ? d.tabs.withSightings(tabId, sender.frameId ?? 0, payload.media) : payload.media;
      return { job: await d.requests.start({ ...payload, media }, tabId) };
    },
    'download.finish': async ({ jobId }, sender) => {
      await d.ready;
      const job = d.store.get(jobId);
      // A content script finishes only its own tab's recordings.
      if (sender.kind === 'tab' && job && job.tabId !== sender.tabId) throw new VidmuxError('forbidden', 'That recording is not this tab’s.');
      return { job: await d.downloads.finish(jobId) };
    },
    'download.resume': async ({ jobId }) => {
      await d.ready;
      const job = d.store.get(jobId);
      if (job?.progress.stage !== 'interrupted' || !job.request) throw new VidmuxError('not_found', 'That download is not waiting to be resumed.');
      // The same job id: the engine finds what the interrupted run left on disk and continues it.
      // Its tab is gone (a browser restart): it runs tabless, shown in every tab's popup.
      return { job: await d.requests.start(job.request, null, { jobId }) };
    },
    'download.discard': async ({ jobId }) => {
      await d.ready;
      await d.downloads.discard(jobId);
      d.changed(null); // open popups read their state again: the job is gone
      return {};
    },
    'download.choose': async ({ jobId, index }) => {
      await d.ready;
      return { job: await d.downloads.choose(jobId, index) };
    },
    'download.retry': async ({ jobId }) => {
      await d.ready;
      const job = d.store.get(jobId);
      if (!job?.request) throw new VidmuxError('not_found', 'That download is no longer known.');
      return { job: await d.requests.start(job.request, job.tabId) };
    },
    'download.show': async ({ jobId }) => {
      await d.ready;
      const job = d.store.get(jobId);
      if (job?.downloadId == null) throw new VidmuxError('not_found', 'That file is not on this computer.');
      await d.surfaces.showInFolder(job.downloadId);
      return {};
    },
    'download.cancel': async ({ jobId }) => {
      await d.ready;
      return { job: await d.downloads.cancel(jobId) };
    },
    'formats.resolve': ({ url, media }) => d.requests.resolve(url, media),
    'tab.state': async ({ tabId }) => {
      await d.ready;
      const found = d.tabs.get(tabId);
      return {
        page: found?.page ?? null,
        media: found?.media ?? [],
        jobs: d.store.list().filter((j) => showsInTab(j, tabId)),
        history: d.store.list().filter((j) => FINISHED_STAGES.has(j.progress.stage) && !showsInTab(j, tabId)).slice(0, 20),
        providerPage: found ? await d.providerPage(found.page.url) : false,
      };
    },
    'history.clear': async () => {
      await d.ready;
      d.store.clearFinished();
      d.changed(null);
      return {};
    },
    'options.open': async () => {
      await d.surfaces.openOptions();
      return {};
    },
  };
}
