import { browser } from 'wxt/browser';
import { defineContentScript } from 'wxt/utils/define-content-script';
import { DownloadButton } from '@/components/download-button';
import { YouTubeButtonPlacement } from '@/components/youtube-button-placement';
import { YouTubeDownloadButton } from '@/components/youtube-download-button';
import { ManifestSniffer } from '@/lib/dom/manifest-sniffer';
import { describeVideo } from '@/lib/dom/video-scan';
import { buttonKind } from '@/lib/dom/youtube-page';
import { isYouTubeUrl } from '@/lib/sites';
import type { Job } from '@/lib/schemas/job';
import { FINISHED_STAGES } from '@/lib/schemas/progress';
import type { UserChoice as DownloadChoice } from '@/lib/schemas/request';
import { dispatch, type Handlers } from '@/lib/messages';
import { notAFileReason } from '@/lib/page-media';
import type { MediaCandidate } from '@/lib/schemas/media';
import { sendToBackground } from '@/lib/platform/messaging';

/** What a button shows of a download: the job, or why it could not start. */
interface JobView {
  showJob(job: Job): void;
}

export default defineContentScript({
  matches: ['<all_urls>'],
  runAt: 'document_idle',
  main() {
    const buttons = new Map<HTMLVideoElement, DownloadButton>();
    const jobViews = new Map<string, JobView>();
    let lastReport = '';

    const page = () => ({ title: document.title, url: location.href });
    const describe = (video: HTMLVideoElement) => describeVideo(video, sniffer.latest());
    const errorOf = (err: unknown) => ({ code: (err as { code?: string }).code, message: err instanceof Error ? err.message : String(err) });

    /** The button over a video: saves what that video plays (or what a provider makes of the page). */
    async function startDownload(button: DownloadButton): Promise<void> {
      const media = await describe(button.video);
      button.setState('working', 'Saving…');
      // The background decides: a provider may handle the page (YouTube with a key) even when the
      // <video> itself is a stream, not a file.
      try {
        const { job } = await sendToBackground('download.start', { page: page(), media });
        jobViews.set(job.id, button);
        button.showJob(job);
      } catch (err) {
        const { code, message } = errorOf(err);
        if (code === 'not_a_file') button.setState('unsupported', 'Stream, not a file', message || notAFileReason(media.kind));
        else if (code === 'unsupported') button.setState('unsupported', 'Can’t save this yet', message);
        else button.setState('failed', 'Failed', message);
      }
    }

    /** The YouTube button: saves the video being watched through the providers. */
    async function startYouTubeDownload(button: YouTubeDownloadButton, choice: DownloadChoice): Promise<void> {
      button.setState('working', 'Saving…', 'Starting the download…');
      const video = document.querySelector<HTMLVideoElement>('#movie_player video');
      const media = video ? await describe(video).catch(() => null) : null;
      try {
        const { job } = await sendToBackground('download.start', { page: page(), media, choice });
        jobViews.set(job.id, button);
        button.showJob(job);
      } catch (err) {
        const { code, message } = errorOf(err);
        if (code === 'needs_key') button.setState('needs-key', 'Add a key', message);
        else if (code === 'not_a_file' || code === 'unsupported') button.setState('unsupported', 'Can’t save this', message);
        else button.setState('failed', 'Failed', message);
      }
    }

    const youtube = isYouTubeUrl(location.href)
      ? new YouTubeButtonPlacement({
          create: (videoKey) => {
            const button: YouTubeDownloadButton = new YouTubeDownloadButton(videoKey, {
              download: (choice) => void startYouTubeDownload(button, choice),
              openOptions: () => void sendToBackground('options.open', {}).catch(() => undefined),
            });
            return button;
          },
        })
      : null;
    youtube?.start();

    /** Finds every video (including ones added later), adds/removes buttons, reports the media found. */
    async function scan(): Promise<void> {
      const videos = [...document.querySelectorAll('video')];
      // On YouTube's video pages the YouTube button stands in for the one over the player.
      const overVideo = buttonKind(location.href) === 'over-video';
      for (const video of videos) {
        if (overVideo && !buttons.has(video)) buttons.set(video, new DownloadButton(video, () => void startDownload(buttons.get(video)!)));
      }
      for (const [video, button] of buttons) {
        if (!video.isConnected || !overVideo) {
          button.remove();
          buttons.delete(video);
        } else button.place();
      }
      const media: MediaCandidate[] = await Promise.all(videos.map(describe));
      const report = JSON.stringify({ media, title: document.title, url: location.href });
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
    addEventListener('popstate', scheduleScan);
    document.addEventListener('yt-navigate-finish', scheduleScan);
    const placeAll = () => buttons.forEach((b) => b.place());
    addEventListener('scroll', placeAll, { capture: true, passive: true });
    addEventListener('resize', placeAll, { passive: true });
    setInterval(placeAll, 1000); // layout can move without scroll or resize events
    void scan();

    const handlers: Handlers = {
      'job.update': ({ job }) => {
        jobViews.get(job.id)?.showJob(job);
        if (FINISHED_STAGES.has(job.progress.stage)) jobViews.delete(job.id);
        return {};
      },
    };
    browser.runtime.onMessage.addListener((raw: unknown, sender: { id?: string }) => {
      if (sender.id !== browser.runtime.id) return undefined;
      return dispatch(handlers, raw, { tabId: null, fromExtensionPage: true });
    });
  },
});
