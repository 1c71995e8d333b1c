// The content script's composition root: the page's shared services, its features, job updates.
import { defineContentScript } from 'wxt/utils/define-content-script';
import { mediaReport } from '@/components/features/media-report';
import { overVideoButton } from '@/components/features/over-video-button';
import { runFeatures, type JobView } from '@/components/features/feature';
import { youtubeButton } from '@/components/features/youtube-button';
import { ManifestSniffer } from '@/lib/dom/manifest-sniffer';
import { VideoWatcher } from '@/lib/dom/video-watcher';
import { serveMessages } from '@/lib/platform/messaging';
import { keepExtensionIdFromPage } from '@/lib/platform/quiet-start';
import { FINISHED_STAGES } from '@/lib/schemas/progress';

// Before WXT's context exists: its start announcement would tell the page our id.
keepExtensionIdFromPage();

export default defineContentScript({
  matches: ['<all_urls>'],
  // Players often sit in an iframe (embeds): each frame finds its own videos and streams.
  allFrames: true,
  runAt: 'document_idle',
  main(ctx) {
    const videos = new VideoWatcher(document, ctx.signal);
    const sniffer = new ManifestSniffer(() => videos.rescan(), ctx.signal);
    const jobs = new Map<string, JobView>();
    runFeatures({ ctx, videos, sniffer, jobs }, [mediaReport, overVideoButton, youtubeButton]);

    // The background tells the button that started a job how it goes.
    const stop = serveMessages(
      {
        'job.update': ({ job }) => {
          jobs.get(job.id)?.showJob(job);
          if (FINISHED_STAGES.has(job.progress.stage)) jobs.delete(job.id);
          return {};
        },
      },
      { answerUnknown: false },
    );
    ctx.onInvalidated(stop);
  },
});
