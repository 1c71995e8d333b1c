/**
 * The Download button beside YouTube's own buttons (with the quick choices menu), on YouTube's
 * video pages; it saves the video being watched through the providers.
 */
import { describeVideo } from '@/lib/dom/video-scan';
import { sendToBackground } from '@/lib/platform/messaging';
import type { UserChoice } from '@/lib/schemas/request';
import { isYouTubeUrl } from '@/lib/sites';
import { buttonProblem } from '../job-button-state';
import { YouTubeButtonPlacement } from '../youtube-button-placement';
import { YouTubeDownloadButton } from '../youtube-download-button';
import type { Feature, PageServices } from './feature';

export const youtubeButton: Feature = {
  name: 'youtube-button',
  // The placement itself follows YouTube's navigations between video and other pages.
  runsOn: isYouTubeUrl,
  init(page, signal) {
    const placement = new YouTubeButtonPlacement({
      create: (videoKey) => {
        const button: YouTubeDownloadButton = new YouTubeDownloadButton(videoKey, {
          download: (choice) => void start(page, button, choice),
          openOptions: () => void sendToBackground('options.open', {}).catch(() => undefined),
        });
        return button;
      },
    });
    const stop = placement.start();
    signal.addEventListener('abort', stop, { once: true });
  },
};

async function start(page: PageServices, button: YouTubeDownloadButton, choice: UserChoice): Promise<void> {
  button.setState('working', 'Saving…', 'Starting the download…');
  const video = document.querySelector<HTMLVideoElement>('#movie_player video');
  const media = video ? await describeVideo(video, page.sniffer.all()).catch(() => null) : null;
  try {
    const { job } = await sendToBackground('download.start', { page: { title: document.title, url: location.href }, media, choice });
    page.jobs.set(job.id, button);
    button.showJob(job);
  } catch (err) {
    const problem = buttonProblem(err);
    button.setState(problem.state, problem.state === 'unsupported' ? 'Can’t save this' : problem.label, problem.title);
  }
}
