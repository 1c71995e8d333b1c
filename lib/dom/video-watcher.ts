/**
 * Watches a document for its `<video>` elements, including ones a single-page app adds later and
 * ones whose source changes: a MutationObserver, media events (which do not bubble: captured at
 * the document) and in-page navigations, debounced. DOM only; everything stops when `signal` aborts.
 */
import { noteDuration } from './live-video';

export class VideoWatcher {
  private readonly listeners = new Set<(videos: HTMLVideoElement[]) => void>();
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly doc: Document,
    private readonly signal: AbortSignal,
    private readonly debounceMs = 150,
  ) {
    const observer = new MutationObserver(() => this.schedule());
    observer.observe(doc.documentElement, { childList: true, subtree: true });
    const opts = { capture: true, signal };
    for (const type of ['loadstart', 'loadedmetadata', 'emptied']) doc.addEventListener(type, () => this.schedule(), opts);
    // A duration that keeps growing is a live stream (the button then says Record).
    doc.addEventListener('durationchange', (e) => e.target instanceof HTMLVideoElement && noteDuration(e.target), opts);
    doc.defaultView?.addEventListener('popstate', () => this.schedule(), { signal });
    doc.addEventListener('yt-navigate-finish', () => this.schedule(), { signal });
    signal.addEventListener('abort', () => {
      observer.disconnect();
      clearTimeout(this.timer);
      this.listeners.clear();
    });
  }

  /** Calls `fn` with every video now and after each change, until `signal` (or the watcher's) aborts. */
  subscribe(fn: (videos: HTMLVideoElement[]) => void, signal?: AbortSignal): void {
    this.listeners.add(fn);
    signal?.addEventListener('abort', () => this.listeners.delete(fn), { once: true });
    fn(this.videos());
  }

  /** Looks again now (e.g. after a feature started) and tells every subscriber. */
  rescan(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    const videos = this.videos();
    for (const fn of this.listeners) fn(videos);
  }

  private videos(): HTMLVideoElement[] {
    return [...this.doc.querySelectorAll('video')];
  }

  private schedule(): void {
    if (this.signal.aborted) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.rescan(), this.debounceMs);
  }
}
