/**
 * Lifecycles the extension does not choose:
 * - Chrome's engine (the offscreen document) goes mid-download: its jobs fail at once, saying so,
 *   and leave no file in OPFS, also when Chrome had stopped the service worker meanwhile.
 * - The content script's features end with it: when the extension is reloaded (an update), the
 *   script left on an open page stops (WXT's content-script context notices), so its buttons go and
 *   nothing it set up keeps running or answering the page.
 */
import type { Locator } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia } from '../fakes/demo-media';
import { startDemoSite, type DemoSite } from '../fakes/demo-site';
import { startMediaServer, type MediaServer } from '../fakes/media-server';
import { clickVidmuxButton, launchExtensionBrowser, tabIdOf, type ExtensionBrowser } from '../harness/extension-browser';

let site: DemoSite;
let slow: MediaServer;
let browser: ExtensionBrowser;

beforeAll(async () => {
  const media = await demoMedia();
  site = await startDemoSite(media.files);
  // 1 MB at 25 kB/s per connection: the download takes seconds, long enough to pull the plug.
  slow = await startMediaServer({ bytesPerSecond: 25_000 });
  await slow.addFile('sample.mp4', { path: media.sample });
  browser = await launchExtensionBrowser();
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
  await slow?.close();
});

/** The job files in the extension's OPFS (the offscreen document's, same origin as any extension page). */
async function opfsJobFiles(): Promise<string[]> {
  const page = await browser.openExtensionPage('popup.html?tabId=999999');
  try {
    return await page.evaluate(async () => {
      const names: string[] = [];
      const root = await navigator.storage.getDirectory();
      for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) if (name.startsWith('vidmux-job-')) names.push(name);
      return names;
    });
  } finally {
    await page.close();
  }
}

/** Starts the download of a slow page's video; returns once its job is downloading, with a file in OPFS. */
async function startSlowDownload() {
  const page = await browser.context.newPage();
  const url = `${slow.origin}/watch/slow.html`;
  await page.route(url, (route) => route.fulfill({ contentType: 'text/html', body: `<!doctype html><title>Slow clip</title><video src="/files/sample.mp4" preload="metadata" controls></video>` }));
  await page.goto(url);
  await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
  const popup = await browser.openExtensionPage(`popup.html?tabId=${await tabIdOf(browser, url)}`);
  const job = popup.getByTestId('job-item').first();
  await clickVidmuxButton(page);
  await expect.poll(() => job.getAttribute('data-stage'), { timeout: 15_000 }).toBe('downloading');
  await expect.poll(() => opfsJobFiles()).not.toEqual([]);
  return { page, popup, job };
}

/** What a crash or Chrome's own closing does to the engine: its document goes, with no word to anyone. */
async function closeEngine(): Promise<number> {
  const worker = browser.context.serviceWorkers()[0] ?? browser.worker;
  await worker.evaluate(() => (globalThis as unknown as { chrome: { offscreen: { closeDocument(): Promise<void> } } }).chrome.offscreen.closeDocument());
  return Date.now();
}

/** Within 5 s of the close: the job failed saying why, and no job file is left in OPFS. */
async function expectFailedAndClean(job: Locator, closed: number): Promise<void> {
  await expect.poll(() => job.getAttribute('data-stage'), { timeout: 5_000 }).toBe('failed');
  expect(await job.textContent()).toMatch(/Failed: The download engine stopped \(its page was closed or crashed\) at \d+%; nothing was saved\. Retry to start again\./);
  await expect.poll(() => opfsJobFiles(), { timeout: Math.max(500, 5_000 - (Date.now() - closed)) }).toEqual([]);
}

// First: the update test below reloads the extension.
describe('when the engine’s document goes mid-download', () => {
  it('the job fails at once with the reason, nothing stays in OPFS, and Retry starts again', async () => {
    const { page, popup, job } = await startSlowDownload();
    await expectFailedAndClean(job, await closeEngine());

    // The next job gets a new engine.
    await job.getByRole('button', { name: /^Retry / }).click();
    await expect.poll(() => popup.getByTestId('job-item').count()).toBe(2);
    await expect.poll(() => job.getAttribute('data-stage'), { timeout: 15_000 }).toBe('downloading');
    await job.getByRole('button', { name: /^Cancel / }).click();
    await expect.poll(() => job.getAttribute('data-stage')).toBe('cancelled');
    await expect.poll(() => opfsJobFiles(), { timeout: 10_000 }).toEqual([]);
    await popup.close();
    await page.close();
  });

  it('also after Chrome stopped the service worker mid-download: the engine connects to the next one', async () => {
    const { page, popup, job } = await startSlowDownload();
    // Chrome stops an idle worker, which ends the engine's port; the engine connects again, which
    // starts the next worker, and that one watches the engine.
    const cdp = await browser.context.newCDPSession(popup);
    const seen: Array<{ versionId: string; runningStatus: string }> = [];
    cdp.on('ServiceWorker.workerVersionUpdated', (e) => void seen.push(...e.versions));
    await cdp.send('ServiceWorker.enable');
    await expect.poll(() => seen.find((v) => v.runningStatus === 'running')).toBeTruthy();
    await cdp.send('ServiceWorker.stopWorker', { versionId: seen.find((v) => v.runningStatus === 'running')!.versionId });
    await expect.poll(() => seen.map((v) => v.runningStatus).join(' ')).toMatch(/stopped.* running$/);
    await cdp.detach();
    await expectFailedAndClean(job, await closeEngine());
    await popup.close();
    await page.close();
  });
});

describe('after an extension update', () => {
  it('the script left on an open page tears its features down: no button, no watching', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/watch/plain.html`);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    await expect.poll(() => page.locator('vidmux-download').count()).toBe(1);

    // What an update does to a running extension: it goes away under the page's feet. Chrome does
    // not inject the new content script into pages already open.
    await browser.worker.evaluate(() => (globalThis as unknown as { chrome: { runtime: { reload(): void } } }).chrome.runtime.reload()).catch(() => undefined);

    // The old script notices within its next tick (about a second) and removes what it made.
    await expect.poll(() => page.locator('vidmux-download').count(), { timeout: 10_000 }).toBe(0);
    // And watches nothing any more: a video added now gets no button.
    await page.evaluate(() => {
      const v = document.createElement('video');
      v.src = '/media/sample.mp4';
      document.body.append(v);
    });
    await page.waitForTimeout(1500);
    expect(await page.locator('vidmux-download').count()).toBe(0);
    await page.close();
  });
});
