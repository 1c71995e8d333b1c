/**
 * The browser's own surfaces for downloads: the toolbar badge, notifications when a download ends
 * (or cannot start), the "Download video" context-menu entry, showing a file in its folder.
 */
import { browser } from 'wxt/browser';
import type { Surfaces } from '../background/ports';
import type { MenuClick } from '../background/context-menu';
import { badgeText } from '../jobs/badge';
import type { Job } from '../schemas/job';

const CONTEXT_MENU_ID = 'vidmux-download';

async function notify(id: string | undefined, title: string, message: string): Promise<void> {
  const opts = { type: 'basic' as const, iconUrl: browser.runtime.getURL('/icon/128.png'), title, message };
  await (id ? browser.notifications.create(id, opts) : browser.notifications.create(opts));
}

export const browserSurfaces: Surfaces = {
  /** Badge: how many downloads are running, or the percent of the only one. */
  async updateBadge(jobs: Job[]) {
    const text = badgeText(jobs);
    await browser.action.setBadgeText({ text });
    if (text) await browser.action.setBadgeBackgroundColor({ color: '#c4302b' });
  },
  /** A notification when a download is done or failed (with the reason). */
  async notifyFinished(job: Job) {
    if (job.progress.stage !== 'done' && job.progress.stage !== 'failed') return;
    const done = job.progress.stage === 'done';
    const message = done ? `${job.filename}${job.remoteLocation ? ` is stored at ${job.remoteLocation}` : ' is saved.'}` : `${job.filename}: ${job.error?.message ?? 'unknown error'}`;
    await notify(`vidmux-${job.id}`, done ? 'Download finished' : 'Download failed', message);
  },
  async notifyProblem(title: string, message: string) {
    await notify(undefined, title, message);
  },
  async openOptions() {
    await browser.runtime.openOptionsPage();
  },
  async showInFolder(downloadId: number) {
    await browser.downloads.show(downloadId);
  },
};

/** The context-menu entry on videos and links, and what a click on it calls. */
export function installContextMenu(onClick: (click: MenuClick, tab: { id?: number; title?: string; url?: string }) => void): void {
  browser.runtime.onInstalled.addListener(() => {
    void browser.contextMenus.removeAll().then(() => browser.contextMenus.create({ id: CONTEXT_MENU_ID, title: 'Download video', contexts: ['video', 'link'] }));
  });
  browser.contextMenus.onClicked.addListener((info, tab) => {
    if (info.menuItemId !== CONTEXT_MENU_ID || !tab) return;
    onClick({ srcUrl: info.srcUrl, linkUrl: info.linkUrl, pageUrl: info.pageUrl }, { ...(tab.id === undefined ? {} : { id: tab.id }), ...(tab.title ? { title: tab.title } : {}), ...(tab.url ? { url: tab.url } : {}) });
  });
}
