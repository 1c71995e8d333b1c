/**
 * The content script's features end with it: when the extension is reloaded (an update), the
 * script left on an open page stops (WXT's content-script context notices), so its buttons go and
 * nothing it set up keeps running or answering the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia } from '../fakes/demo-media';
import { startDemoSite, type DemoSite } from '../fakes/demo-site';
import { launchExtensionBrowser, type ExtensionBrowser } from '../harness/extension-browser';

let site: DemoSite;
let browser: ExtensionBrowser;

beforeAll(async () => {
  site = await startDemoSite((await demoMedia()).files);
  browser = await launchExtensionBrowser();
});
afterAll(async () => {
  await browser?.close();
  await site?.close();
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
