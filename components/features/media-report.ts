/** Tells the background what the page's videos play (for the popup's list), whenever that changes. */
import { describeVideo } from '@/lib/dom/video-scan';
import { sendToBackground } from '@/lib/platform/messaging';
import type { Feature } from './feature';

export const mediaReport: Feature = {
  name: 'media-report',
  runsOn: () => true,
  init({ videos, sniffer }, signal) {
    let last = '';
    videos.subscribe((list) => {
      void (async () => {
        const media = await Promise.all(list.map((v) => describeVideo(v, sniffer.all())));
        const page = { title: document.title, url: location.href };
        const report = JSON.stringify({ media, page });
        if (report === last || signal.aborted) return;
        last = report;
        await sendToBackground('media.found', { page, media }).catch(() => undefined);
      })();
    }, signal);
  },
};
