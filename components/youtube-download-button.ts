/**
 * The YouTube Download button: a pill like YouTube's own (Like, Share) in the row under the player,
 * split in two: "Download" saves with the user's default preset; the arrow opens the quick choices.
 * When YouTube's row is missing it floats over the player instead. It lives in a closed shadow root
 * (the page can neither style it nor reach into it) and only acts on trusted (user) events. Its state
 * and tooltip are mirrored on the host element for assistive tech and tests.
 */
import type { UserChoice as DownloadChoice } from '@/lib/schemas/request';
import type { Job } from '@/lib/schemas/job';
import { jobButtonView } from './job-button-view';
import { MENU_STYLE, QuickChoicesMenu } from './quick-choices-menu';
import { staticMarkup } from '@/lib/dom/static-markup';

export const YOUTUBE_BUTTON_TAG = 'vidmux-youtube-download';

const LIGHT = `
  --vm-bg: rgba(0,0,0,.05); --vm-bg-hover: rgba(0,0,0,.1); --vm-bg-active: rgba(0,0,0,.2);
  --vm-fg: #0f0f0f; --vm-muted: #606060; --vm-divider: rgba(0,0,0,.1); --vm-focus: #065fd4;
  --vm-progress: rgba(6,95,212,.16); --vm-done: #0f7b3f; --vm-failed: #cc0000;
  --vm-menu-bg: #fff; --vm-menu-hover: rgba(0,0,0,.1); --vm-menu-shadow: 0 4px 32px rgba(0,0,0,.1), 0 1px 4px rgba(0,0,0,.08);`;
const DARK = `
  --vm-bg: rgba(255,255,255,.1); --vm-bg-hover: rgba(255,255,255,.2); --vm-bg-active: rgba(255,255,255,.3);
  --vm-fg: #f1f1f1; --vm-muted: #aaa; --vm-divider: rgba(255,255,255,.2); --vm-focus: #3ea6ff;
  --vm-progress: rgba(62,166,255,.28); --vm-done: #37c871; --vm-failed: #ff6b6b;
  --vm-menu-bg: #282828; --vm-menu-hover: rgba(255,255,255,.1); --vm-menu-shadow: 0 4px 32px rgba(0,0,0,.5);`;

const STYLE = `
:host { ${LIGHT} }
@media (prefers-color-scheme: dark) { :host(:not([data-theme="light"])) { ${DARK} } }
:host([data-theme="dark"]) { ${DARK} }
:host([data-placement="floating"]) {
  --vm-bg: rgba(15,15,15,.72); --vm-bg-hover: rgba(15,15,15,.9); --vm-bg-active: #000; --vm-fg: #fff;
  --vm-divider: rgba(255,255,255,.3); --vm-focus: #3ea6ff; --vm-progress: rgba(62,166,255,.45);
  --vm-done: #5ddc8f; --vm-failed: #ff8a8a;
}
.split {
  display: inline-flex; align-items: center; height: 36px; border-radius: 18px; overflow: hidden;
  background: var(--vm-bg); color: var(--vm-fg);
  font: 500 14px/36px "Roboto", "Arial", sans-serif; white-space: nowrap;
}
button.main, button.arrow {
  all: unset; box-sizing: border-box; display: inline-flex; align-items: center; height: 36px;
  cursor: pointer; color: inherit; font: inherit; position: relative;
}
button.main { gap: 6px; padding: 0 12px 0 12px; min-width: 0; max-width: 240px;
  background: linear-gradient(to right, var(--vm-progress) var(--vm-pct, 0%), transparent var(--vm-pct, 0%)); }
button.arrow { justify-content: center; width: 36px; padding-right: 2px; }
button.main:hover, button.arrow:hover, button.arrow[aria-expanded="true"] { background-color: var(--vm-bg-hover); }
button.main:active, button.arrow:active { background-color: var(--vm-bg-active); }
button.main:focus-visible, button.arrow:focus-visible { outline: 2px solid var(--vm-focus); outline-offset: -2px; border-radius: 18px; }
.divider { width: 1px; height: 24px; background: var(--vm-divider); flex: none; }
.label { overflow: hidden; text-overflow: ellipsis; }
.main svg { width: 24px; height: 24px; flex: none; fill: currentColor; margin-left: -2px; }
.arrow svg { width: 20px; height: 20px; fill: currentColor; }
.main[data-state="done"] svg { fill: var(--vm-done); }
.main[data-state="failed"] svg, .main[data-state="unsupported"] svg { fill: var(--vm-failed); }
.main[data-state="working"] { cursor: progress; }
:host([data-placement="floating"]) .split { box-shadow: 0 2px 8px rgba(0,0,0,.35); }
${MENU_STYLE}
`;

const ICON_DOWNLOAD = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M17 18v1H6v-1h11zm-.5-6.6-.7-.7-3.8 3.7V4h-1v10.4l-3.8-3.8-.7.7 5 5 5-4.9z"/></svg>';
const ICON_DONE = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="m9 16.2-3.5-3.5a1 1 0 0 0-1.4 1.4l4.2 4.2a1 1 0 0 0 1.4 0L20.3 7.7a1 1 0 0 0-1.4-1.4z"/></svg>';
const ICON_FAILED = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 2a10 10 0 1 0 0 20 10 10 0 0 0 0-20zm1 15h-2v-2h2v2zm0-4h-2V7h2v6z"/></svg>';
const ICON_KEY = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M7 14a2 2 0 1 1 0-4 2 2 0 0 1 0 4zm5.65-4A6 6 0 1 0 12.65 14H17v4h4v-4h2v-4H12.65z"/></svg>';
const ICON_ARROW = '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="m18 9.28-6.35 6.35-6.37-6.35.72-.71 5.64 5.65 5.65-5.65z"/></svg>';

export type YouTubeButtonState = 'idle' | 'working' | 'done' | 'failed' | 'unsupported' | 'needs-key';

const ICONS: Record<YouTubeButtonState, string> = {
  idle: ICON_DOWNLOAD,
  working: ICON_DOWNLOAD,
  done: ICON_DONE,
  failed: ICON_FAILED,
  unsupported: ICON_FAILED,
  'needs-key': ICON_KEY,
};

export interface YouTubeButtonActions {
  /** Save with `choice` (`{}`: the user's default preset). */
  download(choice: DownloadChoice): void;
  /** Open the options page (to add a key). */
  openOptions(): void;
}

export class YouTubeDownloadButton {
  readonly host: HTMLElement;
  private readonly main: HTMLButtonElement;
  private readonly label: HTMLSpanElement;
  private readonly icon: HTMLSpanElement;
  private readonly menu: QuickChoicesMenu;
  private state: YouTubeButtonState = 'idle';
  private readonly themeObserver: MutationObserver;

  constructor(
    /** Which video page this button belongs to (a new video gets a new button). */
    readonly videoKey: string,
    private readonly actions: YouTubeButtonActions,
  ) {
    this.host = document.createElement(YOUTUBE_BUTTON_TAG);
    this.host.dataset.video = videoKey;
    const root = this.host.attachShadow({ mode: 'closed' });
    root.replaceChildren(...staticMarkup(`<style>${STYLE}</style><div class="split" role="group" aria-label="Vidmux download">
<button type="button" class="main" data-state="idle"><span class="icon"></span><span class="label">Download</span></button>
<span class="divider" aria-hidden="true"></span>
<button type="button" class="arrow" aria-label="More download choices" title="More download choices">${ICON_ARROW}</button></div>`));
    this.main = root.querySelector('button.main')!;
    this.label = root.querySelector('.label')!;
    this.icon = root.querySelector('.icon')!;
    this.icon.style.display = 'contents';
    const arrow = root.querySelector<HTMLButtonElement>('button.arrow')!;
    const split = root.querySelector<HTMLElement>('.split')!;

    this.main.addEventListener('click', (event) => {
      event.preventDefault();
      // Pages can dispatch synthetic clicks; only a real user's click acts.
      if (!event.isTrusted) return;
      if (this.state === 'needs-key') this.actions.openOptions();
      else if (this.state !== 'working') this.actions.download({});
    });
    this.menu = new QuickChoicesMenu(root, {
      trigger: arrow,
      alignTo: split,
      host: this.host,
      onChoose: (c) => this.actions.download(c.choice),
      onToggle: (open) => (this.host.dataset.menu = open ? 'open' : 'closed'),
    });
    this.host.dataset.menu = 'closed';
    // Keep our clicks and keys from YouTube's player and its keyboard shortcuts (k, j, l, arrows).
    for (const type of ['click', 'dblclick', 'mousedown', 'mouseup', 'pointerdown', 'pointerup', 'keydown', 'keyup', 'keypress']) {
      root.addEventListener(type, (e) => e.stopPropagation());
    }
    // YouTube has its own theme switch (html[dark]); elsewhere the system's scheme decides.
    this.themeObserver = new MutationObserver(() => this.applyTheme());
    this.themeObserver.observe(document.documentElement, { attributes: true, attributeFilter: ['dark'] });
    this.applyTheme();
    this.setState('idle', 'Download', 'Download with Vidmux (your default quality)');
  }

  /** Puts the button at the end of YouTube's row of buttons. */
  placeIn(anchor: HTMLElement): void {
    this.setHostStyle('inline');
    if (this.host.parentElement !== anchor) anchor.append(this.host);
  }

  /** Floats the button over the player's top-right corner (YouTube's row is missing). */
  floatOver(player: HTMLElement): void {
    this.setHostStyle('floating');
    if (this.host.parentElement !== player) player.append(this.host);
  }

  get placement(): 'inline' | 'floating' | null {
    if (!this.host.isConnected) return null;
    return (this.host.dataset.placement as 'inline' | 'floating') ?? null;
  }

  setState(state: YouTubeButtonState, text: string, title = text): void {
    this.state = state;
    this.main.dataset.state = state;
    this.icon.replaceChildren(...staticMarkup(ICONS[state]));
    this.label.textContent = text;
    this.main.title = title;
    this.main.setAttribute('aria-label', state === 'idle' ? 'Download with Vidmux' : `${text}. ${title}`);
    if (state !== 'working') this.main.style.removeProperty('--vm-pct');
    // Mirrored on the host for assistive tech and tests (the shadow root is closed).
    this.host.dataset.state = state;
    this.host.dataset.label = text;
    this.host.title = title;
  }

  /** Shows a job's progress on the button: percent while saving, then Saved or Failed. */
  showJob(job: Job): void {
    const view = jobButtonView(job);
    this.setState(view.state, view.label, view.title);
    if (view.state === 'working' && view.pct !== null) this.main.style.setProperty('--vm-pct', `${view.pct}%`);
  }

  remove(): void {
    this.menu.destroy();
    this.themeObserver.disconnect();
    this.host.remove();
  }

  /**
   * The host's own box, inline and important: page rules for the row's children (padding, a
   * background, a height) would otherwise reach it, as outer styles win over :host.
   */
  private setHostStyle(placement: 'inline' | 'floating'): void {
    if (this.host.dataset.placement === placement && this.host.style.length) return;
    this.host.dataset.placement = placement;
    const box: Record<string, string> = {
      all: 'initial',
      display: 'inline-flex',
      flex: 'none',
      'vertical-align': 'middle',
      ...(placement === 'floating' ? { position: 'absolute', top: '12px', right: '12px', 'z-index': '2147483647' } : {}),
    };
    this.host.style.cssText = Object.entries(box)
      .map(([k, v]) => `${k}: ${v} !important;`)
      .join(' ');
  }

  private applyTheme(): void {
    const html = document.documentElement;
    // On YouTube (ytd-app) its own theme attribute is the truth; elsewhere follow the system.
    if (html.hasAttribute('dark')) this.host.dataset.theme = 'dark';
    else if (document.querySelector('ytd-app')) this.host.dataset.theme = 'light';
    else delete this.host.dataset.theme;
  }
}
