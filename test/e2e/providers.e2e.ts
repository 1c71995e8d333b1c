/**
 * Providers end to end: the built extension in Chromium reaches the provider fakes at the
 * providers' real hostnames (https, test certificate pinned by its key), with the shipped default
 * base URLs. Keys are entered on the options page; a YouTube watch page (the fake YouTube) is
 * downloaded with one click.
 */
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RENDERIO_TEST_KEY, startRenderIoFake, type RenderIoFake } from '../fakes/renderio-server';
import { startTornadoFake, TORNADO_TEST_KEY, type TornadoFake } from '../fakes/tornado-server';
import { startVidPickrFake, VIDPICKR_TEST_KEY, type VidPickrFake } from '../fakes/vidpickr-server';
import { FAKE_VIDEOS, startFakeYouTube, type FakeYouTube } from '../fakes/youtube-site';
import { ffprobeJson, packetMd5s, sha256File } from '../fixtures/ffmpeg';
import { clickVidmuxButton, downloadFrom, launchExtensionBrowser, tabIdOf, type ExtensionBrowser } from '../harness/extension-browser';
import { chromiumFakeHostArgs, testTls } from '../harness/tls';

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');

let vidpickr: VidPickrFake;
let renderio: RenderIoFake;
let youtube: FakeYouTube;
let tornado: TornadoFake;
let browser: ExtensionBrowser;
const port = (url: string) => Number(new URL(url).port);

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const tls = testTls();
  vidpickr = await startVidPickrFake({ tls, hostname: 'api.vidpickr.com' });
  renderio = await startRenderIoFake({ tls, publicStorageOrigin: 'https://storage.renderio.dev' });
  youtube = await startFakeYouTube({ tls });
  tornado = await startTornadoFake({
    tls,
    realTime: true,
    s3PublicBaseUrl: 'https://files.tornadoapi.io',
    timings: { pendingMs: 300, downloadingMs: 300, muxingMs: 300, uploadingMs: 300, replicationLagMs: 0 },
  });
  browser = await launchExtensionBrowser({
    extraArgs: chromiumFakeHostArgs(
      {
        'api.vidpickr.com': port(vidpickr.url),
        'renderio.dev': port(renderio.baseUrl),
        'storage.renderio.dev': port(renderio.storageOrigin),
        'www.youtube.com': youtube.port,
        'api.tornadoapi.io': port(tornado.baseUrl),
        'files.tornadoapi.io': port(tornado.s3BaseUrl),
      },
      tls,
    ),
  });
});

afterAll(async () => {
  await browser?.close();
  await Promise.all([vidpickr?.close(), renderio?.close(), youtube?.close(), tornado?.close()]);
});

/** Enters a key on the options page and checks it is shown masked, then tests it. */
async function addKey(provider: 'vidpickr' | 'renderio' | 'tornado', key: string): Promise<Page> {
  const options = await browser.openExtensionPage('options.html');
  const card = options.getByTestId(`provider-${provider}`);
  await card.getByLabel(/API key/).fill(key);
  await card.getByRole('button', { name: 'Save' }).click();
  await expect.poll(() => card.getByTestId('masked-key').textContent()).toBe(`${key.slice(0, key.indexOf('_', 4) + 1)}...${key.slice(-4)}`);
  expect(await options.content()).not.toContain(key);
  await card.getByRole('button', { name: 'Test' }).click();
  await expect.poll(() => card.getByTestId('key-status').textContent(), { timeout: 20_000 }).toMatch(/^Works: /);
  return options;
}

async function openWatchPage(id: string): Promise<Page> {
  const page = await browser.context.newPage();
  await page.goto(`https://www.youtube.com/watch?v=${id}`);
  await page.locator('#movie_player video').waitFor();
  return page;
}

describe('YouTube through the providers, at their real hostnames', () => {
  /** The fake's source files for a height/codec and an audio codec of the documented video. */
  const sources = (videoId: string, height: number, vcodec: string, acodec: string) => {
    const fake = vidpickr.videos.get(videoId)!;
    const video = fake.resolutions.find((r) => r.height === height)!.variants.find((v) => v.vcodec.startsWith(vcodec))!;
    const audio = fake.audio.find((x) => x.acodec.startsWith(acodec))!;
    return { video, audio };
  };

  /** Moves a codec to the top of the options page's codec order (wherever it was). */
  async function rankFirst(options: Page, codec: string): Promise<void> {
    const up = options.getByRole('button', { name: `Prefer ${codec} more` });
    while (await up.isEnabled()) await up.click();
    await expect.poll(() => options.getByTestId('codec-item').first().textContent()).toContain(codec);
  }

  /** Saves the options page's settings and waits until they are stored. */
  async function saveSettings(options: Page): Promise<void> {
    await options.getByRole('button', { name: 'Save settings' }).click();
    await expect.poll(() => options.getByText('Saved.').count()).toBe(1);
  }

  /** Packets of the saved file equal the served tracks' (WebM or MP4), stream by stream. */
  async function expectPackets(file: string, src: { video: { file: string }; audio: { file: string } }): Promise<void> {
    expect(await packetMd5s(file, '0:v')).toEqual(await packetMd5s(src.video.file, '0:v'));
    expect(await packetMd5s(file, '0:a')).toEqual(await packetMd5s(src.audio.file, '0:a'));
  }

  it('with a VidPickr key and VidPickr answering as its documentation shows, one click saves 1080p VP9 + Opus (both served as WebM) in one MP4', async () => {
    const options = await addKey('vidpickr', VIDPICKR_TEST_KEY);
    await options.screenshot({ path: `${SHOTS}/options-keys.png`, fullPage: true });
    await options.close();

    const video = FAKE_VIDEOS[0]!;
    const page = await openWatchPage(video.id);
    const done = await downloadFrom(browser, () => clickVidmuxButton(page), 90_000);
    expect(done.state, done.error).toBe('complete');
    expect(basename(done.filename)).toBe('Fake Clip - Night Drive (4K).mp4');
    const probe = await ffprobeJson(done.filename);
    expect(probe.format.format_name).toContain('mp4');
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['vp9', 'opus']);
    expect(probe.streams[0].height).toBe(1080);
    // Packet for packet what the fake served: its 1080p VP9 WebM and its Opus WebM.
    const src = sources(video.id, 1080, 'vp09', 'opus');
    expect(src.video.ext).toBe('webm');
    expect(src.audio.ext).toBe('webm');
    await expectPackets(done.filename, src);
    // Every request that carried the key went to api.vidpickr.com.
    expect(vidpickr.requests.length).toBeGreaterThan(0);

    // The popup's format list says how each format is saved, in one line.
    const popup = await browser.openExtensionPage(`popup.html?tabId=${await tabIdOf(browser, page.url())}`);
    await popup.setViewportSize({ width: 410, height: 800 });
    const plans = popup.getByTestId('format-plan');
    await expect.poll(() => plans.allTextContents(), { timeout: 20_000 }).toContain('VP9 + Opus in MP4');
    const all = await plans.allTextContents();
    expect(all).toContain('AV1 + AAC in MP4');
    expect(all).toContain('H.264 + AAC in MP4');
    expect(all).toContain('AAC in M4A');
    await popup.screenshot({ path: `${SHOTS}/popup-picker-webm-sources.png`, fullPage: true });
    await popup.close();
    await page.close();
  });

  it('AV1 ranked first on the options page: one click saves 1080p AV1 + the AAC that comes with it, in MP4', async () => {
    const options = await browser.openExtensionPage('options.html');
    await rankFirst(options, 'AV1');
    await saveSettings(options);
    await options.close();
    const video = FAKE_VIDEOS[0]!;
    const page = await openWatchPage(video.id);
    const done = await downloadFrom(browser, () => clickVidmuxButton(page), 90_000);
    expect(done.state, done.error).toBe('complete');
    const probe = await ffprobeJson(done.filename);
    expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['av1', 'aac']);
    await expectPackets(done.filename, sources(video.id, 1080, 'av01', 'mp4a'));
    await page.close();
  });

  it('"WebM when the source is WebM" on the options page: one click saves the 1080p VP9 + Opus as a .webm, packets unchanged', async () => {
    const options = await browser.openExtensionPage('options.html');
    // Back to VP9 before AV1, then keep WebM.
    await rankFirst(options, 'VP9');
    await options.getByLabel('WebM when the source is WebM').check();
    await saveSettings(options);
    await options.close();
    const video = FAKE_VIDEOS[0]!;
    const page = await openWatchPage(video.id);
    try {
      const done = await downloadFrom(browser, () => clickVidmuxButton(page), 90_000);
      expect(done.state, done.error).toBe('complete');
      expect(basename(done.filename)).toBe('Fake Clip - Night Drive (4K).webm');
      const probe = await ffprobeJson(done.filename);
      expect(probe.format.format_name).toBe('matroska,webm');
      expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['vp9', 'opus']);
      await expectPackets(done.filename, sources(video.id, 1080, 'vp09', 'opus'));
    } finally {
      await page.close();
      // Back to the defaults for the tests after this one.
      const reset = await browser.openExtensionPage('options.html');
      await reset.getByLabel(/MP4 \(plays everywhere/).check();
      await rankFirst(reset, 'H.264 (AVC)');
      await saveSettings(reset);
      await reset.close();
    }
  });

  it('when VidPickr fails, RenderIO takes over, and the popup says so', async () => {
    (await addKey('renderio', RENDERIO_TEST_KEY)).close();
    vidpickr.fault('info', { kind: 'upstream_failed' }, 1000);
    try {
      const page = await openWatchPage(FAKE_VIDEOS[1]!.id);
      const done = await downloadFrom(browser, () => clickVidmuxButton(page), 120_000);
      expect(done.state, done.error).toBe('complete');
      expect(basename(done.filename)).toBe('Second Fake Clip - Sunrise.mp4');
      // The file RenderIO made for `best`: its tallest video.
      expect(sha256File(done.filename)).toBe(sha256File(renderio.media.videos[0]!.path));

      const popup = await browser.openExtensionPage(`popup.html?tabId=${await tabIdOf(browser, page.url())}`);
      await popup.setViewportSize({ width: 410, height: 600 });
      const note = popup.getByTestId('provider-note').first();
      await expect.poll(() => note.textContent(), { timeout: 10_000 }).toMatch(/Via RenderIO/);
      expect(await note.textContent()).toMatch(/VidPickr failed: .+/);
      await popup.screenshot({ path: `${SHOTS}/popup-fallback.png` });
      await popup.close();
      await page.close();
    } finally {
      vidpickr.clearFaults();
    }
  });

  it('Tornado with the user’s own bucket: a playlist becomes one queue entry per video, each stored in the bucket', async () => {
    const options = await addKey('tornado', TORNADO_TEST_KEY);
    // Only Tornado this time: remove the other keys.
    for (const p of ['vidpickr', 'renderio']) {
      const card = options.getByTestId(`provider-${p}`);
      await card.getByRole('button', { name: 'Remove' }).click();
      await expect.poll(() => card.getByTestId('masked-key').textContent()).toBe('not set');
    }
    const storage = options.getByTestId('tornado-storage');
    await storage.getByLabel('Endpoint URL').fill('https://s3.eu-west-1.amazonaws.com');
    await storage.getByLabel('Bucket').fill('my-videos');
    await storage.getByLabel('Region (auto for R2)').fill('eu-west-1');
    await storage.getByLabel('Access key').fill('AKIAEXAMPLEKEY12WXYZ');
    await storage.getByLabel('Secret key').fill('wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY');
    await storage.getByRole('button', { name: 'Save storage' }).click();
    await expect.poll(() => storage.getByTestId('storage-summary').textContent()).toMatch(/bucket "my-videos".*key \.\.\.WXYZ/);
    expect(await options.content()).not.toContain('wJalrXUtnFEMI');
    await options.close();

    const page = await browser.context.newPage();
    await page.goto('https://www.youtube.com/playlist?list=PLvidmux0001');
    await clickVidmuxButton(page);
    const popup = await browser.openExtensionPage(`popup.html?tabId=${await tabIdOf(browser, page.url())}`);
    const jobs = popup.getByTestId('job-item');
    await expect.poll(() => jobs.count(), { timeout: 20_000 }).toBe(3);
    await expect.poll(async () => (await jobs.evaluateAll((els) => els.map((e) => e.getAttribute('data-stage')))).join(','), { timeout: 60_000 }).toBe('done,done,done');
    expect(await popup.textContent('body')).toMatch(/Stored in your bucket: s3:\/\/my-videos\//);
    expect(tornado.uploads.filter((u) => u.bucket === 'my-videos')).toHaveLength(3);
    await popup.screenshot({ path: `${SHOTS}/popup-tornado-bucket.png` });
    await popup.close();
    await page.close();
  });
});
