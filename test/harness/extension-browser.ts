/**
 * Launches Debian's Chromium with the built extension, the way /work/shared/recipes.md found to work:
 * a persistent context, --load-extension with an absolute path, downloads landing in a known
 * folder under their real names. Shared by the e2e tests and `npm run demo`.
 */
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page, type Worker } from 'playwright-core';
import { hostResolverRules } from './tls';

export const EXTENSION_DIR = resolve(import.meta.dirname, '../../.output/chrome-mv3');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export interface ExtensionBrowser {
  context: BrowserContext;
  worker: Worker;
  extensionId: string;
  downloadDir: string;
  /** Opens an extension page (e.g. "popup.html?tabId=3"). */
  openExtensionPage(path: string): Promise<Page>;
  close(): Promise<void>;
}

export interface DownloadRecord {
  id: number;
  state: string;
  filename: string;
  bytesReceived: number;
  totalBytes: number;
  error?: string;
  url: string;
}

/** Starts Chromium with the extension from `.output/chrome-mv3` (run `npm run build` first). */
export async function launchExtensionBrowser(opts: { headless?: boolean; downloadDir?: string; extraArgs?: string[]; userDataDir?: string } = {}): Promise<ExtensionBrowser> {
  // A given profile is launched again as it is (a browser restart); otherwise a fresh one.
  const userDataDir = opts.userDataDir ?? mkdtempSync(join(tmpdir(), 'vidmux-profile-'));
  const downloadDir = opts.downloadDir ?? mkdtempSync(join(tmpdir(), 'vidmux-downloads-'));
  mkdirSync(join(userDataDir, 'Default'), { recursive: true });
  writeFileSync(join(userDataDir, 'Default', 'Preferences'), JSON.stringify({ download: { default_directory: downloadDir, prompt_for_download: false } }));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: opts.headless ?? true,
    viewport: { width: 1100, height: 760 },
    args: [
      `--disable-extensions-except=${EXTENSION_DIR}`,
      `--load-extension=${EXTENSION_DIR}`,
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
      '--disable-quic',
      '--autoplay-policy=no-user-gesture-required',
      ...(opts.extraArgs ?? []),
      // Nothing but loopback (and the fakes mapped in extraArgs) resolves: tests never reach out.
      ...((opts.extraArgs ?? []).some((a) => a.startsWith('--host-resolver-rules=')) ? [] : [hostResolverRules()]),
    ],
  });
  // Without this, Playwright renames downloads to GUIDs in a folder it deletes at close.
  const cdp = await context.browser()?.newBrowserCDPSession();
  await cdp?.send('Browser.setDownloadBehavior', { behavior: 'default' });
  const worker = context.serviceWorkers()[0] ?? (await context.waitForEvent('serviceworker', { timeout: 30_000 }));
  const extensionId = new URL(worker.url()).host;
  return {
    context,
    worker,
    extensionId,
    downloadDir,
    async openExtensionPage(path: string) {
      const page = await context.newPage();
      await page.goto(`chrome-extension://${extensionId}/${path}`);
      return page;
    },
    close: () => context.close(),
  };
}

/** The browser's download list, read in the extension's service worker. */
export async function listDownloads(b: ExtensionBrowser): Promise<DownloadRecord[]> {
  const worker = b.context.serviceWorkers()[0] ?? b.worker;
  return worker.evaluate(async () => {
    const items = await (globalThis as any).chrome.downloads.search({});
    return items.map((d: any) => ({ id: d.id, state: d.state, filename: d.filename, bytesReceived: d.bytesReceived, totalBytes: d.totalBytes, error: d.error, url: d.url }));
  });
}

/** Waits until a download matching `match` ends; returns it (complete or interrupted). */
export async function waitForDownloadEnd(b: ExtensionBrowser, match: (d: DownloadRecord) => boolean, timeoutMs = 60_000): Promise<DownloadRecord> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const found = (await listDownloads(b)).find((d) => match(d) && d.state !== 'in_progress');
    if (found) return found;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`No matching download ended within ${timeoutMs} ms. Downloads: ${JSON.stringify(await listDownloads(b))}`);
}

/** The tab id of a page, found by its URL through the extension (it has host permissions). */
export async function tabIdOf(b: ExtensionBrowser, url: string): Promise<number> {
  const worker = b.context.serviceWorkers()[0] ?? b.worker;
  const id = await worker.evaluate(async (u: string) => {
    const tabs = await (globalThis as any).chrome.tabs.query({});
    return tabs.find((t: any) => t.url === u)?.id ?? null;
  }, url);
  if (id === null) throw new Error(`No tab with URL ${url}`);
  return id;
}

/**
 * Runs `action` and returns the first browser download that starts after it, once it has ended.
 * (Vidmux hands the browser a blob: URL of the finished file, so downloads are told apart by id.)
 */
export async function downloadFrom(b: ExtensionBrowser, action: () => Promise<unknown>, timeoutMs = 60_000): Promise<DownloadRecord> {
  const before = new Set((await listDownloads(b)).map((d) => d.id));
  await action();
  return waitForDownloadEnd(b, (d) => !before.has(d.id), timeoutMs);
}

/** Every kind of Vidmux button host: the one over a video, and YouTube's (in its row of buttons). */
export const VIDMUX_BUTTONS = 'vidmux-download, vidmux-youtube-download';

/**
 * Clicks the n-th Vidmux button of a page with a real (trusted) mouse click. The button over a
 * video shows on hover, so the pointer goes there first; on YouTube it clicks "Download" (the left
 * part of the split button).
 */
export async function clickVidmuxButton(page: Page, index = 0): Promise<void> {
  const at = await pointAtVidmuxButton(page, index);
  await page.mouse.click(at.x, at.y);
}

/**
 * Moves the pointer onto the n-th Vidmux button until it shows (the button over a video shows on
 * hover), and returns where a click on it goes (on YouTube: "Download", the split button's left
 * part). For timing from the click itself, not from the hover before it (bench:browser).
 */
export async function pointAtVidmuxButton(page: Page, index = 0): Promise<{ x: number; y: number }> {
  const host = page.locator(VIDMUX_BUTTONS).nth(index);
  await host.waitFor({ state: 'visible', timeout: 15_000 });
  const box = await host.boundingBox();
  if (!box) throw new Error('The Vidmux button has no box');
  if ((await host.evaluate((el) => el.localName)) === 'vidmux-youtube-download') return { x: box.x + 24, y: box.y + box.height / 2 };
  const at = { x: box.x + box.width / 2, y: box.y + box.height / 2 };
  await page.mouse.move(at.x, at.y);
  await page.waitForFunction((el) => el?.getAttribute('data-shown') === 'true', await host.elementHandle(), { timeout: 5_000 });
  return at;
}

/** Clicks the arrow of the YouTube Download button (the right part), which opens the quick choices. */
export async function clickYouTubeMenuArrow(page: Page): Promise<void> {
  const host = page.locator('vidmux-youtube-download');
  await host.waitFor({ state: 'visible', timeout: 15_000 });
  const box = await host.boundingBox();
  if (!box) throw new Error('The Vidmux button has no box');
  await page.mouse.click(box.x + box.width - 18, box.y + box.height / 2);
}
