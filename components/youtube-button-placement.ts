/**
 * Keeps one YouTube Download button on the page, for the video being watched:
 * - a navigation to another video (YouTube never reloads the page) replaces it with a fresh one,
 *   so nothing of the last video's download carries over;
 * - when YouTube re-renders its row of buttons and drops ours, it goes back in;
 * - when the row is missing for a while, it floats over the player instead (and moves back into
 *   the row once the row is there again);
 * - on pages that show no video (home, search, channel) there is none.
 */
import { findActionsAnchor, findPlayer } from '@/lib/dom/youtube-page';
import { youtubeVideoKey } from '@/lib/sites';
import { onYouTubeNavigation } from '@/lib/dom/youtube-navigation';
import { YOUTUBE_BUTTON_TAG, YouTubeDownloadButton } from './youtube-download-button';

export interface YouTubeButtonPlacementOptions {
  /** Makes the button for a video page. */
  create(videoKey: string): YouTubeDownloadButton;
  /** How long the row of buttons may be missing before the button floats over the player. */
  floatAfterMs?: number;
}

export class YouTubeButtonPlacement {
  private button: YouTubeDownloadButton | null = null;
  private key: string | null = null;
  /** Since when the button has had no row to sit in. */
  private anchorMissingSince = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private floatTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly stops: (() => void)[] = [];

  constructor(private readonly opts: YouTubeButtonPlacementOptions) {}

  /** Starts watching navigations and re-renders; returns a function that stops and removes it all. */
  start(): () => void {
    this.stops.push(onYouTubeNavigation(() => this.sync()));
    const observer = new MutationObserver(() => this.schedule());
    observer.observe(document.documentElement, { childList: true, subtree: true });
    this.stops.push(() => observer.disconnect());
    this.sync();
    return () => this.stop();
  }

  /** The button now on the page, if any. */
  get current(): YouTubeDownloadButton | null {
    return this.button;
  }

  stop(): void {
    for (const stop of this.stops.splice(0)) stop();
    clearTimeout(this.timer);
    clearTimeout(this.floatTimer);
    this.button?.remove();
    this.button = null;
    this.key = null;
  }

  /** YouTube mutates its DOM constantly: look at most every 100 ms. */
  private schedule(): void {
    if (this.timer !== undefined) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.sync();
    }, 100);
  }

  /** Makes the page match what it should show: one button for this video, in the right place. */
  sync(): void {
    const key = youtubeVideoKey(location.href);
    if (key !== this.key) {
      this.button?.remove();
      this.button = key ? this.opts.create(key) : null;
      this.key = key;
      this.anchorMissingSince = Date.now();
    }
    // Copies of our host left behind by a re-render that cloned the row (no shadow root inside).
    for (const el of document.querySelectorAll(YOUTUBE_BUTTON_TAG)) if (el !== this.button?.host) el.remove();
    const button = this.button;
    if (!button) return;

    const anchor = findActionsAnchor(document);
    if (anchor) {
      this.anchorMissingSince = 0;
      clearTimeout(this.floatTimer);
      this.floatTimer = undefined;
      button.placeIn(anchor);
      return;
    }
    if (!this.anchorMissingSince) this.anchorMissingSince = Date.now();
    const waited = Date.now() - this.anchorMissingSince;
    const floatAfter = this.opts.floatAfterMs ?? 2500;
    const player = findPlayer(document);
    if (waited >= floatAfter && player) {
      button.floatOver(player);
    } else {
      // Not placed yet (or the row just went away): look again when the wait is over.
      if (button.placement === 'inline') button.host.remove();
      if (this.floatTimer === undefined) {
        this.floatTimer = setTimeout(() => {
          this.floatTimer = undefined;
          this.sync();
        }, waited >= floatAfter ? 1000 : Math.max(50, floatAfter - waited));
      }
    }
  }
}
