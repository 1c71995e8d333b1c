/**
 * What a web page can learn from Vidmux, and what it can make Vidmux do:
 * - A page never learns the extension's id: not from a `message` event (WXT's start announcement
 *   is dropped), an event it can name, a DOM change, its markup or its resource timing, through a
 *   whole download started from its button.
 * - A page on a public address cannot make Vidmux fetch a local one: the job fails saying so, and
 *   the popup's "Allow <site> to use local addresses and retry" makes it work.
 */
import { mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { demoMedia } from '../fakes/demo-media';
import { startDemoSite, type DemoSite } from '../fakes/demo-site';
import { clickVidmuxButton, downloadFrom, launchExtensionBrowser, tabIdOf, type ExtensionBrowser } from '../harness/extension-browser';

const SHOTS = resolve(import.meta.dirname, '../../test-results/screenshots');
/** A name that looks public; the browser resolves it to 127.0.0.1 (the page's server). */
const PUBLIC_HOST = 'public.example';

let site: DemoSite;
let pages: Server;
let pagesPort: number;
let browser: ExtensionBrowser;

/**
 * Records, from before any content script runs, everything a page can see: every `message` event,
 * every event of a type it can name (each `on…` handler of window, document and elements), every
 * DOM change (attributes, nodes, text).
 */
const SPY = `(() => {
  const seen = (window.seen = []);
  const text = (v) => { try { return typeof v === 'string' ? v : JSON.stringify(v); } catch { return String(v); } };
  const note = (what, v) => seen.push(what + ' ' + text(v));
  addEventListener('message', (e) => note('message', { data: e.data, origin: e.origin, source: e.source === window }), true);
  const types = new Set();
  for (const o of [window, Document.prototype, HTMLElement.prototype, HTMLMediaElement.prototype, Element.prototype]) {
    for (let p = o; p; p = Object.getPrototypeOf(p)) for (const k of Object.getOwnPropertyNames(p)) if (k.startsWith('on')) types.add(k.slice(2));
  }
  for (const t of types) {
    const rec = (e) => note('event', { type: e.type, detail: e.detail, data: e.data, target: e.target && e.target.nodeName });
    window.addEventListener(t, rec, true);
    document.addEventListener(t, rec, true);
  }
  new MutationObserver((records) => {
    for (const r of records) {
      note('mutation', {
        type: r.type,
        target: r.target.nodeName,
        attribute: r.attributeName,
        value: r.attributeName && r.target.getAttribute ? r.target.getAttribute(r.attributeName) : null,
        added: [...r.addedNodes].map((n) => n.outerHTML || n.textContent),
        text: r.type === 'characterData' ? r.target.data : null,
      });
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, characterData: true, attributeOldValue: true });
  window.postMessage({ type: 'the page itself' }, '*');
})();`;

const html = (body: string, script = '') => `<!doctype html><html><head><meta charset="utf-8"><title>Privacy check</title>${script ? `<script>${script}</script>` : ''}</head><body>${body}</body></html>`;

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  const media = await demoMedia();
  site = await startDemoSite(media.files);
  const video = `${site.url}/media/sample.mp4`;
  pages = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    const body =
      path === '/spy.html'
        ? html(`<h1>Spy</h1><video src="${video}" controls preload="metadata" width="640" height="360"></video>`, SPY)
        : path === '/watch/local-video.html'
          ? html(`<h1>A public page with a video on this computer</h1><video src="${video}" controls preload="metadata" width="640" height="360"></video>`)
          : null;
    res.writeHead(body ? 200 : 404, { 'content-type': 'text/html; charset=utf-8' });
    res.end(body ?? 'not found');
  });
  await new Promise<void>((done) => pages.listen(0, '127.0.0.1', done));
  pagesPort = (pages.address() as AddressInfo).port;
  browser = await launchExtensionBrowser({
    // The public-looking name goes to the page server; nothing else resolves (tests never reach out).
    extraArgs: [`--host-resolver-rules=MAP ${PUBLIC_HOST} 127.0.0.1, MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1`],
  });
});

afterAll(async () => {
  await browser?.close();
  await site?.close();
  await new Promise((done) => pages?.close(done));
});

describe('a web page never learns the extension’s id', () => {
  it('from any message, event, DOM change, markup or resource entry, through a whole download', async () => {
    const id = browser.extensionId;
    expect(id).toMatch(/^[a-p]{32}$/);
    const page = await browser.context.newPage();
    const url = `http://127.0.0.1:${pagesPort}/spy.html`;
    await page.goto(url);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    await expect.poll(() => page.locator('vidmux-download').count()).toBe(1);

    // The content script at work: a download from its button, and an in-page navigation it follows.
    const done = await downloadFrom(browser, () => clickVidmuxButton(page));
    expect(done.state).toBe('complete');
    await page.evaluate(() => history.pushState({}, '', '?moved=1'));
    await page.waitForTimeout(1500); // WXT's location watcher ticks every second

    const seen = await page.evaluate(() => ({
      seen: (window as unknown as { seen: string[] }).seen,
      markup: document.documentElement.outerHTML,
      resources: performance.getEntries().map((e) => e.name),
      globals: Object.keys(window),
    }));
    // The spy works: it heard the page's own message, and saw the button's host come and change.
    expect(seen.seen).toContainEqual(expect.stringContaining('the page itself'));
    expect(seen.seen.some((s) => s.startsWith('mutation') && s.includes('VIDMUX-DOWNLOAD'))).toBe(true);
    expect(seen.seen.some((s) => s.startsWith('mutation') && s.includes('"attribute":"data-'))).toBe(true);
    const everything = [...seen.seen, seen.markup, ...seen.resources, ...seen.globals];
    expect(everything.filter((s) => s.includes(id) || s.includes('chrome-extension://') || s.includes('wxt:'))).toEqual([]);
    // Nor where the user's downloads go (a saved file's path tells the page the user's folders).
    await expect.poll(() => page.locator('vidmux-download').getAttribute('title')).toMatch(/^Saved: [^/\\]+\.mp4$/);
    expect([...everything, (await page.content())].filter((s) => s.includes(browser.downloadDir))).toEqual([]);
    await page.close();
  });
});

describe('a page on the internet cannot make Vidmux fetch a local address', () => {
  it('the job fails saying why; “Allow <site> … and retry” saves it; the options page lists the site and removes it', async () => {
    const page = await browser.context.newPage();
    const url = `http://${PUBLIC_HOST}:${pagesPort}/watch/local-video.html`;
    await page.goto(url);
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    const popup = await browser.openExtensionPage(`popup.html?tabId=${await tabIdOf(browser, url)}`);
    const jobs = popup.getByTestId('job-item');
    const local = new URL(site.url).host;

    await clickVidmuxButton(page);
    await expect.poll(() => jobs.first().getAttribute('data-stage'), { timeout: 15_000 }).toBe('failed');
    expect(await jobs.first().textContent()).toContain(`Failed: ${PUBLIC_HOST} asks for ${local}, an address of this computer`);

    await popup.screenshot({ path: `${SHOTS}/popup-local-address.png` });
    const allow = jobs.first().getByRole('button', { name: `Allow ${PUBLIC_HOST} to use local addresses and retry` });
    const done = await downloadFrom(browser, () => allow.click());
    expect(done.state).toBe('complete');
    await expect.poll(() => jobs.count()).toBe(2);
    await expect.poll(() => jobs.first().getAttribute('data-stage'), { timeout: 15_000 }).toBe('done');

    const options = await browser.openExtensionPage('options.html');
    await expect.poll(() => options.getByTestId('private-network-site').allTextContents()).toEqual([`${PUBLIC_HOST}Remove`]);
    await options.getByRole('heading', { name: 'Local addresses' }).scrollIntoViewIfNeeded();
    await options.screenshot({ path: `${SHOTS}/options-local-addresses.png` });
    await options.getByRole('button', { name: `Remove ${PUBLIC_HOST}` }).click();
    await expect.poll(() => options.getByTestId('private-network-none').count()).toBe(1);
    // A site can be added by hand too (a pasted address gives its host name), and removed.
    const input = options.getByLabel('Site to allow local addresses');
    await input.fill('not a site');
    await options.getByRole('button', { name: 'Allow', exact: true }).click();
    await expect.poll(() => options.getByRole('alert').textContent()).toContain('is not a site name');
    await input.fill('https://Videos.Example.com:8443/watch');
    await options.getByRole('button', { name: 'Allow', exact: true }).click();
    await expect.poll(() => options.getByTestId('private-network-site').allTextContents()).toEqual(['videos.example.comRemove']);
    await options.getByRole('button', { name: 'Remove videos.example.com' }).click();
    await expect.poll(() => options.getByTestId('private-network-none').count()).toBe(1);

    // Removed: refused again.
    await page.reload();
    await page.waitForFunction(() => (document.querySelector('video') as HTMLVideoElement).readyState >= 1);
    await clickVidmuxButton(page);
    await expect.poll(() => jobs.count(), { timeout: 15_000 }).toBe(3);
    await expect.poll(() => jobs.first().getAttribute('data-stage'), { timeout: 15_000 }).toBe('failed');
    await Promise.all([options.close(), popup.close(), page.close()]);
  });
});
