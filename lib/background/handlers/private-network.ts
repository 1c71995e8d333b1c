/**
 * The user's answer to a refused local address (lib/net/address.ts): the site of the page on the
 * internet whose job was refused may use local addresses from now on, and the job runs again.
 * The site comes from the job's own refusal, never from the message, so nothing else is allowed.
 */
import { VidmuxError } from '../../errors';
import type { DownloadRequests } from '../../jobs/download-requests';
import type { JobStore } from '../../jobs/job';
import type { Handlers } from '../../messages';
import { SiteHostSchema } from '../../schemas/ids';
import type { BackgroundPorts } from '../ports';

export interface PrivateNetworkHandlerDeps extends Pick<BackgroundPorts, 'loadSettings' | 'saveSettings'> {
  ready: Promise<void>;
  store: JobStore;
  requests: DownloadRequests;
}

/** Most sites kept: the oldest go first (the settings refuse a longer list). */
const MAX_SITES = 200;

export function privateNetworkHandlers(d: PrivateNetworkHandlerDeps): Handlers {
  return {
    'privateNetwork.allow': async ({ jobId }) => {
      await d.ready;
      const job = d.store.get(jobId);
      if (!job?.request) throw new VidmuxError('not_found', 'That download is no longer known.');
      const site = SiteHostSchema.safeParse(job.error?.privateNetworkSite);
      if (job.progress.stage !== 'failed' || !site.success) throw new VidmuxError('bad_input', 'That download was not refused a local address.');
      const settings = await d.loadSettings();
      if (!settings.privateNetworkSites.includes(site.data)) {
        await d.saveSettings({ ...settings, privateNetworkSites: [...settings.privateNetworkSites, site.data].slice(-MAX_SITES) });
      }
      return { job: await d.requests.start(job.request, job.tabId) };
    },
  };
}
