/**
 * The e2e scenarios that behave the same in Chrome and Firefox, written once against the driver
 * of ./driver.ts and run by a thin file per browser (test/e2e/shared.chromium.e2e.ts,
 * shared.firefox.e2e.ts). Each scenario is what a user does: a click on the button, the popup,
 * the options page, a provider at its real hostname (the local fake, https, test certificate).
 * Screenshots land in test-results/screenshots/<browser>/.
 */
import { mkdirSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia, type DemoMedia } from '../../fakes/demo-media';
import { startDemoSite, type DemoSite } from '../../fakes/demo-site';
import { startVidPickrFake, VIDPICKR_TEST_KEY, type VidPickrFake } from '../../fakes/vidpickr-server';
import { FAKE_VIDEOS, startFakeYouTube, type FakeYouTube } from '../../fakes/youtube-site';
import { ffprobeJson, packetMd5s, sha256File } from '../../fixtures/ffmpeg';
import { testTls, type TestTls } from '../../harness/tls';
import { until, type BrowserDriver, type BrowserName, type ExtensionPageDriver } from './driver';


export interface SharedScenarioOptions {
  /** Starts the browser with the built extension; `hosts` (name -> local https port) are the fakes. */
  launch(fakes: { hosts: Record<string, number>; tls: TestTls }): Promise<BrowserDriver>;
  /** Whether the browser lets an extension give up its host permissions (Firefox: optional in MV3; Chrome: required ones cannot be removed). */
  canWithdrawSiteAccess: boolean;
}

/** Registers the shared scenarios for one browser. */
export function sharedScenarios(name: BrowserName, opts: SharedScenarioOptions): void {
  const shots = resolve(import.meta.dirname, `../../../test-results/screenshots/${name}`);
  let media: DemoMedia;
  let site: DemoSite;
  let vidpickr: VidPickrFake;
  let youtube: FakeYouTube;
  let b: BrowserDriver;

  beforeAll(async () => {
    mkdirSync(shots, { recursive: true });
    media = await demoMedia();
    site = await startDemoSite(media.files);
    const tls = testTls();
    vidpickr = await startVidPickrFake({ tls, hostname: 'api.vidpickr.com' });
    youtube = await startFakeYouTube({ tls });
    b = await opts.launch({ tls, hosts: { 'api.vidpickr.com': Number(new URL(vidpickr.url).port), 'www.youtube.com': youtube.port } });
  });
  afterAll(async () => {
    await b?.close();
    await Promise.all([site?.close(), vidpickr?.close(), youtube?.close()]);
  });

  /** Names in the extension's OPFS (the engine's working files; empty once every job ended). */
  async function opfsNames(): Promise<string[]> {
    const page = await b.openExtensionPage('popup.html?tabId=999999');
    try {
      return await page.evaluate<string[]>(`(async () => { const n = []; for await (const k of (await navigator.storage.getDirectory()).keys()) n.push(k); return n; })()`);
    } finally {
      await page.close();
    }
  }

  async function openPopupFor(url: string): Promise<ExtensionPageDriver> {
    return b.openExtensionPage(`popup.html?tabId=${await b.tabIdOf(url)}`);
  }

  describe(`${name}: the page's own media`, () => {
    it('one click on the button over a page MP4 saves it byte for byte under its clean name; the button says done; a notification tells', async () => {
      const page = await b.openSite(`${site.url}/watch/plain.html`);
      await page.waitFor(`document.querySelector('video')?.readyState >= 1 && !!document.querySelector('vidmux-download')`);
      await page.screenshotButton(`${shots}/button.png`);
      const done = await b.downloadFrom(() => page.clickVidmuxButton());
      expect(done.state, done.error).toBe('complete');
      expect(done.filename.startsWith(b.downloadDir)).toBe(true);
      // Title 'Sample clip: "demo" <1/2> | Vidmux': no separators, quotes or angle brackets survive.
      expect(basename(done.filename)).toMatch(/^Sample clip - 'demo' 1-2 - Vidmux( ?\(\d+\))?\.mp4$/);
      expect(sha256File(done.filename)).toBe(sha256File(media.sample));
      expect((await until(() => page.button(), (s) => s.state === 'done', 'the button to say done')).title).toContain('.mp4');
      // The browser's own notification for the finished download.
      await until(() => b.background<string[]>(`chrome.notifications.getAll().then((all) => Object.keys(all))`), (ids) => ids.some((id) => id.startsWith('vidmux-')), 'a Vidmux notification');
      await page.close();
    });

    it('the popup lists the page’s video with its size, and its Download saves it', async () => {
      const page = await b.openSite(`${site.url}/watch/plain.html`);
      await page.waitFor(`document.querySelector('video')?.readyState >= 1`);
      const popup = await openPopupFor(page.url());
      await until(() => popup.count('[data-testid=media-item]'), (n) => n === 1, 'the popup to list the video');
      expect(await popup.attribute('[data-testid=media-item]', 'data-kind')).toBe('file');
      expect(await popup.text('[data-testid=media-item]')).toMatch(/sample\.mp4[\s\S]*640×360/);
      await popup.screenshot(`${shots}/popup.png`, 410);
      const done = await b.downloadFrom(() => popup.clickButton(/download/i, '[data-testid=media-item]'));
      expect(done.state, done.error).toBe('complete');
      expect(sha256File(done.filename)).toBe(sha256File(media.sample));
      await until(() => popup.attribute('[data-testid=job-item]', 'data-stage'), (s) => s === 'done', 'the popup to show the job done');
      expect(await popup.text('[data-testid=job-item]')).toContain('Saved');
      await popup.screenshot(`${shots}/popup-done.png`, 410);
      await popup.close();
      await page.close();
    });

    it('a DASH player’s separate tracks: one MP4, packet for packet, and nothing left in the extension’s storage', async () => {
      const page = await b.openSite(`${site.url}/watch/dash.html`);
      await page.waitFor(`document.getElementById('status')?.textContent?.startsWith('Playing')`, 20_000);
      const done = await b.downloadFrom(() => page.clickVidmuxButton(), 60_000);
      expect(done.state, done.error).toBe('complete');
      expect(basename(done.filename)).toMatch(/^DASH demo - separate tracks( ?\(\d+\))?\.mp4$/);
      const probe = await ffprobeJson(done.filename);
      expect(probe.streams.map((s: { codec_type: string; codec_name: string }) => `${s.codec_type}:${s.codec_name}`)).toEqual(['video:h264', 'audio:aac']);
      expect(await packetMd5s(done.filename, '0:v')).toEqual(await packetMd5s(media.dash.video, '0:v'));
      expect(await packetMd5s(done.filename, '0:a')).toEqual(await packetMd5s(media.dash.audio, '0:a'));
      await until(() => page.button(), (s) => s.state === 'done', 'the button to say done');
      await until(opfsNames, (names) => names.length === 0, 'OPFS to be empty', 10_000);
      await page.close();
    });

    it('a file that is missing fails with the reason on the button and in the popup, and saves nothing', async () => {
      const page = await b.openSite(`${site.url}/watch/broken.html`);
      const before = (await b.listDownloads()).length;
      await page.clickVidmuxButton();
      const failed = await until(() => page.button(), (s) => s.state === 'failed', 'the button to say failed', 20_000);
      expect(failed.title).toMatch(/not found|404/i);
      const popup = await openPopupFor(page.url());
      await until(() => popup.text('[data-testid=job-item]'), (t) => /Failed: .*(not found|404)/i.test(t ?? ''), 'the popup to say why');
      expect(await popup.attribute('[data-testid=job-item]', 'data-stage')).toBe('failed');
      expect((await b.listDownloads()).length).toBe(before);
      await until(opfsNames, (names) => names.length === 0, 'OPFS to be empty', 10_000);
      await popup.close();
      await page.close();
    });
  });

  describe(`${name}: keys and a provider at its real hostname`, () => {
    it('options: a key is saved (shown masked), tested, refused clearly when revoked, removed', async () => {
      const options = await b.openExtensionPage('options.html');
      const card = '[data-testid=provider-vidpickr]';
      const input = `${card} input[type=password]`;
      await options.fill(input, 'vpk_live_this_key_is_revoked_0000');
      await options.clickButton('Save', card);
      await until(() => options.text(`${card} [data-testid=masked-key]`), (t) => t === 'vpk_live_...0000', 'the key masked');
      await options.clickButton('Test', card);
      const bad = await until(() => options.text(`${card} [data-testid=key-status]`), (t) => !!t && !/Testing/.test(t), 'the test result', 20_000);
      expect(bad).toMatch(/invalid|not valid|refused|unknown/i);
      expect(await options.attribute(`${card} [data-testid=key-status]`, 'class')).toContain('bad');
      await options.clickButton('Remove', card);
      await until(() => options.text(`${card} [data-testid=masked-key]`), (t) => t === 'not set', 'the key removed');

      await options.fill(input, VIDPICKR_TEST_KEY);
      await options.clickButton('Save', card);
      await until(() => options.text(`${card} [data-testid=masked-key]`), (t) => t === `vpk_live_...${VIDPICKR_TEST_KEY.slice(-4)}`, 'the key masked');
      await options.clickButton('Test', card);
      await until(() => options.text(`${card} [data-testid=key-status]`), (t) => /^Works: /.test(t ?? ''), 'the key to work', 20_000);
      expect(await options.evaluate<string>('document.documentElement.outerHTML')).not.toContain(VIDPICKR_TEST_KEY);
      await options.screenshot(`${shots}/options.png`);
      await options.close();
    });

    it('VidPickr (the fake at api.vidpickr.com): the popup picker lists its formats with how each is saved; 720p picked there is saved; one click saves 1080p VP9 + Opus in one MP4, packet for packet', async () => {
      const video = FAKE_VIDEOS[0]!;
      const page = await b.openSite(`https://www.youtube.com/watch?v=${video.id}`);
      await page.waitFor(`!!document.querySelector('#movie_player video')`);
      const popup = await openPopupFor(page.url());
      const plans = () => popup.evaluate<string[]>(`[...document.querySelectorAll('[data-testid=format-plan]')].map((e) => e.textContent)`);
      const all = await until(plans, (p) => p.includes('VP9 + Opus in MP4'), 'the picker to list VidPickr’s formats', 20_000);
      expect(all).toEqual(expect.arrayContaining(['AV1 + AAC in MP4', 'H.264 + AAC in MP4', 'AAC in M4A']));
      await popup.screenshot(`${shots}/popup-picker.png`, 420);
      const picked = await b.downloadFrom(
        () => popup.evaluate(`(() => { const o = [...document.querySelectorAll('[data-testid=format-option]')].find((e) => /^720p · H\\.264/.test(e.textContent)); o.querySelector('input').click(); return true; })()`).then(() => popup.clickButton('Download', '[data-testid=format-picker]')),
        90_000,
      );
      expect(picked.state, picked.error).toBe('complete');
      const probe720 = await ffprobeJson(picked.filename);
      expect(probe720.streams.map((s: { codec_type: string }) => s.codec_type)).toEqual(['video', 'audio']);
      expect(probe720.streams[0].height).toBe(720);
      await popup.close();

      const done = await b.downloadFrom(() => page.clickVidmuxButton(), 90_000);
      expect(done.state, done.error).toBe('complete');
      expect(basename(done.filename)).toMatch(/^Fake Clip - Night Drive \(4K\)( ?\(\d+\))?\.mp4$/);
      const probe = await ffprobeJson(done.filename);
      expect(probe.streams.map((s: { codec_name: string }) => s.codec_name)).toEqual(['vp9', 'opus']);
      expect(probe.streams[0].height).toBe(1080);
      const fake = vidpickr.videos.get(video.id)!;
      const source = fake.resolutions.find((r) => r.height === 1080)!.variants.find((v) => v.vcodec.startsWith('vp09'))!;
      const audio = fake.audio.find((a) => a.acodec.startsWith('opus'))!;
      expect(await packetMd5s(done.filename, '0:v')).toEqual(await packetMd5s(source.file, '0:v'));
      expect(await packetMd5s(done.filename, '0:a')).toEqual(await packetMd5s(audio.file, '0:a'));
      // The key went to VidPickr's host only: every request the fake saw carried it.
      expect(vidpickr.requests.length).toBeGreaterThan(0);
      await page.close();
    });
  });

  describe.skipIf(!opts.canWithdrawSiteAccess)(`${name}: site access withheld`, () => {
    it('the options page and the popup say why Vidmux needs it and ask; once allowed, the page’s videos show again', async () => {
      const page = await b.openSite(`${site.url}/watch/plain.html`);
      const tabId = await b.tabIdOf(page.url());
      await b.background(`chrome.permissions.remove({ origins: ['<all_urls>'] })`);
      expect(await b.background(`chrome.permissions.contains({ origins: ['<all_urls>'] })`)).toBe(false);
      // Loaded without access: no content script, no button.
      await page.reload();
      await page.waitFor(`document.querySelector('video')?.readyState >= 1`);
      expect((await page.button()).state).toBe(null);
      const options = await b.openExtensionPage('options.html');
      await until(() => options.attribute('[data-testid=site-access]', 'data-granted'), (g) => g === 'false', 'the options page to ask for site access');
      expect(await options.text('[data-testid=site-access]')).toMatch(/needs access to the sites you visit to find the videos/);
      await options.close();
      const popup = await b.openExtensionPage(`popup.html?tabId=${tabId}`);
      await until(() => popup.attribute('[data-testid=site-access]', 'data-granted'), (g) => g === 'false', 'the popup to ask for site access');
      await popup.screenshot(`${shots}/popup-site-access.png`, 410);
      await page.waitFor(`(window.loadedBeforeTheGrant = true)`);
      await popup.clickButton('Allow access to all sites', '[data-testid=site-access]');
      await until(() => b.background<boolean>(`chrome.permissions.contains({ origins: ['<all_urls>'] })`), (g) => g, 'access to be granted');
      await until(() => popup.count('[data-testid=site-access]'), (n) => n === 0, 'the popup to stop asking');
      // The tab was loaded again: its content script runs, the button is back, the video is listed.
      await page.waitFor(`!window.loadedBeforeTheGrant && !!document.querySelector('vidmux-download')`, 20_000);
      await until(() => popup.count('[data-testid=media-item]'), (n) => n === 1, 'the popup to list the video', 20_000);
      // The options page says it is granted, and how to take it back.
      const after = await b.openExtensionPage('options.html');
      await until(() => after.attribute('[data-testid=site-access]', 'data-granted'), (g) => g === 'true', 'the options page to say access is granted');
      await after.close();
      await popup.close();
      await page.close();
    });
  });
}
