/** What a download button shows for a job: the same words on YouTube's button and the over-video one. */
import type { Job } from '@/lib/schemas/job';
import { progressFraction } from '@/lib/progress';

export interface JobButtonView {
  state: 'idle' | 'working' | 'done' | 'failed';
  label: string;
  /** The tooltip: the reason of a failure, the saved path, the stage in words. */
  title: string;
  /** Percent of the current stage, when known. */
  pct: number | null;
}

const PROVIDER_NAMES: Record<string, string> = { page: 'the page', vidpickr: 'VidPickr', renderio: 'RenderIO', tornado: 'Tornado' };

export function jobButtonView(job: Job): JobButtonView {
  const p = job.progress.overall;
  const provider = PROVIDER_NAMES[job.provider] ?? job.provider;
  switch (job.progress.stage) {
    case 'done':
      return { state: 'done', label: 'Saved', title: job.remoteLocation ? `Stored at ${job.remoteLocation}` : `Saved: ${(job.file ?? job.filename).split(/[\\/]/).pop()}` /* the name only: the page can read a title, and a path tells it the user's folders */, pct: 100 };
    case 'failed':
      return { state: 'failed', label: 'Failed', title: job.error?.message ?? 'The download failed.', pct: null };
    case 'interrupted':
      return { state: 'idle', label: 'Download', title: 'Interrupted when the browser closed: resume it from the Vidmux popup.', pct: null };
    case 'cancelled':
      return { state: 'idle', label: 'Download', title: 'Cancelled. Click to download again.', pct: null };
    case 'recording': {
      // A live stream: it records until the user stops it (a click on the button).
      const seconds = Math.floor((Date.now() - job.createdAt) / 1000);
      const time = `${Math.floor(seconds / 60)}:${String(seconds % 60).padStart(2, '0')}`;
      return { state: 'working', label: `Stop recording · ${time}`, title: `Recording the live stream (${p.segments?.done ?? 0} segments). Click to stop and save.`, pct: null };
    }
    case 'queued':
    case 'resolving':
      return { state: 'working', label: 'Preparing…', title: job.provider !== 'page' ? `Asking ${provider} for the video…` : 'Preparing…', pct: null };
    default: {
      // Each stage counts its own bytes: the tracks (downloading), the joined file (muxing), the
      // browser writing it to disk (saving). The browser reports its writing only at the end, so
      // no "0%" after "Joining 100%".
      const stage = job.progress.stage;
      const fraction = progressFraction(p);
      const pct = fraction !== null && (stage !== 'saving' || p.bytesDone > 0) ? Math.floor(100 * fraction) : null;
      const verb = stage === 'muxing' ? 'Joining' : 'Saving';
      const what = stage === 'muxing' ? 'Joining video and audio' : stage === 'saving' ? 'Writing the file to your downloads' : `Downloading${job.provider !== 'page' ? ` via ${provider}` : ''}`;
      const title = [what, pct === null ? null : `${pct}%`, p.etaSeconds ? `about ${Math.ceil(p.etaSeconds)} s left` : null].filter(Boolean).join(', ');
      return { state: 'working', label: pct === null ? `${verb}…` : `${verb} ${pct}%`, title, pct };
    }
  }
}
