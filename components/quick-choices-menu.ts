/**
 * The quick-choices menu that opens from the arrow beside the YouTube Download button: Best quality,
 * 1080p, 720p, Audio M4A, Audio MP3, Subtitles. A WAI-ARIA menu button: Enter/Space/ArrowDown open it on the
 * first choice, ArrowUp on the last; arrows, Home and End move; Enter/Space choose; Escape closes
 * and gives focus back to the arrow; Tab and a click outside close it.
 *
 * The menu lives in the button's closed shadow root and is shown in the top layer (popover) where
 * the browser has it, so no page container can clip it.
 */
import type { UserChoice as DownloadChoice } from '@/lib/schemas/request';
import { staticMarkup } from '@/lib/dom/static-markup';

export interface QuickChoice {
  id: string;
  label: string;
  /** What the choice says in a tooltip. */
  hint: string;
  choice: DownloadChoice;
}

export const QUICK_CHOICES: readonly QuickChoice[] = [
  { id: 'best', label: 'Best quality', hint: 'Highest quality, video and audio in one file (MP4, or WebM if you keep WebM)', choice: { quality: 'best' } },
  { id: '1080', label: '1080p', hint: 'Up to 1080p', choice: { quality: '1080' } },
  { id: '720', label: '720p', hint: 'Up to 720p', choice: { quality: '720' } },
  { id: 'm4a', label: 'Audio M4A', hint: 'Audio only, M4A', choice: { quality: 'audio', audioFormat: 'm4a' } },
  { id: 'mp3', label: 'Audio MP3', hint: 'Audio only, MP3', choice: { quality: 'audio', audioFormat: 'mp3' } },
  { id: 'subs', label: 'Subtitles', hint: 'Only the subtitles (your languages in options, else English)', choice: { subtitlesOnly: true } },
];

export const MENU_STYLE = `
.menu {
  position: fixed; inset: auto; margin: 0; z-index: 2147483647;
  min-width: 180px; padding: 8px 0; border: 0; border-radius: 12px;
  background: var(--vm-menu-bg); color: var(--vm-fg); box-shadow: var(--vm-menu-shadow);
  font: 400 14px/20px "Roboto", "Arial", sans-serif; overflow: visible;
}
.menu.fallback:not(.open) { display: none; }
.menu-title { padding: 4px 16px 8px; font-size: 12px; color: var(--vm-muted); }
.menu [role="menuitem"] {
  all: unset; box-sizing: border-box; display: flex; align-items: center; gap: 12px; width: 100%;
  min-height: 36px; padding: 0 36px 0 16px; cursor: pointer; white-space: nowrap; color: inherit;
  font: inherit;
}
.menu [role="menuitem"]:hover, .menu [role="menuitem"]:focus { background: var(--vm-menu-hover); }
.menu [role="menuitem"]:focus-visible { outline: 2px solid var(--vm-focus); outline-offset: -2px; }
.menu svg { width: 20px; height: 20px; flex: none; fill: currentColor; }
`;

const ICONS: Record<string, string> = {
  video: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M18 4H6a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2Zm0 14H6V6h12v12Zm-8-9.5v7l5-3.5-5-3.5Z"/></svg>',
  audio: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M12 3v10.55A4 4 0 1 0 14 17V7h4V3h-6Zm-2 16a2 2 0 1 1 0-4 2 2 0 0 1 0 4Z"/></svg>',
  subtitles: '<svg viewBox="0 0 24 24" aria-hidden="true"><path d="M20 4H4a2 2 0 0 0-2 2v12a2 2 0 0 0 2 2h16a2 2 0 0 0 2-2V6a2 2 0 0 0-2-2Zm0 14H4V6h16v12ZM6 10h2v2H6v-2Zm0 4h8v2H6v-2Zm10 0h2v2h-2v-2Zm-6-4h8v2h-8v-2Z"/></svg>',
};

let menuCount = 0;

export class QuickChoicesMenu {
  readonly element: HTMLElement;
  private readonly items: HTMLButtonElement[] = [];
  private readonly usePopover: boolean;
  private readonly onOutside = (e: Event) => {
    if (!e.composedPath().includes(this.opts.host)) this.close(false);
  };
  private readonly onViewportChange = () => this.position();

  constructor(
    root: ShadowRoot,
    private readonly opts: {
      /** The arrow button that opens the menu. */
      trigger: HTMLButtonElement;
      /** The element the menu sits under (the whole split button). */
      alignTo: HTMLElement;
      /** The shadow host: clicks inside it are not "outside". */
      host: HTMLElement;
      onChoose(choice: QuickChoice): void;
      onToggle?(open: boolean): void;
    },
  ) {
    const id = `vidmux-quick-choices-${++menuCount}`;
    this.element = document.createElement('div');
    this.element.className = 'menu';
    this.element.id = id;
    this.element.setAttribute('role', 'menu');
    this.element.setAttribute('aria-label', 'Download as');
    this.usePopover = typeof this.element.showPopover === 'function';
    if (this.usePopover) this.element.popover = 'manual';
    else this.element.classList.add('fallback');
    for (const c of QUICK_CHOICES) {
      const item = document.createElement('button');
      item.type = 'button';
      item.setAttribute('role', 'menuitem');
      item.tabIndex = -1;
      item.dataset.choice = c.id;
      item.title = c.hint;
      item.replaceChildren(...staticMarkup(c.choice.subtitlesOnly ? ICONS.subtitles! : c.choice.quality === 'audio' ? ICONS.audio! : ICONS.video!));
      item.append(c.label);
      item.addEventListener('click', (e) => {
        e.preventDefault();
        if (!e.isTrusted) return;
        this.close(true);
        this.opts.onChoose(c);
      });
      this.items.push(item);
      this.element.append(item);
    }
    this.element.addEventListener('keydown', (e) => this.onMenuKey(e));

    const { trigger } = opts;
    trigger.setAttribute('aria-haspopup', 'menu');
    trigger.setAttribute('aria-expanded', 'false');
    trigger.setAttribute('aria-controls', id);
    trigger.addEventListener('click', (e) => {
      e.preventDefault();
      if (!e.isTrusted) return;
      if (this.isOpen) this.close(true);
      else this.open('first');
    });
    trigger.addEventListener('keydown', (e) => {
      if (!e.isTrusted) return;
      if (e.key === 'ArrowDown' || e.key === 'ArrowUp') {
        e.preventDefault();
        this.open(e.key === 'ArrowDown' ? 'first' : 'last');
      } else if (e.key === 'Escape' && this.isOpen) {
        e.preventDefault();
        this.close(true);
      }
    });
    root.append(this.element);
  }

  get isOpen(): boolean {
    return this.opts.trigger.getAttribute('aria-expanded') === 'true';
  }

  open(focus: 'first' | 'last'): void {
    if (!this.isOpen) {
      if (this.usePopover) this.element.showPopover();
      else this.element.classList.add('open');
      this.opts.trigger.setAttribute('aria-expanded', 'true');
      this.position();
      document.addEventListener('pointerdown', this.onOutside, true);
      addEventListener('resize', this.onViewportChange, { passive: true });
      addEventListener('scroll', this.onViewportChange, { passive: true, capture: true });
      this.opts.onToggle?.(true);
    }
    this.items[focus === 'first' ? 0 : this.items.length - 1]?.focus();
  }

  /** Closes the menu; `returnFocus` puts focus back on the arrow (keyboard users stay in place). */
  close(returnFocus: boolean): void {
    if (!this.isOpen) return;
    if (this.usePopover) this.element.hidePopover();
    else this.element.classList.remove('open');
    this.opts.trigger.setAttribute('aria-expanded', 'false');
    document.removeEventListener('pointerdown', this.onOutside, true);
    removeEventListener('resize', this.onViewportChange);
    removeEventListener('scroll', this.onViewportChange, { capture: true });
    if (returnFocus) this.opts.trigger.focus();
    this.opts.onToggle?.(false);
  }

  destroy(): void {
    this.close(false);
    this.element.remove();
  }

  /** Under the split button, its right edges aligned; above it when there is no room below. */
  private position(): void {
    if (!this.isOpen) return;
    const anchor = this.opts.alignTo.getBoundingClientRect();
    const menu = this.element.getBoundingClientRect();
    const gap = 4;
    let top = anchor.bottom + gap;
    if (top + menu.height > innerHeight - 8 && anchor.top - gap - menu.height >= 8) top = anchor.top - gap - menu.height;
    const left = Math.min(Math.max(8, anchor.right - menu.width), Math.max(8, innerWidth - menu.width - 8));
    this.element.style.top = `${Math.round(top)}px`;
    this.element.style.left = `${Math.round(left)}px`;
  }

  private onMenuKey(e: KeyboardEvent): void {
    if (!e.isTrusted) return;
    const current = this.items.indexOf(e.composedPath()[0] as HTMLButtonElement);
    const move = (i: number) => this.items[(i + this.items.length) % this.items.length]?.focus();
    switch (e.key) {
      case 'ArrowDown':
        move(current + 1);
        break;
      case 'ArrowUp':
        move(current - 1);
        break;
      case 'Home':
        move(0);
        break;
      case 'End':
        move(this.items.length - 1);
        break;
      case 'Escape':
        this.close(true);
        break;
      case 'Tab':
        // Focus goes back to the arrow, then Tab moves on from there as it would have.
        this.close(true);
        return;
      default:
        return; // Enter and Space click the focused item natively (a trusted click).
    }
    e.preventDefault();
  }
}
