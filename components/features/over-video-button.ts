/**
 * The Download button over every video of a page (on YouTube only on playlist pages: its video
 * pages get the YouTube button). One click saves what the video plays, or what a provider with a
 * key makes of the page.
 */
import { buttonKind } from '@/lib/dom/youtube-page';
import { looksLive } from '@/lib/dom/live-video';
import { describeVideo } from '@/lib/dom/video-scan';
import { sendToBackground } from '@/lib/platform/messaging';
import { DownloadButton } from '../download-button';
import { buttonProblem } from '../job-button-state';
import { every, type Feature, type PageServices } from './feature';

/** Layout can move without scroll or resize events: buttons are placed again this often too. */
const PLACE_EVERY_MS = 1000;

export const overVideoButton: Feature = {
  name: 'over-video-button',
  runsOn: (url) => buttonKind(url) === 'over-video',
  init(page, signal) {
    const buttons = new Map<HTMLVideoElement, DownloadButton>();
    page.videos.subscribe((videos) => {
      for (const video of videos) {
        if (!buttons.has(video)) buttons.set(video, new DownloadButton(video, () => void start(page, buttons.get(video)!), signal));
      }
      for (const [video, button] of buttons) {
        if (video.isConnected) {
          button.setIdleLabel(looksLive(video));
          button.place();
        }
        else {
          button.remove();
          buttons.delete(video);
        }
      }
    }, signal);
    const placeAll = () =>
      buttons.forEach((b) => {
        b.setIdleLabel(looksLive(b.video));
        b.place();
      });
    addEventListener('scroll', placeAll, { capture: true, passive: true, signal });
    addEventListener('resize', placeAll, { passive: true, signal });
    every(page.ctx, PLACE_EVERY_MS, placeAll, signal);
    signal.addEventListener('abort', () => {
      buttons.forEach((b) => b.remove());
      buttons.clear();
    });
  },
};

/**
 * Saves what the button's video plays; the background decides who makes the file. A click on a
 * button that is recording a live stream stops the recording (what was recorded is saved).
 */
async function start(page: PageServices, button: DownloadButton): Promise<void> {
  if (button.job?.progress.stage === 'recording') {
    await sendToBackground('download.finish', { jobId: button.job.id }).catch(() => undefined);
    return;
  }
  const media = await describeVideo(button.video, page.sniffer.all());
  button.setState('working', 'Saving…');
  try {
    const { job } = await sendToBackground('download.start', { page: { title: document.title, url: location.href }, media });
    page.jobs.set(job.id, button);
    button.showJob(job);
  } catch (err) {
    const problem = buttonProblem(err);
    button.setState(problem.state === 'needs-key' ? 'failed' : problem.state, problem.label, problem.title);
  }
}
