import { browser } from 'wxt/browser';
import { defineContentScript } from 'wxt/utils/define-content-script';
import { DownloadButton } from '@/components/download-button';
import { ManifestSniffer } from '@/lib/dom/manifest-sniffer';
import { describeVideo } from '@/lib/dom/video-scan';
import { dispatch, type Handlers } from '@/lib/messages';
import { notAFileReason, type MediaCandidate } from '@/lib/page-media';
import { sendToBackground } from '@/lib/platform/messaging';

export default defineContentScript({
  matches: ['<all_urls>'],
  runAt: 'document_idle',
  main() {
    const buttons = new Map<HTMLVideoElement, DownloadButton>();
    const jobButtons = new Map<string, DownloadButton>();
    let lastReport = '';

    const page = () => ({ title: document.title, url: location.href });
    const describe = (video: HTMLVideoElement) => describeVideo(video, sniffer.latest());

    async function startDownload(button: DownloadButton): Promise<void> {
      const media = await describe(button.video);
      button.setState('working', 'Saving…');
      // The background decides: a provider may handle the page (YouTube with a key) even when the
      // <video> itself is a stream, not a file.
      try {
        const { job } = await sendToBackground('download.start', { page: page(), media });
        jobButtons.set(job.id, button);
        button.showJob(job);
      } catch (err) {
        const code = (err as { code?: string }).code;
        const message = err instanceof Error ? err.message : String(err);
        if (code === 'not_a_file') button.setState('unsupported', 'Stream, not a file', message || notAFileReason(media.kind));
        else if (code === 'unsupported') button.setState('unsupported', 'Can’t save this yet', message);
        else button.setState('failed', 'Failed', message);
      }
    }

    /** Finds every video (including ones added later), adds/removes buttons, reports the media found. */
    async function scan(): Promise<void> {
      const videos = [...document.querySelectorAll('video')];
      for (const video of videos) {
        if (!buttons.has(video)) buttons.set(video, new DownloadButton(video, () => void startDownload(buttons.get(video)!)));
      }
      for (const [video, button] of buttons) {
        if (!video.isConnected) {
          button.remove();
          buttons.delete(video);
        } else button.place();
      }
      const media: MediaCandidate[] = await Promise.all([...buttons.keys()].map(describe));
      const report = JSON.stringify({ media, title: document.title });
      if (report === lastReport) return;
      lastReport = report;
      await sendToBackground('media.found', { page: page(), media }).catch(() => undefined);
    }

    let scanTimer: ReturnType<typeof setTimeout> | undefined;
    const scheduleScan = () => {
      clearTimeout(scanTimer);
      scanTimer = setTimeout(() => void scan(), 150);
    };
    const sniffer = new ManifestSniffer(scheduleScan);
    new MutationObserver(scheduleScan).observe(document.documentElement, { childList: true, subtree: true });
    // Media events do not bubble; capture them at the document to see source changes.
    for (const type of ['loadstart', 'loadedmetadata', 'emptied']) document.addEventListener(type, scheduleScan, true);
    const placeAll = () => buttons.forEach((b) => b.place());
    addEventListener('scroll', placeAll, { capture: true, passive: true });
    addEventListener('resize', placeAll, { passive: true });
    setInterval(placeAll, 1000); // layout can move without scroll or resize events
    void scan();

    const handlers: Handlers = {
      'job.update': ({ job }) => {
        jobButtons.get(job.id)?.showJob(job);
        return {};
      },
    };
    browser.runtime.onMessage.addListener((raw: unknown, sender: { id?: string }) => {
      if (sender.id !== browser.runtime.id) return undefined;
      return dispatch(handlers, raw, { tabId: null, fromExtensionPage: true });
    });
  },
});
