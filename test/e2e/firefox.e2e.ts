/**
 * The built Firefox extension in Firefox ESR (Debian's package), headless: the recipe of
 * test/harness/firefox-browser.ts (puppeteer-core over WebDriver BiDi for web pages with real
 * mouse input; Firefox's devtools protocol for the extension's own pages). First scenarios: the
 * page MP4 one click, the popup listing the video and saving it, a DASH player's tracks muxed in
 * the background page (Firefox's engine: no offscreen document), the options page. Skipped where
 * Firefox ESR is not installed (`.ci/run` does not install it yet: issue 14); run `npm run
 * build:firefox` first.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia } from '../fakes/demo-media';
import { startDemoSite, type DemoSite } from '../fakes/demo-site';
import { ffmpeg } from '../fixtures/ffmpeg';
import { clickVidmuxButton, downloadFrom, FIREFOX, launchFirefoxExtensionBrowser, tabIdOf, type FirefoxExtensionBrowser } from '../harness/firefox-browser';

const sha256 = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
let site: DemoSite;
let sample: string;
let dash: { video: string; audio: string };
let browser: FirefoxExtensionBrowser;

describe.skipIf(!existsSync(FIREFOX))('Firefox ESR: the built extension', () => {
  beforeAll(async () => {
    const media = await demoMedia();
    sample = media.sample;
    dash = media.dash;
    site = await startDemoSite(media.files);
    browser = await launchFirefoxExtensionBrowser();
  });
  afterAll(async () => {
    await browser?.close();
    await site?.close();
  });

  it('holds its host permissions (granted at install) and runs its background page', async () => {
    expect(await browser.background(`browser.permissions.contains({ origins: ['<all_urls>'] })`)).toBe(true);
  });

  it('one click on the button over a page video saves it byte for byte under its clean name', async () => {
    const page = await browser.newPage();
    await page.goto(`${site.url}/watch/plain.html`);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    await page.waitForSelector('vidmux-download', { timeout: 10_000 });
    const done = await downloadFrom(browser, () => clickVidmuxButton(page));
    expect(done.state).toBe('complete');
    expect(done.filename.startsWith(`${browser.downloadDir}/`)).toBe(true);
    expect(done.filename).toMatch(/Sample clip - 'demo' 1-2 - Vidmux( ?\(\d+\))?\.mp4$/);
    expect(sha256(done.filename)).toBe(sha256(sample));
    await page.waitForFunction(() => document.querySelector('vidmux-download')?.getAttribute('data-state') === 'done', { timeout: 10_000 });

    // The popup lists the video and saves it too.
    const popup = await browser.openExtensionPage(`popup.html?tabId=${await tabIdOf(browser, page.url())}`);
    await new Promise((r) => setTimeout(r, 500));
    expect(await popup.evaluate<string>('document.body.innerText')).toMatch(/sample\.mp4/);
    const again = await downloadFrom(browser, () =>
      popup.evaluate(`(() => { const item = document.querySelector('[data-testid=media-item]'); const b = [...item.querySelectorAll('button')].find((x) => /download/i.test(x.textContent)); b.click(); return true; })()`),
    );
    expect(again.state).toBe('complete');
    expect(sha256(again.filename)).toBe(sha256(sample));
    await popup.close();
    await page.close();
  });

  it('a DASH player’s separate tracks: one MP4, packet for packet, muxed in Firefox’s background page', async () => {
    const page = await browser.newPage();
    await page.goto(`${site.url}/watch/dash.html`);
    await page.waitForSelector('vidmux-download', { timeout: 15_000 });
    await new Promise((r) => setTimeout(r, 1000)); // the player's manifest request is seen
    const done = await downloadFrom(browser, () => clickVidmuxButton(page), 60_000);
    expect(done.state).toBe('complete');
    expect(done.filename).toMatch(/DASH demo - separate tracks( ?\(\d+\))?\.mp4$/);
    const md5s = async (file: string, map: string) =>
      (await ffmpeg(['-i', file, '-map', map, '-c', 'copy', '-f', 'framemd5', '-'])).split('\n').filter((l) => l && !l.startsWith('#')).map((l) => l.split(',')[5]!.trim());
    expect(await md5s(done.filename, '0:v')).toEqual(await md5s(dash.video, '0:v'));
    expect(await md5s(done.filename, '0:a')).toEqual(await md5s(dash.audio, '0:a'));
    await page.close();
  });

  it('the options page shows the settings', async () => {
    const options = await browser.openExtensionPage('options.html');
    await new Promise((r) => setTimeout(r, 500));
    expect(await options.evaluate(`[...document.querySelectorAll('label')].find((l) => l.textContent.includes('Filename template'))?.control?.value ?? null`)).toBe('{title}.{ext}');
    await options.close();
  });
});
