/**
 * Foundation end to end: the built extension in Chromium, the demo site, a real user click.
 */
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia, type DemoMedia } from '../fakes/demo-media';
import { startDemoSite, type DemoSite } from '../fakes/demo-site';
import { sha256File } from '../fixtures/ffmpeg';
import { clickVidmuxButton, downloadFrom, launchExtensionBrowser, listDownloads, tabIdOf, type ExtensionBrowser } from '../harness/extension-browser';

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');

let site: DemoSite;
let browser: ExtensionBrowser;
let sample: string;
let media: DemoMedia;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  media = await demoMedia();
  sample = media.sample;
  site = await startDemoSite(media.files);
  browser = await launchExtensionBrowser();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** Files in the extension's OPFS (the offscreen document's, same origin as any extension page). */
async function opfsFiles(): Promise<string[]> {
  const page = await browser.openExtensionPage('popup.html?tabId=999999');
  try {
    return await page.evaluate(async () => {
      const names: string[] = [];
      const root = await navigator.storage.getDirectory();
      for await (const name of (root as unknown as { keys(): AsyncIterable<string> }).keys()) names.push(name);
      return names;
    });
  } finally {
    await page.close();
  }
}

/** The tooltip of the Vidmux button (its closed shadow root is out of reach; the host mirrors it). */
async function buttonTitle(page: import('playwright-core').Page): Promise<string | null> {
  return page.locator('vidmux-download').getAttribute('title');
}

async function openDemo(path: string) {
  const page = await browser.context.newPage();
  await page.goto(site.url + path);
  return page;
}

// The page MP4's one click, the DASH pair and the popup's Download: test/e2e/scenarios/shared.ts (both browsers).
describe('one-click download of a page MP4', () => {
  it('saves from a <source> element, skipping a source that fails', async () => {
    const page = await openDemo('/watch/source.html');
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    const done = await downloadFrom(browser, () => clickVidmuxButton(page));
    expect(done.state, done.error).toBe('complete');
    expect(basename(done.filename)).toBe('Source element clip.mp4');
    expect(sha256File(done.filename)).toBe(sha256File(sample));
    await page.close();
  });

  it('puts a button on a video that a single-page app adds later', async () => {
    const page = await openDemo('/watch/spa.html');
    await page.waitForTimeout(500);
    expect(await page.locator('vidmux-download').count()).toBe(0);
    await page.click('#go');
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement | null)?.readyState! >= 1);
    const done = await downloadFrom(browser, () => clickVidmuxButton(page));
    expect(done.state, done.error).toBe('complete');
    expect(basename(done.filename)).toBe('Late video.mp4');
    await page.close();
  });
});

describe('failures', () => {
  it('a missing file fails with the reason on the button, saves nothing and leaves no OPFS file', async () => {
    const page = await openDemo('/watch/broken.html');
    const before = (await listDownloads(browser)).length;
    await clickVidmuxButton(page);
    const button = page.locator('vidmux-download');
    await expect.poll(() => button.getAttribute('data-state'), { timeout: 20_000 }).toBe('failed');
    expect(await buttonTitle(page)).toMatch(/not found|404/i);
    expect((await listDownloads(browser)).length).toBe(before);
    await expect.poll(() => opfsFiles(), { timeout: 10_000 }).toEqual([]);

    // The popup shows why, and Retry runs the same request again (failing again, the same way).
    const popup = await browser.openExtensionPage(`popup.html?tabId=${await tabIdOf(browser, page.url())}`);
    const jobs = popup.getByTestId('job-item');
    await expect.poll(() => jobs.count()).toBe(1);
    expect(await jobs.first().textContent()).toMatch(/Failed: .*(not found|404)/i);
    await jobs.first().getByRole('button', { name: /^Retry / }).click();
    await expect.poll(() => jobs.count()).toBe(2);
    await expect.poll(() => jobs.first().getAttribute('data-stage'), { timeout: 20_000 }).toBe('failed');

    // Finished downloads of other tabs show as history, and can be cleared.
    const other = await browser.openExtensionPage('popup.html?tabId=999998');
    const history = other.getByTestId('history-item');
    await expect.poll(() => history.count()).toBeGreaterThan(0);
    await other.getByRole('button', { name: 'Clear history' }).click();
    await expect.poll(() => history.count()).toBe(0);
    await other.close();
    await popup.close();
    await page.close();
  });
});

describe('pages without a saveable file', () => {
  it('gives a page with no video no button', async () => {
    const page = await openDemo('/novideo.html');
    await page.waitForFunction(() => document.body.textContent!.includes('Added later'));
    await page.waitForTimeout(800);
    expect(await page.locator('vidmux-download').count()).toBe(0);
    await page.close();
  });

  it('reports a MediaSource stream as "stream, not a file" and saves nothing', async () => {
    const before = (await listDownloads(browser)).length;
    const page = await openDemo('/watch/mse.html');
    await clickVidmuxButton(page);
    await expect.poll(() => page.locator('vidmux-download').getAttribute('data-state')).toBe('unsupported');
    await page.waitForTimeout(500);
    expect((await listDownloads(browser)).length).toBe(before);
    await page.close();
  });
});

describe('options', () => {
  it('validates and stores the filename template, and the next download uses it', async () => {
    const options = await browser.openExtensionPage('options.html');
    const input = options.getByLabel('Filename template');
    await expect.poll(() => input.inputValue()).toBe('{title}.{ext}');
    await input.fill('../{title}.{ext}');
    expect(await options.getByTestId('template-preview').textContent()).toMatch(/must not contain "\.\."/);
    expect(await options.getByRole('button', { name: 'Save settings' }).isDisabled()).toBe(true);
    await input.fill('Vidmux/{host} - {title}.{ext}');
    expect(await options.getByTestId('template-preview').textContent()).toContain('Vidmux/www.example.com - My trip - day 1-2.mp4');
    await options.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => options.getByTestId('settings-status').textContent()).toBe('Saved.');
    await options.screenshot({ path: `${SHOTS}/options.png` });

    const page = await openDemo('/watch/source.html');
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    const done = await downloadFrom(browser, () => clickVidmuxButton(page));
    expect(done.state, done.error).toBe('complete');
    expect(done.filename.endsWith('/Vidmux/127.0.0.1 - Source element clip.mp4')).toBe(true);

    // Back to the default for the other tests.
    await input.fill('{title}.{ext}');
    await options.getByRole('button', { name: 'Save settings' }).click();
    await options.close();
    await page.close();
  });
});
