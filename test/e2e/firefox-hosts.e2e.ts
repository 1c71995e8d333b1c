/**
 * The Firefox harness's reach (test/harness/firefox-browser.ts), proven in Firefox ESR: the
 * providers' fakes at their real hostnames (through the harness's proxy, trusting exactly the test
 * certificate) for the background page and for web pages, and no other host at all; trusted clicks
 * in extension pages (what `permissions.request()` needs); screenshots of extension pages and of
 * web page regions. Skipped where Firefox ESR is not installed; run `npm run build:firefox` first.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { inflateSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia } from '../fakes/demo-media';
import { startDemoSite, type DemoSite } from '../fakes/demo-site';
import { startVidPickrFake, VIDPICKR_TEST_KEY, type VidPickrFake } from '../fakes/vidpickr-server';
import { FAKE_VIDEOS, startFakeYouTube, type FakeYouTube } from '../fakes/youtube-site';
import { FIREFOX, launchFirefoxExtensionBrowser, tabIdOf, type FirefoxExtensionBrowser } from '../harness/firefox-browser';
import { testTls } from '../harness/tls';

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
let vidpickr: VidPickrFake;
let youtube: FakeYouTube;
let site: DemoSite;
let browser: FirefoxExtensionBrowser;
let fakes: Record<string, number>;

/** A PNG's size and how many distinct colours it has (8-bit RGB/RGBA, not interlaced: what Firefox writes). */
function pngStats(path: string): { width: number; height: number; colors: number } {
  const png = readFileSync(path);
  expect(png.subarray(1, 4).toString()).toBe('PNG');
  let width = 0;
  let height = 0;
  let channels = 4;
  const idat: Buffer[] = [];
  for (let at = 8; at < png.length; ) {
    const len = png.readUInt32BE(at);
    const type = png.subarray(at + 4, at + 8).toString();
    const data = png.subarray(at + 8, at + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      expect(data[8]).toBe(8); // bit depth
      channels = data[9] === 6 ? 4 : data[9] === 2 ? 3 : 0;
      expect(channels).toBeGreaterThan(0);
      expect(data[12]).toBe(0); // not interlaced
    }
    if (type === 'IDAT') idat.push(data);
    at += 12 + len;
  }
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * channels;
  const prev = Buffer.alloc(stride);
  const row = Buffer.alloc(stride);
  const colors = new Set<number>();
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)]!;
    const line = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= channels ? row[i - channels]! : 0;
      const b = prev[i]!;
      const c = i >= channels ? prev[i - channels]! : 0;
      const p = a + b - c;
      const paeth = Math.abs(p - a) <= Math.abs(p - b) && Math.abs(p - a) <= Math.abs(p - c) ? a : Math.abs(p - b) <= Math.abs(p - c) ? b : c;
      const predictor = [0, a, b, (a + b) >> 1, paeth][filter]!;
      row[i] = (line[i]! + predictor) & 0xff;
    }
    for (let x = 0; x < width; x++) colors.add(row.readUIntBE(x * channels, 3));
    row.copy(prev);
  }
  return { width, height, colors: colors.size };
}

describe.skipIf(!existsSync(FIREFOX))('Firefox ESR harness: fake hosts, trusted clicks, screenshots', () => {
  beforeAll(async () => {
    mkdirSync(SHOTS, { recursive: true });
    const tls = testTls();
    vidpickr = await startVidPickrFake({ tls, hostname: 'api.vidpickr.com' });
    youtube = await startFakeYouTube({ tls });
    site = await startDemoSite((await demoMedia()).files);
    fakes = { 'api.vidpickr.com': Number(new URL(vidpickr.url).port), 'www.youtube.com': youtube.port };
    const t0 = Date.now();
    browser = await launchFirefoxExtensionBrowser({
      hosts: fakes,
      tls,
      // No doorhanger for optional permissions: a request made in a user gesture is granted.
      prefs: { 'extensions.webextOptionalPermissionPrompts': false },
    });
    console.log(`Firefox up in ${Date.now() - t0} ms`);
  });
  afterAll(async () => {
    await browser?.close();
    await Promise.all([vidpickr?.close(), youtube?.close(), site?.close()]);
  });

  it('the background page reaches the VidPickr fake at https://api.vidpickr.com, and no other host', async () => {
    const info = `https://api.vidpickr.com/v1/info?url=${encodeURIComponent(`https://www.youtube.com/watch?v=${FAKE_VIDEOS[0]!.id}`)}`;
    const fetchIn = (url: string, headers: Record<string, string> = {}) =>
      browser.background<{ status?: number; body?: string; error?: string }>(
        `fetch(${JSON.stringify(url)}, { headers: ${JSON.stringify(headers)} }).then(async (r) => ({ status: r.status, body: await r.text() }), (e) => ({ error: String(e) }))`,
      );
    const got = await fetchIn(info, { 'X-API-Key': VIDPICKR_TEST_KEY });
    expect(got.status).toBe(200);
    expect(JSON.parse(got.body!).title).toBe('Never Gonna Give You Up');
    expect(vidpickr.requests.some((r) => r.endpoint === 'info' && r.apiKey === VIDPICKR_TEST_KEY && r.status === 200)).toBe(true);

    // Anything else fails, and was refused by the proxy (never looked up, never reached).
    for (const url of ['https://example.com/', 'http://example.com/', 'https://api.vidpickr.com:8443/v1/info']) {
      expect((await fetchIn(url)).error, url).toMatch(/NetworkError/);
    }
    expect(browser.proxy.refused.some((r) => r.host === 'example.com')).toBe(true);
    expect(browser.proxy.refused.some((r) => r.host === 'api.vidpickr.com' && r.port === 8443)).toBe(true);
    expect(browser.proxy.tunnelled.every((r) => r.host in fakes && r.port === 443)).toBe(true);
  });

  it('the product’s own key check goes through the fake too (options page: save the key, Test)', async () => {
    const options = await browser.openExtensionPage('options.html');
    const card = `document.querySelector('[data-testid=provider-vidpickr]')`;
    await expect.poll(() => options.evaluate(`!!${card}`)).toBe(true);
    await options.evaluate(`(() => {
      const input = ${card}.querySelector('input');
      Object.getOwnPropertyDescriptor(HTMLInputElement.prototype, 'value').set.call(input, ${JSON.stringify(VIDPICKR_TEST_KEY)});
      input.dispatchEvent(new Event('input', { bubbles: true }));
      [...${card}.querySelectorAll('button')].find((b) => b.textContent === 'Save').click();
      return true;
    })()`);
    await expect.poll(() => options.evaluate(`${card}.querySelector('[data-testid=masked-key]').textContent`)).toBe(`vpk_live_...${VIDPICKR_TEST_KEY.slice(-4)}`);
    await options.evaluate(`[...${card}.querySelectorAll('button')].find((b) => b.textContent === 'Test').click()`);
    await expect.poll(() => options.evaluate(`${card}.querySelector('[data-testid=key-status]').textContent`), { timeout: 20_000 }).toMatch(/^Works: /);
    const shot = `${SHOTS}/firefox-options.png`;
    await options.screenshot(shot, { width: 800, fullPage: true });
    expect(await options.evaluate('innerWidth')).toBe(800);
    const stats = pngStats(shot);
    expect(stats.width).toBeGreaterThan(760); // the document's width: 800 less the scroll bar
    expect(stats.height).toBeGreaterThan(720);
    expect(stats.colors).toBeGreaterThan(16);
    await options.close();
  });

  it('a web page at https://www.youtube.com loads from the fake YouTube, with the Vidmux button; the popup lists its formats (screenshot at 420 px)', async () => {
    const video = FAKE_VIDEOS[0]!;
    const page = await browser.newPage();
    await page.goto(`https://www.youtube.com/watch?v=${video.id}`);
    expect(await page.title()).toBe(`${video.title} - YouTube`);
    await page.waitForSelector('vidmux-youtube-download', { timeout: 15_000 });
    // The page cannot reach other hosts either.
    expect(await page.evaluate(() => fetch('https://example.com/').then(() => 'reached', (e) => String(e)))).toMatch(/NetworkError/);

    const t0 = Date.now();
    const popup = await browser.openExtensionPage(`popup.html?tabId=${await tabIdOf(browser, page.url())}`);
    await popup.setViewportSize({ width: 420, height: 720 });
    await expect.poll(() => popup.evaluate(`document.querySelector('[data-testid=format-picker]')?.textContent ?? ''`), { timeout: 20_000 }).toContain('Never Gonna Give You Up');
    const shot = `${SHOTS}/firefox-popup-picker.png`;
    await popup.screenshot(shot);
    console.log(`popup screenshot in ${Date.now() - t0} ms (page open to PNG)`);
    const stats = pngStats(shot);
    expect([stats.width, stats.height]).toEqual([420, 720]);
    expect(stats.colors).toBeGreaterThan(16);
    await popup.close();
    await page.close();
  });

  it('a web page region: the Vidmux button over the video (puppeteer screenshot with a clip)', async () => {
    const page = await browser.newPage();
    await page.goto(`${site.url}/watch/plain.html`);
    const video = await page.waitForSelector('video');
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 2);
    const box = (await video!.boundingBox())!;
    await page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await page.waitForFunction(() => document.querySelector('vidmux-download')?.getAttribute('data-shown') === 'true', { timeout: 15_000 });
    await new Promise((r) => setTimeout(r, 400)); // its fade-in
    const shot = `${SHOTS}/firefox-video-button.png`;
    await page.screenshot({ path: shot, clip: box });
    const stats = pngStats(shot);
    expect([stats.width, stats.height]).toEqual([Math.round(box.width), Math.round(box.height)]);
    expect(stats.colors).toBeGreaterThan(16);
    await page.close();
  });

  it('a trusted click in an extension page grants an optional permission; a script click does not', async () => {
    const has = () => browser.background<boolean>(`browser.permissions.contains({ origins: ['<all_urls>'] })`);
    expect(await browser.background(`browser.permissions.remove({ origins: ['<all_urls>'] })`)).toBe(true);
    expect(await has()).toBe(false);

    const options = await browser.openExtensionPage('options.html');
    await options.evaluate(`(() => {
      const b = document.createElement('button');
      b.id = 'grant';
      b.textContent = 'Grant access to all sites';
      window.__grants = [];
      b.addEventListener('click', () => browser.permissions.request({ origins: ['<all_urls>'] }).then((g) => window.__grants.push(g), (e) => window.__grants.push(e.message)));
      document.body.append(b);
      return true;
    })()`);
    // A web page in front, as in a real session: the click selects the extension's tab first.
    const page = await browser.newPage();
    await page.bringToFront();

    await options.evaluate(`document.getElementById('grant').click()`);
    await expect.poll(() => options.evaluate<string>(`JSON.stringify(window.__grants)`)).toMatch(/user input handler/);
    expect(await has()).toBe(false);

    const t0 = Date.now();
    await options.trustedClick('#grant');
    await expect.poll(() => options.evaluate<string>(`JSON.stringify(window.__grants)`)).toMatch(/true/);
    console.log(`trusted click to permission granted in ${Date.now() - t0} ms`);
    expect(await has()).toBe(true);
    await options.close();
    await page.close();
  });

  it('nothing meant for a fake was refused', () => {
    expect(browser.proxy.refused.filter((r) => r.host in fakes && r.port === 443)).toEqual([]);
  });
});
