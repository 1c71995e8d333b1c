/**
 * The Download button placed over a video. It lives in a closed shadow root so the page can neither
 * style it nor reach into it, and it only acts on trusted (user) clicks. It shows while the pointer
 * is over the video (or the button), while it or the video has keyboard focus, and while its download
 * runs (and a moment after, to show the outcome); otherwise it is transparent and lets clicks through
 * to the player, yet stays in the tab order, so a keyboard user reaches it (and then sees it).
 */
import type { Job } from '@/lib/schemas/job';
import { jobButtonView } from './job-button-view';
import { staticMarkup } from '@/lib/dom/static-markup';

const STYLE = `
:host { all: initial; position: fixed; z-index: 2147483647; display: none; transition: opacity .15s; }
button {
  font: 600 13px/1 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  display: inline-flex; align-items: center; gap: 6px;
  padding: 8px 12px; border-radius: 18px; border: 1px solid rgba(255,255,255,.35);
  background: rgba(17, 17, 17, .82); color: #fff; cursor: pointer;
  box-shadow: 0 2px 8px rgba(0,0,0,.35); opacity: .85; transition: opacity .15s, background .15s;
  max-width: 260px; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;
}
button:hover, button:focus-visible { opacity: 1; background: #c4302b; }
button:focus-visible { outline: 2px solid #fff; outline-offset: 2px; }
button[data-state="done"] { background: #1e7e34; opacity: 1; }
button[data-state="failed"], button[data-state="unsupported"] { background: #6c2020; opacity: 1; }
svg { width: 14px; height: 14px; flex: none; }
`;

const ICON = '<svg viewBox="0 0 24 24" aria-hidden="true"><path fill="currentColor" d="M11 3h2v10.17l3.59-3.58L18 11l-6 6-6-6 1.41-1.41L11 13.17zM5 19h14v2H5z"/></svg>';

export type ButtonState = 'idle' | 'working' | 'done' | 'failed' | 'unsupported';

/** How long the outcome (Saved, Failed) stays in view after the download ends. */
const OUTCOME_SHOWN_MS = 4000;

/** Where the pointer is (viewport coordinates), shared by every button; null: not over the page. */
let pointer: { x: number; y: number } | null = null;
const buttons = new Set<DownloadButton>();
let listening = false;

/** Page-wide listeners shared by every button, removed when `signal` (the feature's) aborts. */
function listenOnce(signal: AbortSignal): void {
  if (listening) return;
  listening = true;
  signal.addEventListener('abort', () => (listening = false), { once: true });
  const track = (e: PointerEvent) => {
    const moved = !pointer || pointer.x !== e.clientX || pointer.y !== e.clientY;
    pointer = { x: e.clientX, y: e.clientY };
    if (moved) buttons.forEach((b) => b.place());
  };
  document.addEventListener('pointermove', track, { capture: true, passive: true, signal });
  document.addEventListener('pointerdown', track, { capture: true, passive: true, signal });
  document.documentElement.addEventListener(
    'pointerleave',
    () => {
      pointer = null;
      buttons.forEach((b) => b.place());
    },
    { signal },
  );
  const refocus = () => buttons.forEach((b) => b.place());
  document.addEventListener('focusin', refocus, { capture: true, signal });
  document.addEventListener('focusout', refocus, { capture: true, signal });
}

const inside = (r: DOMRect, p: { x: number; y: number }) => p.x >= r.left && p.x <= r.right && p.y >= r.top && p.y <= r.bottom;

/** One button bound to one video element. */
export class DownloadButton {
  readonly host: HTMLElement;
  private readonly button: HTMLButtonElement;
  private readonly label: HTMLSpanElement;
  private frame = 0;
  private focused = false;
  /** Shown regardless of hover until then (a download running, or its outcome just in). */
  private stickyUntil = 0;
  private stickyTimer: ReturnType<typeof setTimeout> | undefined;

  /** `signal` ends the page-wide listeners the buttons share (the feature's lifetime). */
  constructor(
    readonly video: HTMLVideoElement,
    onClick: () => void,
    signal: AbortSignal,
  ) {
    this.host = document.createElement('vidmux-download');
    this.host.dataset.vidmuxFor = '';
    const root = this.host.attachShadow({ mode: 'closed' });
    root.replaceChildren(...staticMarkup(`<style>${STYLE}</style><button type="button" data-state="idle">${ICON}<span>Download</span></button>`));
    this.button = root.querySelector('button')!;
    this.label = root.querySelector('span')!;
    this.button.setAttribute('aria-label', 'Download this video with Vidmux');
    this.button.addEventListener('click', (event) => {
      event.preventDefault();
      event.stopPropagation();
      // Pages can dispatch synthetic clicks; only a real user's click starts a download.
      if (!event.isTrusted) return;
      onClick();
    });
    // Keep clicks from reaching the page's player (which would toggle play/pause).
    for (const type of ['mousedown', 'mouseup', 'pointerdown', 'pointerup', 'dblclick']) {
      this.button.addEventListener(type, (e) => e.stopPropagation());
    }
    this.button.addEventListener('focus', () => {
      this.focused = true;
      this.place();
    });
    this.button.addEventListener('blur', () => {
      this.focused = false;
      this.place();
    });
    this.host.dataset.shown = 'false';
    this.host.style.opacity = '0';
    this.host.style.pointerEvents = 'none';
    document.documentElement.append(this.host);
    buttons.add(this);
    listenOnce(signal);
    this.place();
  }

  /** Shows the state of the download this button started. */
  setState(state: ButtonState, text: string, title = text): void {
    this.button.dataset.state = state;
    this.label.textContent = text;
    this.button.title = title;
    // Mirrored on the host for assistive tech and tests (the shadow root is closed).
    this.host.dataset.state = state;
    this.host.title = title;
    // Keep the progress and the outcome in view even when the pointer has moved away.
    this.stickyUntil = state === 'working' ? Infinity : state === 'idle' ? 0 : Date.now() + OUTCOME_SHOWN_MS;
    clearTimeout(this.stickyTimer);
    if (Number.isFinite(this.stickyUntil) && this.stickyUntil > 0) this.stickyTimer = setTimeout(() => this.place(), OUTCOME_SHOWN_MS + 50);
    this.place();
  }

  /** The job this button shows (while it runs), for a second click: Stop on a recording. */
  job: Job | null = null;

  /** Shows a job's progress on the button. */
  showJob(job: Job): void {
    this.job = job;
    const view = jobButtonView(job);
    this.setState(view.state, view.label, view.title);
  }

  /** The word on an idle button: Record for a live stream (it has no end), else Download. */
  setIdleLabel(live: boolean): void {
    if (this.button.dataset.state !== 'idle') return;
    const text = live ? 'Record' : 'Download';
    if (this.label.textContent === text) return;
    this.label.textContent = text;
    this.host.dataset.label = text; // mirrored for tests (the shadow root is closed)
    this.button.setAttribute('aria-label', live ? 'Record this live stream with Vidmux' : 'Download this video with Vidmux');
  }

  /**
   * Keeps the button at the video's top-right corner; hides it while the video is not visible, and
   * shows it only on hover, focus, or while its download runs.
   */
  place(): void {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => {
      const r = this.video.getBoundingClientRect();
      const visible = r.width >= 80 && r.height >= 45 && r.bottom > 0 && r.right > 0 && r.top < innerHeight && r.left < innerWidth && this.video.isConnected;
      this.host.style.display = visible ? 'block' : 'none';
      if (!visible) return;
      const top = Math.max(r.top, 0) + 8;
      const right = Math.max(innerWidth - Math.min(r.right, innerWidth), 0) + 8;
      this.host.style.top = `${top}px`;
      this.host.style.right = `${right}px`;
      this.reveal(this.wanted(r));
    });
  }

  /** Whether the user is at this video now: pointer over it or the button, or keyboard focus. */
  private wanted(videoRect: DOMRect): boolean {
    if (this.focused || Date.now() < this.stickyUntil) return true;
    const active = document.activeElement;
    if (active && active !== document.body && active !== document.documentElement && (active === this.video || active.contains(this.video))) return true;
    return !!pointer && (inside(videoRect, pointer) || inside(this.host.getBoundingClientRect(), pointer));
  }

  private reveal(shown: boolean): void {
    if (this.host.dataset.shown === String(shown)) return;
    this.host.dataset.shown = String(shown);
    this.host.style.opacity = shown ? '1' : '0';
    // Hidden, it lets clicks through to the player; keyboard focus still reaches it (and shows it).
    this.host.style.pointerEvents = shown ? 'auto' : 'none';
  }

  remove(): void {
    cancelAnimationFrame(this.frame);
    clearTimeout(this.stickyTimer);
    buttons.delete(this);
    this.host.remove();
  }
}
