/** Handlers of the highlight-reel messages: a reel page's videos and options become a queued job. */
import { VidmuxError } from '../../errors';
import type { DownloadService } from '../../jobs/downloads';
import type { Handlers } from '../../messages';
import type { BackgroundPorts } from '../ports';

export function reelHandlers(d: { ready: Promise<void>; downloads: DownloadService } & Pick<BackgroundPorts, 'keys' | 'loadSettings'>): Handlers {
  return {
    'reel.start': async ({ inputs, options }) => {
      await d.ready;
      const apiKey = await d.keys.get('vidio');
      if (!apiKey) throw new VidmuxError('unauthorized', 'Add a VIDIO key on the options page to make highlight reels.');
      const settings = await d.loadSettings();
      const first = inputs[0]!.name.replace(/\.[^.]+$/, '');
      const job = await d.downloads.start({
        // The key goes to the engine inside the spec, like the download providers' keys.
        spec: { url: 'https://vidio.ai/', wish: { quality: 'best' }, providers: [], reel: { inputs, options, apiKey, baseUrl: settings.baseUrls.vidio ?? null, contract: settings.vidioContract } },
        page: { title: `${first} (${options.aspect} reel)`, url: 'https://vidio.ai/' },
        tabId: null,
        filenameTemplate: settings.filenameTemplate,
      });
      return { job };
    },
  };
}
