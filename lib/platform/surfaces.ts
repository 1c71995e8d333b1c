/**
 * The browser's own surfaces for downloads: the toolbar badge, notifications when a download ends,
 * the "Download video" context-menu entry, showing a file in its folder.
 */
import { browser } from 'wxt/browser';
import { badgeText } from '../jobs/badge';
import type { Job } from '../schemas/job';

/** Badge: how many downloads are running, or the percent of the only one. */
export async function updateBadge(jobs: Job[]): Promise<void> {
  const text = badgeText(jobs);
  await browser.action.setBadgeText({ text });
  if (text) await browser.action.setBadgeBackgroundColor({ color: '#c4302b' });
}

/** A notification when a download is done or failed (with the reason). */
export async function notifyFinished(job: Job): Promise<void> {
  if (job.progress.stage !== 'done' && job.progress.stage !== 'failed') return;
  const done = job.progress.stage === 'done';
  await browser.notifications.create(`vidmux-${job.id}`, {
    type: 'basic',
    iconUrl: browser.runtime.getURL('/icon/128.png'),
    title: done ? 'Download finished' : 'Download failed',
    message: done ? `${job.filename}${job.remoteLocation ? ` is stored at ${job.remoteLocation}` : ' is saved.'}` : `${job.filename}: ${job.error?.message ?? 'unknown error'}`,
  });
}

export const CONTEXT_MENU_ID = 'vidmux-download';

/** The context-menu entry on videos and links. */
export function registerContextMenu(): void {
  browser.contextMenus.removeAll().then(() =>
    browser.contextMenus.create({ id: CONTEXT_MENU_ID, title: 'Download video', contexts: ['video', 'link'] }),
  );
}

/** Shows a saved file in its folder. */
export async function showInFolder(downloadId: number): Promise<void> {
  await browser.downloads.show(downloadId);
}

export async function openOptions(): Promise<void> {
  await browser.runtime.openOptionsPage();
}
