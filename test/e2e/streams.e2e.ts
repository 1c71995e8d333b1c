/**
 * Streams end to end: the built extension in Chromium on demo pages that play HLS and DASH through
 * real players (hls.js, dash.js, Shaka) from MediaSource (`blob:`). The button appears, one click
 * saves ONE MP4, checked by decoding against `ffmpeg -c copy` of the same rendition; a live stream
 * is recorded and stopped into a playable file; a protected stream is refused clearly.
 */
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Frame, Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDemoSite, type DemoSite } from '../fakes/demo-site';
import { ffprobeJson } from '../fixtures/ffmpeg';
import { decodedMd5s, hlsByteRange, hlsFmp4WithAudio, hlsTs, hlsTsAes, dashNumber, dashSegmentList, dashTime, referenceMd5s, type StreamFixture } from '../fixtures/streams';
import { clickVidmuxButton, downloadFrom, launchExtensionBrowser, tabIdOf, type ExtensionBrowser } from '../harness/extension-browser';

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');

let site: DemoSite;
let browser: ExtensionBrowser;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  site = await startDemoSite({});
  browser = await launchExtensionBrowser();
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
});

/** Opens a player page and waits until it plays from a MediaSource (`blob:`). */
async function openPlaying(path: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(site.url + path);
  await waitPlaying(page.mainFrame());
  return page;
}

async function waitPlaying(frame: Frame): Promise<void> {
  await frame.waitForFunction(
    () => {
      const v = document.querySelector('video');
      return !!v && v.currentSrc.startsWith('blob:') && v.currentTime > 0.5;
    },
    undefined,
    { timeout: 30_000 },
  );
}

async function expectRendition(file: string, f: StreamFixture, rendition: string): Promise<void> {
  const probe = await ffprobeJson(file);
  expect(probe.format.format_name).toContain('mp4');
  expect(probe.streams.map((s: { codec_type: string; codec_name: string }) => `${s.codec_type}:${s.codec_name}`).sort()).toEqual(['audio:aac', 'video:h264']);
  expect(await decodedMd5s(file, '0:v')).toEqual(await referenceMd5s(f, rendition, 'video'));
  expect(await decodedMd5s(file, '0:a')).toEqual(await referenceMd5s(f, rendition, 'audio'));
}

const CASES: Array<{ name: string; path: string; fixture: () => Promise<StreamFixture>; rendition: string; title: string }> = [
  { name: 'HLS MPEG-TS (hls.js)', path: '/watch/hls-ts.html', fixture: hlsTs, rendition: '360p', title: 'HLS - MPEG-TS, two variants.mp4' },
  { name: 'HLS MPEG-TS with AES-128 and key rotation (hls.js)', path: '/watch/hls-aes.html', fixture: hlsTsAes, rendition: 'rotate', title: 'HLS - AES-128, rotating keys.mp4' },
  { name: 'HLS fMP4 with a separate audio rendition (hls.js)', path: '/watch/hls-fmp4.html', fixture: hlsFmp4WithAudio, rendition: '360p-en', title: 'HLS - fMP4 with separate audio.mp4' },
  { name: 'HLS byte ranges (hls.js)', path: '/watch/hls-byterange.html', fixture: hlsByteRange, rendition: '360p', title: 'HLS - byte ranges of one file.mp4' },
  { name: 'DASH $Number$ (dash.js)', path: '/watch/dash-number.html', fixture: dashNumber, rendition: '360p', title: 'DASH - $Number$ template.mp4' },
  { name: 'DASH $Time$ (Shaka Player)', path: '/watch/dash-time.html', fixture: dashTime, rendition: '360p', title: 'DASH - $Time$ timeline.mp4' },
  { name: 'DASH SegmentList (dash.js)', path: '/watch/dash-list.html', fixture: dashSegmentList, rendition: '360p', title: 'DASH - SegmentList.mp4' },
];

describe('one click on a MediaSource player saves one MP4', () => {
  for (const c of CASES) {
    it(c.name, async () => {
      const page = await openPlaying(c.path);
      const done = await downloadFrom(browser, () => clickVidmuxButton(page));
      expect(done.state, done.error).toBe('complete');
      expect(basename(done.filename)).toBe(c.title);
      await expectRendition(done.filename, await c.fixture(), c.rendition);
      await expect.poll(() => page.locator('vidmux-download').getAttribute('data-state')).toBe('done');
      await page.close();
    });
  }

  it('a player inside an iframe: its own button, its own stream', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/watch/iframe-hls.html`);
    const frame = page.frames().find((f) => f !== page.mainFrame())!;
    await waitPlaying(frame);
    const host = frame.locator('vidmux-download');
    const done = await downloadFrom(browser, () => clickInFrame(page, host));
    expect(done.state, done.error).toBe('complete');
    await expectRendition(done.filename, await hlsTs(), '360p');
    await page.close();
  });
});

/** A trusted click on a button inside a frame (the pointer goes there first; it shows on hover). */
async function clickInFrame(page: Page, host: Locator): Promise<void> {
  await host.waitFor({ state: 'visible', timeout: 15_000 });
  const box = (await host.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
  await expect.poll(() => host.getAttribute('data-shown')).toBe('true');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}

describe('detection', () => {
  it('a manifest only a worker fetched (the page never sees its request) is known from the browser’s view (webRequest)', async () => {
    const page = await browser.context.newPage();
    const manifest = `${site.url}/streams/dash-number/manifest.mpd`;
    // A player whose manifest is fetched by a worker: the page's resource timing never lists it.
    const html = `<!doctype html><title>Worker player</title><video style="width:640px;height:360px;background:#000"></video><script>
      const v = document.querySelector('video');
      const ms = new MediaSource();
      v.src = URL.createObjectURL(ms);
      const code = "fetch(" + JSON.stringify(${JSON.stringify(manifest)}) + ").then((r) => r.text()).then((t) => postMessage(t.length))";
      new Worker(URL.createObjectURL(new Blob([code], { type: 'text/javascript' }))).onmessage = (e) => (document.body.dataset.fetched = String(e.data));
    </script>`;
    await page.route(`${site.url}/watch/worker-player.html`, (route) => route.fulfill({ contentType: 'text/html', body: html }));
    await page.goto(`${site.url}/watch/worker-player.html`);
    await page.waitForFunction(() => !!document.body.dataset.fetched);
    expect(await page.evaluate(() => performance.getEntriesByType('resource').some((e) => e.name.endsWith('.mpd')))).toBe(false);
    const done = await downloadFrom(browser, () => clickVidmuxButton(page));
    expect(done.state, done.error).toBe('complete');
    await expectRendition(done.filename, await dashNumber(), '360p');
    await page.close();
  });
});

describe('the popup lists a stream’s renditions', () => {
  it('resolution, bitrate, codecs and audio languages; a picked one is saved', async () => {
    const page = await openPlaying('/watch/hls-fmp4.html');
    const tabId = await tabIdOf(browser, page.url());
    const popup = await browser.openExtensionPage(`popup.html?tabId=${tabId}`);
    const item = popup.getByTestId('media-item').first();
    await expect.poll(() => item.getAttribute('data-kind')).toBe('manifest');
    await popup.getByRole('button', { name: /Choose a rendition/ }).click();
    const options = popup.getByTestId('format-option');
    await expect.poll(() => options.count()).toBe(6);
    const labels = await options.allInnerTexts();
    expect(labels.join('\n')).toMatch(/360p · H\.264 · MP4 · \d+ kbps · English \(en\)/);
    expect(labels.join('\n')).toMatch(/180p · H\.264 · MP4 · \d+ kbps · Français \(fr\)/);
    await popup.screenshot({ path: `${SHOTS}/popup-renditions.png` });
    await popup.getByRole('radio', { name: /180p .*Français/ }).check();
    // A slow server, so the queue is seen at work: a stream's size is known only at its end, so it
    // counts segments.
    const slow = site.streams.fault({ path: /\.m4s$/, bytesPerSecond: 60_000 });
    const done = await downloadFrom(browser, async () => {
      await popup.getByRole('button', { name: /^Download$/ }).last().click();
      await expect.poll(() => popup.getByTestId('job-item').first().innerText(), { timeout: 20_000 }).toMatch(/\d+ of \d+ segments/);
      await popup.screenshot({ path: `${SHOTS}/popup-stream-queue.png` });
      slow.remove();
    });
    expect(done.state, done.error).toBe('complete');
    await expectRendition(done.filename, await hlsFmp4WithAudio(), '180p-fr');
    await popup.close();
    await page.close();
  });
});

describe('live', () => {
  it('Record on a live stream, then Stop: a playable MP4 of what was recorded', async () => {
    const page = await openPlaying('/watch/hls-live.html');
    const host = page.locator('vidmux-download');
    // hls.js gives a live stream a finite duration that grows at each reload: the button says Record.
    await expect.poll(() => host.getAttribute('data-label'), { timeout: 15_000 }).toBe('Record');
    const recorded = downloadFrom(browser, async () => {
      await clickVidmuxButton(page);
      await expect.poll(() => host.getAttribute('title'), { timeout: 20_000 }).toMatch(/Recording the live stream/);
      await page.waitForTimeout(4000);
      await page.screenshot({ path: `${SHOTS}/recording.png` });
      await clickVidmuxButton(page); // Stop
    });
    const done = await recorded;
    expect(done.state, done.error).toBe('complete');
    const probe = await ffprobeJson(done.filename);
    expect(probe.streams.map((s: { codec_type: string }) => s.codec_type).sort()).toEqual(['audio', 'video']);
    expect(Number(probe.format.duration)).toBeGreaterThan(2);
    expect(Number(probe.format.duration)).toBeLessThan(15);
    // Every frame decodes.
    expect((await decodedMd5s(done.filename, '0:v')).length).toBeGreaterThan(30);
    await page.close();
  });
});

describe('refusals', () => {
  it('a protected stream is refused as protected, and nothing is saved', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${site.url}/watch/protected.html`);
    await page.waitForFunction(() => !!document.querySelector('video'));
    await page.waitForTimeout(1500); // the player has asked for its manifest
    await clickVidmuxButton(page);
    const host = page.locator('vidmux-download');
    await expect.poll(() => host.getAttribute('data-state'), { timeout: 20_000 }).toMatch(/failed|unsupported/);
    expect(await host.getAttribute('title')).toMatch(/protected/i);
    await page.close();
  });
});
