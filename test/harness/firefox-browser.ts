/**
 * Launches Debian's Firefox ESR with the built extension (.output/firefox-mv3), headless, with no
 * browser or driver downloaded: puppeteer-core drives the browser over WebDriver BiDi (web pages,
 * real mouse input), and the devtools Remote Debugging Protocol (./firefox-rdp.ts) reaches the
 * extension's own documents, which BiDi does not show (Bug 1755014).
 *
 * - Extension: installed as a temporary add-on (`browser.installExtension`, BiDi webExtension.install).
 *   Its host permissions (`<all_urls>`) are granted at that install: nothing to set.
 * - Its moz-extension:// UUID is pinned by a pref, so its origin is known before launch.
 * - Extension pages (popup, options) are opened by the background (`tabs.create`) and driven by
 *   script through RDP; they cannot be puppeteer Pages (their tabs show as about:blank there).
 * - Downloads land in `downloadDir` under their own names (prefs below).
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { Rdp, watchAddon, type RdpTarget } from './firefox-rdp';
import type { DownloadRecord } from './extension-browser';

export const FIREFOX_EXTENSION_DIR = resolve(import.meta.dirname, '../../.output/firefox-mv3');
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const ADDON_ID = 'vidmux@vidmux.app';

/** An extension document (popup, options) shown in a tab, driven by script. */
export interface ExtensionDocument {
  url: string;
  tabId: number;
  /** Evaluates an expression in the page (awaited); return JSON.stringify(...) for objects. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  close(): Promise<void>;
}

export interface FirefoxExtensionBrowser {
  browser: Browser;
  /** moz-extension://<uuid> */
  origin: string;
  downloadDir: string;
  /** Evaluates an expression in the extension's background page (awaited, JSON round trip). */
  background<T = unknown>(expression: string): Promise<T>;
  newPage(): Promise<Page>;
  /** Opens an extension page (e.g. "popup.html?tabId=3") in a new tab. */
  openExtensionPage(path: string): Promise<ExtensionDocument>;
  close(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => res(port));
    });
  });
}

async function until<T>(what: string, f: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Starts Firefox with the extension from `.output/firefox-mv3` (run `npm run build:firefox` first). */
export async function launchFirefoxExtensionBrowser(opts: { headless?: boolean; downloadDir?: string } = {}): Promise<FirefoxExtensionBrowser> {
  const downloadDir = opts.downloadDir ?? mkdtempSync(join(tmpdir(), 'vidmux-ff-downloads-'));
  const uuid = randomUUID();
  const rdpPort = await freePort();
  const browser = await puppeteer.launch({
    browser: 'firefox',
    protocol: 'webDriverBiDi',
    executablePath: FIREFOX,
    headless: opts.headless ?? true,
    defaultViewport: { width: 1100, height: 760 },
    args: ['--start-debugger-server', String(rdpPort)],
    extraPrefsFirefox: {
      // The devtools server, for the extension's documents; local and without a prompt.
      'devtools.debugger.remote-enabled': true,
      'devtools.chrome.enabled': true,
      'devtools.debugger.prompt-connection': false,
      // The extension's origin, known in advance.
      'extensions.webextensions.uuids': JSON.stringify({ [ADDON_ID]: uuid }),
      // Downloads: straight into downloadDir, under their own names, never a dialog.
      'browser.download.dir': downloadDir,
      'browser.download.folderList': 2,
      'browser.download.useDownloadDir': true,
      'browser.download.always_ask_before_handling_new_types': false,
      'browser.download.start_downloads_in_tmp_dir': false,
      'media.autoplay.default': 0,
    },
  });
  let rdp: Rdp | undefined;
  try {
    const id = await browser.installExtension(FIREFOX_EXTENSION_DIR);
    if (id !== ADDON_ID) throw new Error(`Installed ${id}, expected ${ADDON_ID}`);
    rdp = await Rdp.open(rdpPort);
    const r = rdp;
    const { targets, manifestURL } = await watchAddon(r, ADDON_ID);
    const origin = `moz-extension://${uuid}`;
    if (!manifestURL.startsWith(origin)) throw new Error(`The UUID pref was not honoured: ${manifestURL}`);
    const find = (url: string) => [...targets.values()].find((t) => t.url === url);
    const bgTarget = await until('the background page', () => find(`${origin}/_generated_background_page.html`));
    const evalJson = async <T>(t: RdpTarget, expression: string): Promise<T> => {
      const text = (await r.evaluate(t.consoleActor, `JSON.stringify(await (${expression}))`)) as string | undefined;
      return (text === undefined ? undefined : JSON.parse(text)) as T;
    };
    const background = <T>(expression: string) => evalJson<T>(bgTarget, expression);
    return {
      browser,
      origin,
      downloadDir,
      background,
      newPage: () => browser.newPage(),
      async openExtensionPage(path: string) {
        const url = `${origin}/${path}`;
        const tabId = await background<number>(`browser.tabs.create({ url: ${JSON.stringify(url)} }).then((t) => t.id)`);
        const target = await until(url, () => find(url));
        await until(`${url} to load`, async () => ((await evalJson<string>(target, 'document.readyState').catch(() => '')) === 'complete' ? true : undefined));
        return {
          url,
          tabId,
          evaluate: <T>(expression: string) => evalJson<T>(target, expression),
          close: () => background(`browser.tabs.remove(${tabId})`),
        };
      },
      async close() {
        r.close();
        await browser.close();
      },
    };
  } catch (e) {
    rdp?.close();
    await browser.close();
    throw e;
  }
}

/** The browser's download list, read in the background page. */
export function listDownloads(b: FirefoxExtensionBrowser): Promise<DownloadRecord[]> {
  return b.background<DownloadRecord[]>(
    `browser.downloads.search({}).then((items) => items.map((d) => ({ id: d.id, state: d.state, filename: d.filename, bytesReceived: d.bytesReceived, totalBytes: d.totalBytes, error: d.error, url: d.url })))`,
  );
}

/** Waits until a download matching `match` ends; returns it (complete or interrupted). */
export async function waitForDownloadEnd(b: FirefoxExtensionBrowser, match: (d: DownloadRecord) => boolean, timeoutMs = 60_000): Promise<DownloadRecord> {
  return until('a download to end', async () => (await listDownloads(b)).find((d) => match(d) && d.state !== 'in_progress'), timeoutMs);
}

export async function downloadFrom(b: FirefoxExtensionBrowser, action: () => Promise<unknown>, timeoutMs = 60_000): Promise<DownloadRecord> {
  const before = new Set((await listDownloads(b)).map((d) => d.id));
  await action();
  return waitForDownloadEnd(b, (d) => !before.has(d.id), timeoutMs);
}

/** The tab id of a page, by its URL (the extension sees URLs through its host permissions). */
export async function tabIdOf(b: FirefoxExtensionBrowser, url: string): Promise<number> {
  const id = await b.background<number | null>(`browser.tabs.query({}).then((tabs) => tabs.find((t) => t.url === ${JSON.stringify(url)})?.id ?? null)`);
  if (id === null) throw new Error(`No tab with URL ${url}`);
  return id;
}

/** Clicks the Vidmux button over the page's first video with a real (trusted) mouse click. */
export async function clickVidmuxButton(page: Page): Promise<void> {
  const video = await page.waitForSelector('video');
  const vbox = await video!.boundingBox();
  if (!vbox) throw new Error('The video has no box');
  await page.mouse.move(vbox.x + vbox.width / 2, vbox.y + vbox.height / 2);
  await page.waitForFunction(() => document.querySelector('vidmux-download')?.getAttribute('data-shown') === 'true', { timeout: 15_000 });
  const box = await (await page.$('vidmux-download'))!.boundingBox();
  if (!box) throw new Error('The Vidmux button has no box');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}
