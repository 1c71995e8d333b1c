/**
 * On-page features of the content script, one file each (as refined-github does): each says on
 * which pages it runs and starts with a signal that ends it. The runner starts and stops features
 * as the page navigates in place (single-page apps), and ends them all when the extension is
 * updated or removed (WXT's content-script context), so no timer or listener outlives it.
 */
import type { ContentScriptContext } from 'wxt/utils/content-script-context';
import type { VideoWatcher } from '@/lib/dom/video-watcher';
import type { ManifestSniffer } from '@/lib/dom/manifest-sniffer';
import type { Job } from '@/lib/schemas/job';

/** What a button shows of a download it started. */
export interface JobView {
  showJob(job: Job): void;
}

/** What every feature of a page shares. */
export interface PageServices {
  ctx: ContentScriptContext;
  videos: VideoWatcher;
  sniffer: ManifestSniffer;
  /** Routes job updates to the button that started the job. */
  jobs: Map<string, JobView>;
}

export interface Feature {
  readonly name: string;
  /** Whether it runs on a page at `url` (asked again after every in-page navigation). */
  runsOn(url: string): boolean;
  /** Starts it; everything it sets up must end when `signal` aborts. */
  init(page: PageServices, signal: AbortSignal): void;
}

/** Runs `features` on the page for as long as the content script is valid. */
export function runFeatures(page: PageServices, features: readonly Feature[]): void {
  const running = new Map<Feature, AbortController>();
  const sync = () => {
    for (const feature of features) {
      const on = feature.runsOn(location.href);
      const ctrl = running.get(feature);
      if (on && !ctrl) {
        // Ends with the content script too (AbortSignal.any is newer than Firefox ESR 115).
        const next = new AbortController();
        const off = page.ctx.onInvalidated(() => next.abort());
        next.signal.addEventListener('abort', off, { once: true });
        running.set(feature, next);
        feature.init(page, next.signal);
      } else if (!on && ctrl) {
        ctrl.abort();
        running.delete(feature);
      }
    }
    page.videos.rescan();
  };
  page.ctx.addEventListener(window, 'wxt:locationchange', sync);
  page.ctx.addEventListener(document, 'yt-navigate-finish', sync);
  sync();
}

/**
 * An interval for a feature: WXT's (it checks on every tick that the extension is still there, and
 * ends the whole content script when it is not), stopped too when the feature's `signal` aborts.
 */
export function every(ctx: ContentScriptContext, ms: number, fn: () => void, signal: AbortSignal): void {
  const timer = ctx.setInterval(fn, ms);
  signal.addEventListener('abort', () => clearInterval(timer), { once: true });
}
