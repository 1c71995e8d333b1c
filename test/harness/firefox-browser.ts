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
 * - Network: every http(s) request goes through a local proxy (./fake-host-proxy.ts) that reaches
 *   only the fakes given in `hosts` (at their real hostnames, trusted by a certificate override for
 *   exactly the test certificate) and refuses everything else; loopback stays direct.
 * - The parent process (Firefox's own, privileged JS) is reached through the same devtools
 *   connection: trusted clicks and screenshots of extension pages are made there.
 */
import { randomUUID, X509Certificate } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { firefoxProxyPrefs, startFakeHostProxy, type FakeHostProxy } from './fake-host-proxy';
import { parentProcessConsole, Rdp, watchAddon, type RdpTarget } from './firefox-rdp';
import type { DownloadRecord } from './extension-browser';
import type { TestTls } from './tls';

export const FIREFOX_EXTENSION_DIR = resolve(import.meta.dirname, '../../.output/firefox-mv3');
export const FIREFOX = process.env.FIREFOX_PATH ?? '/usr/bin/firefox-esr';
export const ADDON_ID = 'vidmux@vidmux.app';

/** An extension document (popup, options) shown in a tab, driven by script. */
export interface ExtensionDocument {
  url: string;
  tabId: number;
  /** Evaluates an expression in the page (awaited); return JSON.stringify(...) for objects. */
  evaluate<T = unknown>(expression: string): Promise<T>;
  /**
   * Clicks the first element matching `selector` with a trusted mouse click (`isTrusted`, and a
   * user gesture: what `permissions.request()` needs), selecting its tab first; resolves once the
   * element has seen the click. See {@link trustedClickInTab} for how.
   */
  trustedClick(selector: string): Promise<void>;
  /**
   * Resizes the tab's viewport (CSS px), e.g. 420 x 720 for a popup-sized page; it stays so until
   * the next call. Only this tab changes (the way WebDriver BiDi's setViewport does it).
   */
  setViewportSize(size: { width: number; height: number }): Promise<void>;
  /**
   * Writes a PNG of the page: its viewport, or the whole document with `fullPage`. `width` (and
   * `height`, default 720) resize the viewport first (see {@link setViewportSize}). The tab need
   * not be the selected one. See {@link snapshotTab} for how.
   */
  screenshot(path: string, opts?: { width?: number; height?: number; fullPage?: boolean }): Promise<void>;
  close(): Promise<void>;
}

export interface FirefoxExtensionBrowser {
  browser: Browser;
  /** moz-extension://<uuid> */
  origin: string;
  downloadDir: string;
  /** Evaluates an expression in the extension's background page (awaited, JSON round trip). */
  background<T = unknown>(expression: string): Promise<T>;
  /**
   * Evaluates an expression in Firefox's parent process, with system privileges (awaited, JSON
   * round trip): Services, BrowsingContext, the browser windows. For what no web API can do.
   */
  chrome<T = unknown>(expression: string): Promise<T>;
  /** The proxy all traffic goes through: what it tunnelled to the fakes, and what it refused. */
  proxy: FakeHostProxy;
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

export interface FirefoxLaunchOptions {
  headless?: boolean;
  downloadDir?: string;
  /**
   * Fakes at real hostnames: hostname -> port of a local https server (serving `tls`), reached as
   * https://<hostname>. Every other name is refused by the proxy (see ./fake-host-proxy.ts).
   */
  hosts?: Record<string, number>;
  /** The certificate the fakes in `hosts` serve (./tls.ts testTls()); required with `hosts`. */
  tls?: TestTls;
  /** More Firefox prefs (e.g. `extensions.webextOptionalPermissionPrompts: false`). */
  prefs?: Record<string, string | number | boolean>;
}

/**
 * A cert_override.txt that trusts exactly the test certificate (by its SHA-256 fingerprint) for
 * exactly `hostname:443` of each fake, as Firefox's "Accept the risk" button would: no other
 * certificate and no other host gains anything (unlike WebDriver's `acceptInsecureCerts`, which
 * turns off certificate checks for every site). Firefox 153 reads lines of
 * `host:port:<origin attributes>\t<hash OID>\t<fingerprint>\t` (the 4th field, a dbKey, may be
 * empty); the file is written before launch, so it holds from the first request.
 */
function certOverrides(hosts: string[], tls: TestTls): string {
  const fingerprint = new X509Certificate(tls.cert).fingerprint256;
  const lines = hosts.map((h) => `${h}:443:\tOID.2.16.840.1.101.3.4.2.1\t${fingerprint}\t`);
  return ['# PSM Certificate Override Settings file', '# This is a generated file!  Do not edit.', ...lines, ''].join('\n');
}

/** Starts Firefox with the extension from `.output/firefox-mv3` (run `npm run build:firefox` first). */
export async function launchFirefoxExtensionBrowser(opts: FirefoxLaunchOptions = {}): Promise<FirefoxExtensionBrowser> {
  const hosts = Object.fromEntries(Object.entries(opts.hosts ?? {}).map(([h, p]) => [h.toLowerCase(), p]));
  if (Object.keys(hosts).length && !opts.tls) throw new Error('launchFirefoxExtensionBrowser: `hosts` needs `tls` (the certificate the fakes serve)');
  const downloadDir = opts.downloadDir ?? mkdtempSync(join(tmpdir(), 'vidmux-ff-downloads-'));
  // Our own profile folder, so the certificate overrides are in it before Firefox starts
  // (puppeteer writes its prefs into it too, and leaves it: removed at close).
  const profile = mkdtempSync(join(tmpdir(), 'vidmux-ff-profile-'));
  if (opts.tls && Object.keys(hosts).length) writeFileSync(join(profile, 'cert_override.txt'), certOverrides(Object.keys(hosts), opts.tls));
  const proxy = await startFakeHostProxy(hosts);
  const uuid = randomUUID();
  const rdpPort = await freePort();
  let browser: Browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      protocol: 'webDriverBiDi',
      executablePath: FIREFOX,
      headless: opts.headless ?? true,
      defaultViewport: { width: 1100, height: 760 },
      userDataDir: profile,
      args: ['--start-debugger-server', String(rdpPort)],
      extraPrefsFirefox: {
        // Everything through the proxy: the fakes at their real names, nothing else off the machine.
        ...firefoxProxyPrefs(proxy.port),
        // www.youtube.com is on Firefox's built-in HSTS preload list and has built-in key pins: for
        // such a host Firefox ignores certificate overrides (HSTS) and refuses any other key (pins),
        // whatever cert_override.txt says. Both only matter for the fakes: no other host is
        // reachable through the proxy.
        'network.stricttransportsecurity.preloadlist': false,
        'security.cert_pinning.enforcement_level': 0,
        // The devtools server, for the extension's documents and the parent process; local and
        // without a prompt.
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
        // Notifications: headless Firefox has no system notification service, so each one would
        // close the moment it opens; Firefox's own alert window shows it, for as long as a user
        // would have it on screen.
        'alerts.useSystemBackend': false,
        'alerts.totalOpenTime': 600_000,
        ...opts.prefs,
      },
    });
  } catch (e) {
    await proxy.close();
    rmSync(profile, { recursive: true, force: true });
    throw e;
  }
  const cleanUp = async () => {
    await browser.close();
    await proxy.close();
    rmSync(profile, { recursive: true, force: true });
  };
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
    const evalJson = async <T>(consoleActor: string, expression: string): Promise<T> => {
      const text = (await r.evaluate(consoleActor, `JSON.stringify(await (${expression}))`)) as string | undefined;
      return (text === undefined ? undefined : JSON.parse(text)) as T;
    };
    const background = <T>(expression: string) => evalJson<T>(bgTarget.consoleActor, expression);
    const parentConsole = await parentProcessConsole(r);
    const chrome = <T>(expression: string) => evalJson<T>(parentConsole, expression);
    return {
      browser,
      origin,
      downloadDir,
      proxy,
      background,
      chrome,
      newPage: () => browser.newPage(),
      async openExtensionPage(path: string) {
        const url = `${origin}/${path}`;
        // A document of this tab, not of another tab showing the same URL.
        const before = new Set(targets.keys());
        const tabId = await background<number>(`browser.tabs.create({ url: ${JSON.stringify(url)} }).then((t) => t.id)`);
        const target = await until(url, () => [...targets.values()].find((t) => t.url === url && !before.has(t.actor)));
        const evaluate = <T>(expression: string) => evalJson<T>(target.consoleActor, expression);
        await until(`${url} to load`, async () => ((await evaluate<string>('document.readyState').catch(() => '')) === 'complete' ? true : undefined));
        const tab = { browsingContextId: target.browsingContextID, evaluate, chrome };
        const setViewportSize = (size: { width: number; height: number }) => setTabViewport(tab, size);
        return {
          url,
          tabId,
          evaluate,
          trustedClick: (selector: string) => trustedClickInTab(tab, selector),
          setViewportSize,
          async screenshot(path: string, o: { width?: number; height?: number; fullPage?: boolean } = {}) {
            if (o.width !== undefined || o.height !== undefined) {
              const now = await evaluate<{ width: number; height: number }>('({ width: innerWidth, height: innerHeight })');
              await setViewportSize({ width: o.width ?? now.width, height: o.height ?? 720 });
            }
            mkdirSync(dirname(path), { recursive: true });
            writeFileSync(path, await snapshotTab(tab, { fullPage: o.fullPage }));
          },
          close: () => background(`browser.tabs.remove(${tabId})`),
        };
      },
      async close() {
        r.close();
        await cleanUp();
      },
    };
  } catch (e) {
    rdp?.close();
    await cleanUp();
    throw e;
  }
}

/** A tab showing an extension document, as the parent-process helpers below need it. */
interface TabHandle {
  /** The document's BrowsingContext id (from its RDP target). */
  browsingContextId: number;
  /** Evaluates in the document (JSON round trip). */
  evaluate<T>(expression: string): Promise<T>;
  /** Evaluates in the parent process (JSON round trip). */
  chrome<T>(expression: string): Promise<T>;
}

/** Parent-process script: the tab's <browser> element and its window, as `el` and `win`. */
const browserOf = (browsingContextId: number) =>
  `const el = BrowsingContext.get(${browsingContextId}).top.embedderElement; const win = el.ownerDocument.defaultView;`;

/**
 * A trusted click on an element of an extension page.
 *
 * Why: Firefox grants `permissions.request()` (and other user-gesture APIs) only while a trusted
 * user event is handled ("May only request permissions from a user input handler"). Script
 * `element.click()` through the devtools console is untrusted, WebDriver BiDi cannot reach
 * moz-extension documents (so puppeteer's mouse cannot click there), and the page's own
 * `windowUtils` is chrome-only.
 *
 * How: the element's box is read in the page (scrolled into view first); then, in the parent
 * process, the tab is selected (and this waits until its panel is the one shown: tab switches are
 * asynchronous) and `window.synthesizeMouseEvent` (which replaced `windowUtils.sendMouseEvent` in
 * recent Firefox) sends mousemove, mousedown and mouseup to the browser window at the element's
 * point: Firefox routes them, as it does real input, to the extension's process, where they are
 * trusted events and count as user input. A tab just brought to the front drops such input until
 * it has painted (seen here: the first click lost, later ones fine), so pointer moves are sent
 * until the page reports one, and only then the button. A one-time capturing listener on the element proves the
 * click reached it (and was trusted); otherwise this throws.
 */
export async function trustedClickInTab(tab: TabHandle, selector: string): Promise<void> {
  const sel = JSON.stringify(selector);
  const point = await tab.evaluate<{ x: number; y: number } | string>(`(() => {
    const el = document.querySelector(${sel});
    if (!el) return 'no element matches ' + ${sel};
    el.scrollIntoView({ block: 'center', inline: 'center' });
    const r = el.getBoundingClientRect();
    if (!r.width || !r.height) return ${sel} + ' has no box';
    const x = r.left + r.width / 2, y = r.top + r.height / 2;
    const hit = document.elementFromPoint(x, y);
    if (!hit || !(hit === el || el.contains(hit))) return ${sel} + ' is covered at its centre by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing');
    globalThis.__vidmuxClick = new Promise((res) => el.addEventListener('click', (e) => res(e.isTrusted), { once: true, capture: true }));
    return { x, y };
  })()`);
  if (typeof point === 'string') throw new Error(`trustedClick: ${point}`);
  const shown = await tab.chrome<string | true>(`(async () => {
    ${browserOf(tab.browsingContextId)}
    const tab = win.gBrowser.getTabForBrowser(el);
    if (!tab) return 'no tab shows this document';
    win.focus();
    win.gBrowser.selectedTab = tab;
    const panel = win.gBrowser.getPanel(el);
    for (let i = 0; win.gBrowser.tabpanels.selectedPanel !== panel; i++) {
      if (i > 100) return 'the tab was not shown within 5 s';
      await new Promise((r) => win.setTimeout(r, 50));
    }
    const b = el.getBoundingClientRect();
    if (b.top + ${point.y} >= win.innerHeight || b.left + ${point.x} >= win.innerWidth) return 'the element lies outside the browser window (' + win.innerWidth + 'x' + win.innerHeight + '): a smaller viewport?';
    return true;
  })()`);
  if (shown !== true) throw new Error(`trustedClick ${selector}: ${shown}`);
  // A tab just brought to the front drops input until it has painted (a fixed wait is a guess):
  // pointer moves go first, until the page has seen one, then the button goes down and up.
  const mouse = (types: string[], dx = 0) =>
    tab.chrome<true>(`(() => {
      ${browserOf(tab.browsingContextId)}
      const b = el.getBoundingClientRect();
      const x = b.left + ${point.x + dx}, y = b.top + ${point.y};
      for (const type of ${JSON.stringify(types)}) win.synthesizeMouseEvent(type, x, y, { button: 0, buttons: type === 'mousedown' ? 1 : 0, clickCount: type === 'mousemove' ? 0 : 1 });
      return true;
    })()`);
  await tab.evaluate(`(() => { globalThis.__vidmuxMoved = false; document.addEventListener('mousemove', (e) => { if (e.isTrusted) globalThis.__vidmuxMoved = true; }, { capture: true, once: true }); return true; })()`);
  let probe = 0;
  await until('the page to see the pointer', async () => {
    await mouse(['mousemove'], probe++ % 2 ? -1 : 1); // a move each time: never the last point again
    return (await tab.evaluate<boolean>(`new Promise((r) => setTimeout(() => r(globalThis.__vidmuxMoved), 30))`)) ? true : undefined;
  }, 5_000);
  const sent = await mouse(['mousemove', 'mousedown', 'mouseup']);
  if (sent !== true) throw new Error(`trustedClick ${selector}: ${sent}`);
  const trusted = await tab.evaluate<boolean | 'timeout'>(`Promise.race([globalThis.__vidmuxClick, new Promise((r) => setTimeout(() => r('timeout'), 5000))])`);
  if (trusted !== true) throw new Error(`trustedClick ${selector}: ${trusted === 'timeout' ? 'the element saw no click' : 'the click was not trusted'}`);
}

/**
 * Resizes one tab's viewport the way WebDriver BiDi's `browsingContext.setViewport` does in
 * Firefox (which cannot be used here: BiDi hides extension tabs): a fixed CSS size on the tab's
 * <browser> element, pushed to the content process at once, then waiting until the page sees it.
 * The browser window grows when the viewport would not fit in it (headless it is 1366 x 768, with
 * 86 px of toolbars): a page may be larger than its window, but its part outside the window gets
 * no mouse input.
 */
export async function setTabViewport(tab: TabHandle, size: { width: number; height: number }): Promise<void> {
  await tab.chrome(`(() => {
    ${browserOf(tab.browsingContextId)}
    el.style.setProperty('width', '${size.width}px');
    el.style.setProperty('height', '${size.height}px');
    // The window grows if the viewport would not fit in it (the part outside gets no input).
    const b = el.getBoundingClientRect();
    const w = Math.max(win.outerWidth, Math.ceil(b.left + ${size.width}) + win.outerWidth - win.innerWidth);
    const h = Math.max(win.outerHeight, Math.ceil(b.top + ${size.height}) + win.outerHeight - win.innerHeight);
    if (w !== win.outerWidth || h !== win.outerHeight) win.resizeTo(w, h);
    el.ownerDocument.synchronouslyUpdateRemoteBrowserDimensions(true);
    return true;
  })()`);
  await until(`the viewport to be ${size.width}x${size.height}`, async () =>
    (await tab.evaluate<boolean>(`innerWidth === ${size.width} && innerHeight === ${size.height}`)) ? true : undefined,
  );
}

/**
 * A PNG of an extension page. `browser.tabs.captureVisibleTab` works too, but only for the
 * selected tab and only while the extension holds `<all_urls>` (which permission tests remove);
 * this draws the document itself from the parent process, as WebDriver BiDi's screenshots do:
 * `WindowGlobalParent.drawSnapshot(rect, scale, background)` renders the rect (the viewport, or
 * the whole document) of any tab, selected or not, to an ImageBitmap, which a canvas of the browser
 * window encodes as PNG.
 */
export async function snapshotTab(tab: TabHandle, opts: { fullPage?: boolean } = {}): Promise<Buffer> {
  const box = await tab.evaluate<{ x: number; y: number; width: number; height: number }>(
    opts.fullPage
      ? `({ x: 0, y: 0, width: document.documentElement.scrollWidth, height: document.documentElement.scrollHeight })`
      : `({ x: scrollX, y: scrollY, width: innerWidth, height: innerHeight })`,
  );
  const dataUrl = await tab.chrome<string>(`(async () => {
    ${browserOf(tab.browsingContextId)}
    const wg = BrowsingContext.get(${tab.browsingContextId}).currentWindowGlobal;
    const bitmap = await wg.drawSnapshot(new win.DOMRect(${box.x}, ${box.y}, ${box.width}, ${box.height}), 1, 'white');
    const canvas = win.document.createElementNS('http://www.w3.org/1999/xhtml', 'canvas');
    canvas.width = bitmap.width;
    canvas.height = bitmap.height;
    canvas.getContext('2d').drawImage(bitmap, 0, 0);
    bitmap.close();
    return canvas.toDataURL('image/png');
  })()`);
  return Buffer.from(dataUrl.slice(dataUrl.indexOf(',') + 1), 'base64');
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

/**
 * Clicks the Vidmux button with a real (trusted) mouse click: the one over the page's first video
 * (shown on hover, so the pointer goes there first), or on YouTube its Download (the left part of
 * the split button in the row under the player).
 */
export async function clickVidmuxButton(page: Page): Promise<void> {
  const youtube = await page.$('vidmux-youtube-download');
  if (youtube) {
    const box = await youtube.boundingBox();
    if (!box) throw new Error('The Vidmux button has no box');
    await page.mouse.click(box.x + 24, box.y + box.height / 2);
    return;
  }
  const video = await page.waitForSelector('video');
  const vbox = await video!.boundingBox();
  if (!vbox) throw new Error('The video has no box');
  await page.mouse.move(vbox.x + vbox.width / 2, vbox.y + vbox.height / 2);
  await page.waitForFunction(() => document.querySelector('vidmux-download')?.getAttribute('data-shown') === 'true', { timeout: 15_000 });
  const box = await (await page.$('vidmux-download'))!.boundingBox();
  if (!box) throw new Error('The Vidmux button has no box');
  await page.mouse.click(box.x + box.width / 2, box.y + box.height / 2);
}
